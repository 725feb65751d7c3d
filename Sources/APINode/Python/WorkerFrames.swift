import DeployerModel

/// The frames between the node and a Python worker: a 4-byte big-endian length, then a UTF-8
/// JSON object (see `python/apideployer/worker.py`).
struct WorkerFrames {
    /// Frames larger than this are a broken worker, not an answer.
    static let maximumBytes = 64 * 1024 * 1024
    private var pending: [UInt8] = []
    private var start = 0

    static func frame(_ message: JSONValue) -> [UInt8] {
        let payload = message.serialized(sortingKeys: false)
        let count = UInt32(payload.count)
        return [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + payload
    }

    /// Adds bytes read from the worker.
    mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0, start == pending.count {
            pending.removeAll(keepingCapacity: true)
            start = 0
        }
        pending.append(contentsOf: bytes)
    }

    /// The next complete frame's payload, if one has arrived.
    mutating func next() throws(WorkerProtocolError) -> [UInt8]? {
        guard pending.count - start >= 4 else { return nil }
        let length = pending[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
        guard length <= Self.maximumBytes else { throw WorkerProtocolError(message: "a frame of \(length) bytes") }
        guard pending.count - start - 4 >= length else { return nil }
        let payload = Array(pending[start + 4..<start + 4 + length])
        start += 4 + length
        return payload
    }
}

/// The worker wrote something that is not a frame of the protocol.
struct WorkerProtocolError: Error, CustomStringConvertible {
    let message: String
    var description: String { "the worker broke the protocol: \(message)" }
}
