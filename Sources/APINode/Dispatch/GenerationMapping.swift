import Crypto

/// Which generations of a service are active and how queries are split between them
/// (the admin API's `setMapping` body).
public struct GenerationMapping: Codable, Sendable, Equatable {
    public enum Strategy: String, Codable, Sendable {
        case random = "RANDOM"
        case hashBased = "HASH_BASED"
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var generation: String
        public var proba: Double

        public init(generation: String, proba: Double) {
            self.generation = generation
            self.proba = proba
        }
    }

    public var strategy: Strategy
    public var entries: [Entry]

    public init(strategy: Strategy = .random, entries: [Entry]) {
        self.strategy = strategy
        self.entries = entries
    }

    /// A mapping that sends everything to one generation.
    public static func single(_ generation: String) -> GenerationMapping {
        GenerationMapping(entries: [Entry(generation: generation, proba: 1)])
    }

    enum CodingKeys: String, CodingKey { case strategy, entries }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        strategy = try container.decodeIfPresent(Strategy.self, forKey: .strategy) ?? .random
        entries = try container.decode([Entry].self, forKey: .entries)
    }

    /// Checks the mapping against the generations a service has: every entry names an
    /// available generation once, probabilities are non-negative and add up to 1.
    public func validate(available: Set<String>) throws {
        guard !entries.isEmpty else { throw DispatchError.invalidMapping("a mapping needs at least one entry") }
        var seen = Set<String>()
        for entry in entries {
            guard available.contains(entry.generation) else {
                throw DispatchError.invalidMapping("generation \"\(entry.generation)\" is not available on this node")
            }
            guard seen.insert(entry.generation).inserted else {
                throw DispatchError.invalidMapping("generation \"\(entry.generation)\" appears twice")
            }
            guard entry.proba >= 0, entry.proba.isFinite else {
                throw DispatchError.invalidMapping("the probability of \"\(entry.generation)\" must be between 0 and 1")
            }
        }
        let total = entries.reduce(0) { $0 + $1.proba }
        guard abs(total - 1) < 1e-6 else { throw DispatchError.invalidMapping("probabilities add up to \(total), not 1") }
    }
}

/// Why a query could not be routed to a generation (answered 400).
public enum DispatchError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidMapping(String)
    case dispatchKeyRequired
    case unknownGeneration(String)
    case noActiveGeneration

    public var description: String {
        switch self {
        case .invalidMapping(let reason): "invalid mapping: \(reason)"
        case .dispatchKeyRequired: "this service is mapped by hash: give dispatch.dispatchKey"
        case .unknownGeneration(let generation): "generation \"\(generation)\" is not available"
        case .noActiveGeneration: "the service has no active generation"
        }
    }
}

/// Chooses a generation per query: `forcedGeneration` first, then by the mapping — a uniform
/// random draw, or a SHA-256 of the dispatch key (the same key always lands on the same
/// generation, on every node and across restarts).
public struct Dispatcher: Sendable {
    let mapping: GenerationMapping
    let cumulative: [Double]
    let available: Set<String>

    /// - Parameter available: generations that may be forced even if not mapped.
    public init(mapping: GenerationMapping, available: Set<String>) {
        self.mapping = mapping
        self.available = available
        var sum = 0.0
        cumulative = mapping.entries.map { entry in
            sum += entry.proba
            return sum
        }
    }

    public func choose(forcedGeneration: String?, dispatchKey: String?, using generator: inout some RandomNumberGenerator) throws -> String {
        if let forcedGeneration {
            guard available.contains(forcedGeneration) else { throw DispatchError.unknownGeneration(forcedGeneration) }
            return forcedGeneration
        }
        guard !mapping.entries.isEmpty else { throw DispatchError.noActiveGeneration }
        let point: Double
        switch mapping.strategy {
        case .random:
            point = Double.random(in: 0..<1, using: &generator)
        case .hashBased:
            guard let dispatchKey, !dispatchKey.isEmpty else { throw DispatchError.dispatchKeyRequired }
            point = Self.unitInterval(hashing: dispatchKey)
        }
        let total = cumulative.last ?? 1
        for (index, bound) in cumulative.enumerated() where point * total < bound && mapping.entries[index].proba > 0 {
            return mapping.entries[index].generation
        }
        return mapping.entries.last { $0.proba > 0 }?.generation ?? mapping.entries[0].generation
    }

    /// A stable point in [0, 1) from a key: the first 53 bits of its SHA-256.
    static func unitInterval(hashing key: String) -> Double {
        let digest = SHA256.hash(data: Array(key.utf8))
        var bits: UInt64 = 0
        for byte in digest.prefix(8) { bits = bits << 8 | UInt64(byte) }
        return Double(bits >> 11) / Double(UInt64(1) << 53)
    }
}
