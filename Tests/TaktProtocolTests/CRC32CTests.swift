// CRC-32C against published vectors (RFC 3720 B.4, the CRC catalogue's check value) and against a
// bitwise reference; incremental feeding equals one-shot.

import Testing
import TaktTestSupport
@testable import TaktProtocol

/// The textbook bit-at-a-time CRC-32C, independent of the tables.
func referenceCRC32C(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return crc ^ 0xFFFF_FFFF
}

@Suite("CRC-32C", .hostShared)
struct CRC32CTests {
    @Test func publishedVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)  // RFC 3720 B.4, incrementing
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)  // RFC 3720 B.4, decrementing
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C().value == 0)
    }

    @Test func slicedEqualsBitwiseReference() {
        var rng = SplitMix64(seed: 0xC4C3)
        for length in 0...300 {
            let bytes = rng.bytes(length)
            let sliced = bytes.withUnsafeBytes { CRC32C.checksum($0) }
            #expect(sliced == referenceCRC32C(bytes), "length \(length)")
            #expect(CRC32C.checksum(bytes) == sliced, "length \(length)")
        }
        // Unaligned starts: the slicing loads are unaligned.
        let bytes = rng.bytes(100)
        for start in 0..<8 {
            let tail = Array(bytes[start...])
            let sliced = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            #expect(sliced == referenceCRC32C(tail))
        }
    }

    @Test func incrementalEqualsOneShot() {
        var rng = SplitMix64(seed: 0x1C4E)
        for _ in 0..<2_000 {
            let bytes = rng.bytes(rng.int(0...200))
            let oneShot = referenceCRC32C(bytes)
            var crc = CRC32C()
            var i = 0
            while i < bytes.count {
                let piece = min(rng.int(0...20), bytes.count - i)
                bytes.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[i..<(i + piece)])) }
                i += piece
            }
            #expect(crc.value == oneShot)
        }
    }

    @Test func typedUpdatesAreLittleEndianBytes() {
        var typed = CRC32C()
        typed.update(byte: 0x01)
        typed.update(littleEndian: UInt16(0x0302))
        typed.update(littleEndian: UInt64(0x0B0A_0908_0706_0504))
        #expect(typed.value == referenceCRC32C([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))
    }
}
