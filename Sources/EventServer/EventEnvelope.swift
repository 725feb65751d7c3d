import DeployerModel
import Foundation

/// The stored form of an event, one line:
/// `{"clientEvent":EVENT,"origAddress":"10.0.0.7","serverTimestamp":"2026-11-28T15:05:09.250+0000"}`.
/// The server timestamp is written last, so readers find it without parsing the line.
enum EventEnvelope {
    /// A server timestamp in its stored form (fixed width: compares as text).
    static func timestamp(_ date: Date) -> String { MillisecondTimestamp.format(date, zone: "+0000") }

    /// What goes around each event that came from `origin` at `date`: its envelope line.
    static func framing(origin: String, date: Date) -> CompactJSON.Framing {
        CompactJSON.Framing(
            prefix: prefix,
            suffix: Array(",\"origAddress\":".utf8) + JSONValue.string(origin).serialized() + timestampMarker + Array("\(timestamp(date))\"}\n".utf8))
    }

    private static let prefix = Array("{\"clientEvent\":".utf8)
    private static let timestampMarker = Array(",\"serverTimestamp\":\"".utf8)
    private static let timestampWidth = 28

    /// The server timestamp of a stored line (with its newline); nil for a line of another form.
    static func timestamp(of line: ArraySlice<UInt8>) -> String? {
        let tail = 3  // `"}\n`
        guard line.count >= timestampMarker.count + timestampWidth + tail else { return nil }
        let start = line.endIndex - tail - timestampWidth - timestampMarker.count
        guard line[start..<(start + timestampMarker.count)].elementsEqual(timestampMarker) else { return nil }
        let stamp = start + timestampMarker.count
        return String(decoding: line[stamp..<(stamp + timestampWidth)], as: UTF8.self)
    }
}
