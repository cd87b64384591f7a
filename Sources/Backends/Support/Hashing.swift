/// Deterministic, seedable hashing and randomness for the demo gateway and tests.
/// Not cryptographic: secrets use the system's CSPRNG.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A stable hash of a few parts, independent of the process (unlike `Hasher`).
public func stableHash(_ seed: UInt64, _ parts: [String], _ numbers: [Int64] = []) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
    for p in parts {
        for b in p.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        h = (h ^ 0xFF) &* 0x100_0000_01B3
    }
    for n in numbers { h = SplitMix64.mix(h ^ UInt64(bitPattern: n)) }
    return SplitMix64.mix(h)
}

/// A uniform value in [0, 1) from a hash.
public func unit(_ h: UInt64) -> Double { Double(h >> 11) / Double(1 << 53) }
