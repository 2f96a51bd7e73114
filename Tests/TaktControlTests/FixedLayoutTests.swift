// Fixed layouts: round trips of every conformance (edges and random values), the pinned byte
// layouts, short buffers, invalid bytes, random bytes that must never trap and must re-store as
// themselves (the canonical-encoding property exact voting relies on), and bitwise equality.

import Testing
import TaktTestSupport
import TaktControl
import TaktTime

@Suite("Fixed layouts", .hostShared)
struct FixedLayoutTests {
    /// Checks `values` round-trip: stored bytes decode to a value that equals the original
    /// (`same`) and stores the same bytes; `store` writes exactly byteCount bytes.
    func checkRoundTrips<Value: FixedLayout>(_ values: [Value], same: (Value, Value) -> Bool,
                                             sourceLocation: SourceLocation = #_sourceLocation) {
        for value in values {
            // Store into a larger buffer filled with a sentinel: the tail must stay untouched.
            var buffer = [UInt8](repeating: 0xC3, count: Value.byteCount + 5)
            buffer.withUnsafeMutableBytes { value.store(to: $0) }
            #expect(buffer[Value.byteCount...].allSatisfy { $0 == 0xC3 }, "store wrote past byteCount", sourceLocation: sourceLocation)
            let bytes = Array(buffer[0..<Value.byteCount])
            guard let back = decoded(bytes, as: Value.self) else {
                Issue.record("\(value) did not load back", sourceLocation: sourceLocation)
                continue
            }
            #expect(same(back, value), "\(value) loaded back as \(back)", sourceLocation: sourceLocation)
            #expect(encoded(back) == bytes, sourceLocation: sourceLocation)
            // Loading ignores bytes beyond byteCount.
            #expect(decoded(buffer, as: Value.self).map { same($0, value) } == true, sourceLocation: sourceLocation)
        }
    }

    func integers<T: FixedWidthInteger>(_ type: T.Type, _ rng: inout SplitMix64) -> [T] {
        [T.min, T.max, 0, 1, T.max - 1, T.min + 1] + (0..<200).map { _ in T(truncatingIfNeeded: rng.next()) }
    }

    @Test func integersRoundTrip() {
        var rng = SplitMix64(seed: 0x1A70)
        checkRoundTrips(integers(Int64.self, &rng), same: ==)
        checkRoundTrips(integers(UInt64.self, &rng), same: ==)
        checkRoundTrips(integers(Int32.self, &rng), same: ==)
        checkRoundTrips(integers(UInt32.self, &rng), same: ==)
        checkRoundTrips(integers(Int16.self, &rng), same: ==)
        checkRoundTrips(integers(UInt16.self, &rng), same: ==)
        checkRoundTrips(integers(Int8.self, &rng), same: ==)
        checkRoundTrips(integers(UInt8.self, &rng), same: ==)
        checkRoundTrips([false, true], same: ==)
    }

    @Test func floatingPointRoundTripsBitExactlyNaNsIncluded() {
        var rng = SplitMix64(seed: 0xF10A7)
        let specials: [Double] = [0, -0.0, 1, -1, .pi, .infinity, -.infinity, .nan, -.nan, .signalingNaN,
                                  Double(bitPattern: 0x7FF8_0000_DEAD_BEEF), .leastNonzeroMagnitude,
                                  .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .ulpOfOne]
        let doubles = specials + (0..<300).map { _ in Double(bitPattern: rng.next()) }
        checkRoundTrips(doubles, same: { $0.bitPattern == $1.bitPattern })
        #expect(doubles.contains { $0.isNaN })
        let floats: [Float] = [0, -0.0, 1, .infinity, .nan, Float(bitPattern: 0xFFC0_1234), .leastNonzeroMagnitude]
            + (0..<300).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
        checkRoundTrips(floats, same: { $0.bitPattern == $1.bitPattern })
    }

    @Test func timeRoundTrips() {
        var rng = SplitMix64(seed: 0x7153)
        let nanoseconds = integers(Int64.self, &rng)
        checkRoundTrips(nanoseconds.map { Interval(nanoseconds: $0) }, same: ==)
        checkRoundTrips(nanoseconds.map { ClusterInstant(nanoseconds: $0) }, same: ==)
    }

