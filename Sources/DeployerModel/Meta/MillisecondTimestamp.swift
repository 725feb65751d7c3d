import Foundation

/// RFC 3339 timestamps in UTC with milliseconds, written without a formatter (hot paths: query
/// logs, event envelopes).
public enum MillisecondTimestamp {
    /// E.g. `2026-11-28T17:05:09.042Z` with `zone: "Z"`, `…09.042+0000` with `zone: "+0000"`.
    public static func format(_ date: Date, zone: String) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds.floorDivided(by: 1000))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Written straight into the string's storage: 23 bytes and the zone.
        return String(unsafeUninitializedCapacity: 23 + zone.utf8.count) { text in
            var position = 0
            func put(_ byte: UInt8) {
                text[position] = byte
                position += 1
            }
            func digits(_ value: Int, _ count: Int) {
                var divisor = 1
                for _ in 1..<count { divisor *= 10 }
                while divisor > 0 {
                    put(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                    divisor /= 10
                }
            }
            digits(Int(parts.tm_year) + 1900, 4)
            put(UInt8(ascii: "-"))
            digits(Int(parts.tm_mon) + 1, 2)
            put(UInt8(ascii: "-"))
            digits(Int(parts.tm_mday), 2)
            put(UInt8(ascii: "T"))
            digits(Int(parts.tm_hour), 2)
            put(UInt8(ascii: ":"))
            digits(Int(parts.tm_min), 2)
            put(UInt8(ascii: ":"))
            digits(Int(parts.tm_sec), 2)
            put(UInt8(ascii: "."))
            digits(Int(milliseconds - milliseconds.floorDivided(by: 1000) * 1000), 3)
            for byte in zone.utf8 { put(byte) }
            return position
        }
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (dates before 1970 stay correct).
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
