import Foundation

/// Events waiting on disk for an event server that could not be reached, in the order they
/// were queued. Each spill writes segment files of one topic and routing key each
/// (`<sequence>+<topic>+<routingKey>.ndjson`, at most one batch of events) through a temporary
/// file, fsync and rename, so a crash leaves whole segments or none; a segment is removed only
/// after the event server acknowledged it. The total size is bounded: events that do not fit
/// are refused and the caller counts them as dropped.
struct EventSpool {
    struct Segment: Equatable {
        var sequence: Int
        var topic: String
        var routingKey: String
        var bytes: Int
        var url: URL
    }

    let directory: URL
    let limitBytes: Int
    private(set) var segments: [Segment] = []
    private(set) var totalBytes = 0

    /// Opens (or creates) the spool in `directory`, keeping the segments a previous run left.
    init(directory: URL, limitBytes: Int) throws {
        self.directory = directory
        self.limitBytes = limitBytes
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            let url = directory.appendingPathComponent(name)
            guard name.hasSuffix(".ndjson"), let segment = Self.segment(named: name, in: directory) else {
                if name.hasPrefix(".tmp-") { try? FileManager.default.removeItem(at: url) }
                continue
            }
            segments.append(segment)
        }
        segments.sort { $0.sequence < $1.sequence }
        totalBytes = segments.reduce(0) { $0 + $1.bytes }
    }

    var isEmpty: Bool { segments.isEmpty }

    /// Writes `events` (in order, cut into segments of at most `segmentEvents`); returns how
    /// many were refused because the spool is full.
    mutating func append(_ events: [ShippedEvent], segmentEvents: Int) throws -> Int {
        var refused = 0
        var start = events.startIndex
        while start < events.endIndex {
            let first = events[start]
            var end = start
            var size = 0
            while end < events.endIndex, end - start < segmentEvents, events[end].topic == first.topic, events[end].routingKey == first.routingKey {
                size += events[end].line.count + 1
                end += 1
            }
            if totalBytes + size > limitBytes {
                refused += end - start
            } else {
                try write(events[start..<end], topic: first.topic, routingKey: first.routingKey, size: size)
            }
            start = end
        }
        return refused
    }

    /// The oldest segment's body (NDJSON).
    func body(of segment: Segment) throws -> [UInt8] {
        Array(try Data(contentsOf: segment.url))
    }

    /// Removes the oldest segment (the event server has it, or it cannot be read). A file that
    /// cannot be deleted is sent again after a restart: delivery is at least once.
    mutating func removeOldest() {
        guard let oldest = segments.first else { return }
        try? FileManager.default.removeItem(at: oldest.url)
        segments.removeFirst()
        totalBytes -= oldest.bytes
    }

    private mutating func write(_ events: ArraySlice<ShippedEvent>, topic: String, routingKey: String, size: Int) throws {
        var body: [UInt8] = []
        body.reserveCapacity(size)
        for event in events {
            body += event.line
            body.append(UInt8(ascii: "\n"))
        }
        let sequence = (segments.last?.sequence ?? 0) + 1
        let url = directory.appendingPathComponent(String(format: "%012d", sequence) + "+\(topic)+\(routingKey).ndjson")
        let temporary = directory.appendingPathComponent(".tmp-\(sequence)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(body)) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        try Self.synchronize(temporary)
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        try Self.synchronize(directory)
        segments.append(Segment(sequence: sequence, topic: topic, routingKey: routingKey, bytes: body.count, url: url))
        totalBytes += body.count
    }

    private static func synchronize(_ url: URL) throws {
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
    }

    private static func segment(named name: String, in directory: URL) -> Segment? {
        let parts = name.dropLast(".ndjson".count).split(separator: "+", omittingEmptySubsequences: false)
        guard parts.count == 3, let sequence = Int(parts[0]) else { return nil }
        let url = directory.appendingPathComponent(name)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        return Segment(sequence: sequence, topic: String(parts[1]), routingKey: String(parts[2]), bytes: bytes, url: url)
    }
}