    @Test func layoutsArePinnedLittleEndian() {
        #expect(encoded(UInt64(0x0102_0304_0506_0708)) == [8, 7, 6, 5, 4, 3, 2, 1])
        #expect(encoded(Int64(-2)) == [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(encoded(UInt32(0x0102_0304)) == [4, 3, 2, 1])
        #expect(encoded(Int32(-256)) == [0x00, 0xFF, 0xFF, 0xFF])
        #expect(encoded(UInt16(0xBEEF)) == [0xEF, 0xBE])
        #expect(encoded(Int16(-1)) == [0xFF, 0xFF])
        #expect(encoded(UInt8(0x7F)) == [0x7F])
        #expect(encoded(Int8(-128)) == [0x80])
        #expect(encoded(true) == [1] && encoded(false) == [0])
        #expect(encoded(1.0) == [0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        #expect(encoded(-0.0) == [0, 0, 0, 0, 0, 0, 0, 0x80])
        #expect(encoded(Float(1.0)) == [0, 0, 0x80, 0x3F])
        #expect(encoded(Interval.nanoseconds(0x0102)) == [2, 1, 0, 0, 0, 0, 0, 0])
        #expect(encoded(ClusterInstant(nanoseconds: -1)) == [UInt8](repeating: 0xFF, count: 8))
        #expect(Int64.byteCount == 8 && UInt64.byteCount == 8 && Double.byteCount == 8 && Interval.byteCount == 8
                && ClusterInstant.byteCount == 8 && Int32.byteCount == 4 && UInt32.byteCount == 4 && Float.byteCount == 4
                && Int16.byteCount == 2 && UInt16.byteCount == 2 && Int8.byteCount == 1 && UInt8.byteCount == 1 && Bool.byteCount == 1)
        // Unaligned loads and stores work (a value's offset in a frame is not aligned).
        var bytes = [UInt8](repeating: 0, count: 12)
        bytes.withUnsafeMutableBytes { UInt64(0x1122_3344_5566_7788).store(to: UnsafeMutableRawBufferPointer(rebasing: $0[3...])) }
        #expect(Array(bytes[3..<11]) == [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
        #expect(bytes.withUnsafeBytes { UInt64(loading: UnsafeRawBufferPointer(rebasing: $0[3...])) } == 0x1122_3344_5566_7788)
    }

    /// Every length below byteCount loads as nil.
    func checkShortBuffersFail<Value: FixedLayout>(_ type: Value.Type, sourceLocation: SourceLocation = #_sourceLocation) {
        for length in 0..<Value.byteCount {
            #expect(decoded([UInt8](repeating: 0, count: length), as: Value.self) == nil, "\(Value.self) from \(length) bytes",
                    sourceLocation: sourceLocation)
        }
        #expect(decoded([UInt8](repeating: 0, count: Value.byteCount), as: Value.self) != nil, sourceLocation: sourceLocation)
    }

    @Test func shortBuffersLoadAsNil() {
        checkShortBuffersFail(Int64.self)
        checkShortBuffersFail(UInt64.self)
        checkShortBuffersFail(Int32.self)
        checkShortBuffersFail(UInt32.self)
        checkShortBuffersFail(Int16.self)
        checkShortBuffersFail(UInt16.self)
        checkShortBuffersFail(Int8.self)
        checkShortBuffersFail(UInt8.self)
        checkShortBuffersFail(Bool.self)
        checkShortBuffersFail(Double.self)
        checkShortBuffersFail(Float.self)
        checkShortBuffersFail(Interval.self)
        checkShortBuffersFail(ClusterInstant.self)
        checkShortBuffersFail(StateMessage<Double>.self)
        checkShortBuffersFail(StateMessage<Bool>.self)
        checkShortBuffersFail(EventState.self)
        // An empty buffer has no base address; loading from it must still not trap.
        #expect(Double(loading: UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
        #expect(StateMessage<Bool>(loading: UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
    }

    @Test func boolIsOnlyZeroOrOne() {
        for byte in 0...255 {
            let loaded = decoded([UInt8(byte)], as: Bool.self)
            switch byte {
            case 0: #expect(loaded == false)
            case 1: #expect(loaded == true)
            default: #expect(loaded == nil, "byte \(byte) loaded as \(String(describing: loaded))")
            }
        }
    }

    /// Random bytes of random lengths: loading never traps, and whatever loads stores the same
    /// bytes (every accepted encoding is the canonical one).
    func fuzz<Value: FixedLayout>(_ type: Value.Type, _ rng: inout SplitMix64, rounds: Int = 2_000) -> (accepted: Int, rejected: Int) {
        var accepted = 0, rejected = 0
        for _ in 0..<rounds {
            let bytes = rng.bytes(rng.int(0...(Value.byteCount + 4)))
            if let value = decoded(bytes, as: Value.self) {
                accepted += 1
                #expect(bytes.count >= Value.byteCount)
                #expect(encoded(value) == Array(bytes[0..<Value.byteCount]), "\(Value.self) \(bytes) re-stored differently")
            } else {
                rejected += 1
            }
        }
        return (accepted, rejected)
    }

    @Test func randomBytesNeverTrapAndReStoreCanonically() {
        var rng = SplitMix64(seed: 0xF022)
        for result in [fuzz(Int64.self, &rng), fuzz(UInt64.self, &rng), fuzz(Int32.self, &rng), fuzz(UInt32.self, &rng),
                       fuzz(Int16.self, &rng), fuzz(UInt16.self, &rng), fuzz(Int8.self, &rng), fuzz(UInt8.self, &rng),
                       fuzz(Double.self, &rng), fuzz(Float.self, &rng), fuzz(Interval.self, &rng), fuzz(ClusterInstant.self, &rng)] {
            #expect(result.accepted > 0 && result.rejected > 0)  // both short and full buffers were tried
        }
        // Types with invalid encodings: most random bytes are rejected, but never with a trap.
        let bools = fuzz(Bool.self, &rng)
        #expect(bools.accepted > 0 && bools.rejected > bools.accepted)
        let messages = fuzz(StateMessage<Double>.self, &rng, rounds: 5_000)
        #expect(messages.accepted > 0 && messages.rejected > 0)  // about half have a negative validity
        let flagged = fuzz(StateMessage<Bool>.self, &rng, rounds: 5_000)
        #expect(flagged.rejected > 0)
        _ = fuzz(EventState.self, &rng, rounds: 5_000)
        _ = fuzz(StateMessage<EventState>.self, &rng, rounds: 5_000)
    }

    @Test func bitwiseEqualityIsLayoutEquality() {
        #expect(0.0 == -0.0 && !(0.0).isBitwiseEqual(to: -0.0))
        let nan = Double(bitPattern: 0x7FF8_0000_0000_0000)  // a quiet NaN
        #expect(nan.isNaN && nan.isBitwiseEqual(to: nan))  // although nan != nan
        #expect(!Double.nan.isBitwiseEqual(to: Double(bitPattern: Double.nan.bitPattern | 1)))
        #expect((1.5).isBitwiseEqual(to: 1.5) && !(1.5).isBitwiseEqual(to: 1.5.nextUp))
        #expect(Int64(-7).isBitwiseEqual(to: -7) && !Int64(-7).isBitwiseEqual(to: 7))
        let a = StateMessage(value: 0.0, observedAt: ClusterInstant(nanoseconds: 5), validity: .nanoseconds(3))
        var b = a
        #expect(a.isBitwiseEqual(to: b))
        b.value = -0.0
        #expect(a == b && !a.isBitwiseEqual(to: b))
        b = a
        b.observedAt = ClusterInstant(nanoseconds: 6)
        #expect(!a.isBitwiseEqual(to: b))
    }

    @Test func storingIntoAShortBufferTraps() async {
        await #expect(processExitsWith: .failure) {
            var bytes = [UInt8](repeating: 0, count: 7)
            bytes.withUnsafeMutableBytes { (1.0).store(to: $0) }
        }
        await #expect(processExitsWith: .failure) {
            var bytes = [UInt8](repeating: 0, count: 23)
            bytes.withUnsafeMutableBytes { StateMessage(value: 1.0, observedAt: .zero, validity: .zero).store(to: $0) }
        }
    }
}
