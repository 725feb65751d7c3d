import DeployerModel
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
