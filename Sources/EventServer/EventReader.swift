import DeployerModel
import Foundation

/// Reads stored events back: the lines of the destinations' hour folders for a topic, routing
/// key and time range, in order, and optionally new ones as they are stored.
struct EventReader: Sendable {
    let root: URL

    /// How far back a read may start.
    static let maximumLookBack: TimeInterval = 90 * 24 * 3600

    /// Event files whose hour folders overlap `since...until`, in time order, each folder once.
    func files(destinations: [Destination], topic: String, routingKey: String, since: Date, until: Date) -> [URL] {
        var folders: [String] = []
        var seen = Set<String>()
        for destination in destinations {
            var hour = Date(timeIntervalSince1970: (since.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
            while hour <= until {
                let folder = destination.folder(topic: topic, routingKey: routingKey, date: hour)
                if seen.insert(folder).inserted { folders.append(folder) }
                hour += 3600
            }
        }
        return folders.flatMap { folder -> [URL] in
            let directory = root.appendingPathComponent(folder)
            let names = Set((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            // A file being compressed may briefly exist in both forms: the gzip is complete.
            let current = names.filter { EventFile.sequence(of: $0) != nil && !($0.hasSuffix(".jsonl") && names.contains($0 + ".gz")) }
            return current.sorted { EventFile.sequence(of: $0)! < EventFile.sequence(of: $1)! }.map { directory.appendingPathComponent($0) }
        }
    }

    /// The read position of a file that will not change any more.
    static let finished = Int.max

    /// The name a file's read position is kept under: the same for a file and its gzip, whose
    /// content is the same bytes.
    static func positionKey(_ file: URL) -> String {
        file.path.hasSuffix(".gz") ? String(file.path.dropLast(3)) : file.path
    }

    /// The whole lines of `file` (or its gzip) after `offset` stored within `since...until`
    /// (timestamps in the stored form), and the offset after the last whole line (`finished`
    /// for a gzip).
    static func lines(of file: URL, from offset: Int, since: String, until: String) throws -> (lines: [UInt8], offset: Int) {
        let bytes: [UInt8]
        if file.pathExtension == "gz" {
            bytes = Array(try EventFileCompressor.decompress(file.path).dropFirst(offset))
        } else {
            guard let handle = try? FileHandle(forReadingFrom: file) else { return ([], offset) }  // compressed meanwhile
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            bytes = [UInt8](try handle.readToEnd() ?? Data())
        }
        guard let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) else { return ([], file.pathExtension == "gz" ? Self.finished : offset) }
        var selected: [UInt8] = []
        var start = 0
        while start <= lastNewline {
            let end = bytes[start...lastNewline].firstIndex(of: UInt8(ascii: "\n"))!
            let line = bytes[start...end]
            if let stamp = EventEnvelope.timestamp(of: line), stamp >= since, stamp <= until { selected += line }
            start = end + 1
        }
        // A gzip never grows: once read it is done.
        return (selected, file.pathExtension == "gz" ? Self.finished : offset + lastNewline + 1)
    }

    /// `since`/`until`: a duration back from now (`90s`, `30m`, `1h`, `2d`) or an RFC 3339 time.
    static func time(_ text: String, now: Date, parameter: String) throws -> Date {
        if let unit = text.last, let amount = Double(text.dropLast()), amount >= 0,
            let seconds = ["s": 1.0, "m": 60, "h": 3600, "d": 86400][String(unit)]
        {
            return now.addingTimeInterval(-amount * seconds)
        }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        throw EventAccess.Refusal(
            status: 400, reason: "bad-request", message: "\(parameter) \"\(text)\": a duration back from now (90s, 30m, 1h, 2d) or an RFC 3339 time is expected")
    }
}
