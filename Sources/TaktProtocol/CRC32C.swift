// CRC-32C (Castagnoli), the frame check sequence of the Takt wire format (Docs/wire-format.md).
//
// Parameters (the "CRC-32/ISCSI" of the CRC catalogue, RFC 3720 §12.1 and appendix B.4):
// polynomial 0x1EDC6F41, processed reflected (0x82F63B78), initial value 0xFFFFFFFF, input and
// output reflected, final xor 0xFFFFFFFF. Check value: crc32c("123456789") = 0xE3069283.
//
// Why Castagnoli and not the Ethernet polynomial: it was chosen for a larger minimum Hamming
// distance at the lengths of network frames (Castagnoli, Bräuer & Herrmann, "Optimization of cyclic
// redundancy-check codes with 24 and 32 parity bits", IEEE Trans. Commun. 1993; Koopman, "32-bit
// cyclic redundancy codes for internet applications", DSN 2002), and it has hardware support on
// common CPUs (SSE4.2 `crc32`, ARMv8 CRC32C) should the table version ever be too slow. Like every
// CRC-32 it detects every burst of ≤ 32 bits; its 18 terms make it divisible by x + 1, so every
// error of an odd number of bits is detected too. The tests flip every single bit and every pair
// of bits of small frames.
//
// Algorithm: slicing-by-8 (Kounavis & Berry, "A systematic approach to building high performance
// software-based CRC generators", 2005): eight 256-entry tables, one 64-bit little-endian word per
// step, bytewise for the tail. The tables are computed once, on first use, and never change.
//
// The API is incremental (`update`, then `value`) so the frame CRC can cover the frame bytes and
// then the checking party's C-state without concatenating buffers (Frame.swift). Nothing here
// allocates after the tables exist.

/// The eight slicing tables, `table[k * 256 + i]`; `k = 0` is the classic bytewise table.
/// Computed once on first use (a Swift global is initialized lazily and thread-safely).
private let crc32cTables: [UInt32] = {
    var tables = [UInt32](repeating: 0, count: 8 * 256)
    for i in 0..<256 {
        var crc = UInt32(i)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ CRC32C.reflectedPolynomial : crc >> 1 }
        tables[i] = crc
    }
    for k in 1..<8 {
        for i in 0..<256 {
            let previous = tables[(k - 1) * 256 + i]
            tables[k * 256 + i] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
        }
    }
    return tables
}()

/// An incremental CRC-32C. Start with `CRC32C()`, feed bytes in order with the `update` methods,
/// read `value`. Feeding a buffer in pieces gives the same value as feeding it at once.
/// Never traps; allocates nothing.
public struct CRC32C: Sendable, Equatable {
    /// 0x1EDC6F41 bit-reversed: the polynomial as the reflected algorithm uses it.
    public static let reflectedPolynomial: UInt32 = 0x82F6_3B78

    /// The running register (pre-inverted: starts at 0xFFFFFFFF).
    private var register: UInt32 = 0xFFFF_FFFF

    /// A CRC over zero bytes so far.
    public init() {}

    /// The CRC-32C of every byte fed so far (the register with the final xor applied).
    public var value: UInt32 { register ^ 0xFFFF_FFFF }

    /// The CRC-32C of `bytes`, in one call.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The CRC-32C of `bytes`, in one call.
    public static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        var crc = CRC32C()
        for byte in bytes { crc.update(byte: byte) }
        return crc.value
    }

    /// Feeds `bytes` in order.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        crc32cTables.withUnsafeBufferPointer { table in
            var crc = register
            var offset = 0
            let count = bytes.count
            // Slicing-by-8 over whole little-endian words; `offset + 8 <= count` bounds every load.
            while count - offset >= 8 {
                let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                crc = Self.step(crc, word, table)
                offset += 8
            }
            while offset < count {
                crc = Self.stepByte(crc, bytes[offset], table)
                offset += 1
            }
            register = crc
        }
    }

    /// Feeds one byte.
    public mutating func update(byte: UInt8) {
        crc32cTables.withUnsafeBufferPointer { table in register = Self.stepByte(register, byte, table) }
    }

    /// Feeds the 2 bytes of `value` in little-endian order.
    public mutating func update(littleEndian value: UInt16) {
        update(byte: UInt8(truncatingIfNeeded: value))
        update(byte: UInt8(truncatingIfNeeded: value >> 8))
    }

    /// Feeds the 8 bytes of `value` in little-endian order (one slicing-by-8 step).
    public mutating func update(littleEndian value: UInt64) {
        crc32cTables.withUnsafeBufferPointer { table in register = Self.step(register, value, table) }
    }

    // MARK: Kernels

    /// One byte through the classic table. Indices are masked to 0...255: always in bounds.
    @inline(__always)
    private static func stepByte(_ crc: UInt32, _ byte: UInt8, _ table: UnsafeBufferPointer<UInt32>) -> UInt32 {
        (crc >> 8) ^ table[Int((crc ^ UInt32(byte)) & 0xFF)]
    }

    /// Eight bytes (`word`, little-endian: its low byte is the first byte of the stream).
    /// Every index is `k * 256 + (a value masked to 0...255)` with k in 0...7: always in bounds
    /// of the 2,048-entry table.
    @inline(__always)
    private static func step(_ crc: UInt32, _ word: UInt64, _ table: UnsafeBufferPointer<UInt32>) -> UInt32 {
        let low = crc ^ UInt32(truncatingIfNeeded: word)
        let high = UInt32(truncatingIfNeeded: word >> 32)
        return table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
            ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
            ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
            ^ table[1 * 256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
    }
}
