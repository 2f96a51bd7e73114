// The simulator's one source of randomness: xoshiro256** seeded through SplitMix64.
//
// Deterministic by construction: the same seed gives the same sequence on every platform and run
// (never SystemRandomNumberGenerator). Probabilities are integers (parts per million), so a
// scenario's fault rates are exact and reproducible.

public struct SimulationRandom: Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15  // &+: SplitMix64's defined wrap-around
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9  // &*: modular by definition of the generator
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// A uniform integer in 0..<bound without modulo bias (Lemire's method). Precondition: bound > 0.
    public mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0, "below(0) has no values")
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }

    /// A uniform integer in the closed range.
    public mutating func uniform(_ range: ClosedRange<Int64>) -> Int64 {
        let width = UInt64(bitPattern: range.upperBound &- range.lowerBound)  // the range's size − 1, exact in UInt64
        if width == UInt64.max { return Int64(bitPattern: next()) }
        return range.lowerBound &+ Int64(bitPattern: below(width + 1))  // &+: stays within the range
    }

    /// True with probability `partsPerMillion` / 1,000,000.
    public mutating func chance(partsPerMillion: UInt32) -> Bool {
        partsPerMillion >= 1_000_000 || below(1_000_000) < UInt64(partsPerMillion)
    }
}
