import Foundation

/// The persisted state of one service (`services/<id>/service.json`).
public struct ServiceRecord: Codable, Sendable, Equatable {
    public struct Generation: Codable, Sendable, Equatable {
        public var id: String
        public var created: Date
    }

    public var id: String
    public var enabled: Bool
    public var generations: [Generation]
    public var mapping: GenerationMapping?
    /// Pool tuning per endpoint id; endpoints not listed use the defaults.
    public var tuning: [String: EndpointTuning]?
    /// Where query events go; nil: the node's local query log.
    public var logging: QueryLogging?
    /// How callers authenticate; nil: public.
    public var auth: CallerAuth?

    public init(id: String) {
        self.id = id
        enabled = true
        generations = []
        mapping = nil
    }
}

/// Writes a file atomically (temporary file, fsync, rename), so a crash leaves the old or the new
/// content, never a torn one.
func writeAtomically(_ data: Data, to url: URL, permissions: Int = 0o644) throws {
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)")
    guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: permissions]) else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
    }
    let handle = try FileHandle(forUpdating: temporary)
    try handle.synchronize()
    try handle.close()
    guard rename(temporary.path, url.path) == 0 else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
    }
}

extension JSONEncoder {
    static let node: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }()
}

extension JSONDecoder {
    static let node: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
