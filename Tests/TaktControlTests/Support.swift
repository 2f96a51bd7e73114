// Shared helpers of the TaktControl tests: byte-level encode/decode (the seeded PRNG is TaktTestSupport's).

import TaktControl
import TaktTestSupport
import TaktTime

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
