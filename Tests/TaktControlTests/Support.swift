// Shared helpers of the TaktControl tests: a seeded PRNG and byte-level encode/decode.

import TaktControl
import TaktTime

/// SplitMix64: one seeded PRNG for every randomized test (deterministic across runs; a copy of the
/// one in the other test targets, since test targets cannot share code).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
    mutating func bool() -> Bool { next() & 1 == 1 }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
    /// A double in [low, high).
    mutating func double(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * Double(next() >> 11) / Double(1 << 53)
    }
}

/// The stored bytes of `value` (exactly byteCount of them). Allocates: tests only.
func encoded<Value: FixedLayout>(_ value: Value) -> [UInt8] {
    var bytes = [UInt8](repeating: 0xA5, count: Value.byteCount)
    bytes.withUnsafeMutableBytes { value.store(to: $0) }
    return bytes
}

/// `Value(loading:)` over `bytes`.
func decoded<Value: FixedLayout>(_ bytes: [UInt8], as type: Value.Type = Value.self) -> Value? {
    bytes.withUnsafeBytes { Value(loading: $0) }
}
