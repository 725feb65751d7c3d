/// SplitMix64: a small, fast generator whose whole state is one counter. Deterministic from its
/// seed (tests replay a run from it); distinct states always give distinct outputs.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The increment between states (2^64 / φ, odd).
    public static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= Self.golden
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
