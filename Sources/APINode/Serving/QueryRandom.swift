import DeployerModel
import Synchronization

/// Random numbers for the query path (dispatch draws, request ids) without a system call per
/// query: SplitMix64 over a process-wide sequence seeded once from the system generator. Each
/// generator owns a disjoint run of 2^20 states, so no two queries share a value.
struct QueryRandom: RandomNumberGenerator {
    private static let seed: UInt64 = {
        var system = SystemRandomNumberGenerator()
        return system.next()
    }()
    private static let sequence = Atomic<UInt64>(0)

    private var generator: SplitMix64

    init() {
        let run = Self.sequence.wrappingAdd(1, ordering: .relaxed).oldValue
        generator = SplitMix64(seed: Self.seed &+ (run << 20) &* SplitMix64.golden)
    }

    mutating func next() -> UInt64 { generator.next() }
}
