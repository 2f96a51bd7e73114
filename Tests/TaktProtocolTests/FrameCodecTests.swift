// The frame codec: round trips, every rejection reason, implicit C-state agreement, exhaustive
// bit flips and truncations, garbage that must never trap, and the pinned byte layout.

import Testing
import TaktTestSupport
import TaktProtocol
import TaktSchedule
import TaktTime

@Suite("Frame codec", .hostShared)
struct FrameCodecTests {
    // MARK: Round trips

    @Test(arguments: [4, 64, 256, 4096])
    func randomRoundTrips(nodeCount: Int) throws {
        let codec = FrameCodec(nodeCount: nodeCount, slotCountPerMode: [min(nodeCount, 300), 3, 1], maximumPayloadBytes: 300)
        var rng = SplitMix64(seed: 0xF4A3 &+ UInt64(nodeCount))
        let cases = nodeCount == 4096 ? 500 : 1_500
        var buffer = [UInt8](repeating: 0, count: codec.maximumFrameBytes)
        for _ in 0..<cases {
            let cState = randomCState(codec, &rng)
            let flags = FrameFlags(rawValue: UInt8(rng.int(0...3)))
            let lateness = Interval.nanoseconds(Int64(Int32(truncatingIfNeeded: rng.next())))
            let sent = header(for: cState, flags: flags, sender: rng.int(0...(nodeCount - 1)), lateness: lateness)
            let payload = rng.bytes(rng.int(0...300))
            let length = payload.withUnsafeBytes { p in
                buffer.withUnsafeMutableBytes { codec.encode(header: sent, membership: cState.membership, payload: p, cState: cState, into: $0) }
            }
            #expect(Int64(length) == FrameLayout.frameBytes(nodeCount: nodeCount, payloadBytes: Int64(payload.count)))
            try buffer.withUnsafeBytes { all in
                let bytes = UnsafeRawBufferPointer(rebasing: all[0..<length])
                let view = try #require(codec.decode(bytes, expectedCState: cState).view)
                #expect(view.header == sent)
                #expect(Array(view.payload) == payload)
                #expect(view.bytes.count == length)
                var membership = MembershipVector(capacity: nodeCount)
                view.copyMembership(into: &membership)
                #expect(membership == cState.membership)
                for _ in 0..<8 {
                    let node = rng.int(0...(nodeCount - 1))
                    #expect(view.isMember(node) == cState.membership.contains(node))
                }
                let integrated = try #require(codec.decodeForIntegration(bytes).view)
                var adopted = CState(scheduleIdentity: 0, mode: 0, round: 0, slot: 0, membership: MembershipVector(capacity: nodeCount))
                integrated.copyCState(into: &adopted)
                #expect(adopted == cState)
            }
        }
    }

    @Test func sendLatenessSaturatesToInt32() throws {
        let codec = FrameCodec(nodeCount: 4, slotCountPerMode: [4], maximumPayloadBytes: 0)
        let cState = CState(scheduleIdentity: 1, mode: 0, round: 0, slot: 0, membership: MembershipVector(capacity: 4))
        for (sent, received) in [(Int64.max, Int64(Int32.max)), (Int64.min, Int64(Int32.min)),
                                 (Int64(Int32.max) + 1, Int64(Int32.max)), (-5, -5)] {
            let frame = encodeFrame(codec, header(for: cState, lateness: .nanoseconds(sent)), cState, payload: [])
            let lateness = try frame.withUnsafeBytes { try #require(codec.decode($0, expectedCState: cState).view).header.sendLateness }
            #expect(lateness == .nanoseconds(received))
        }
    }

    // MARK: Implicit C-state agreement

    @Test func receiverWithDifferentCStateRejectsWithCRCMismatch() {
        let codec = FrameCodec(nodeCount: 64, slotCountPerMode: [64, 8], maximumPayloadBytes: 32)
        var rng = SplitMix64(seed: 0xC57A)
        for _ in 0..<50 {
            let sender = randomCState(codec, &rng)
            let frame = encodeFrame(codec, header(for: sender, sender: 3), sender, payload: rng.bytes(rng.int(0...32)))
            #expect(decode(codec, frame, sender) == nil)
            var variants: [CState] = []
            var v = sender
            v.round &+= 1; variants.append(v)
            v = sender; v.round &-= 1; variants.append(v)
            v = sender; v.mode = 1 - sender.mode; v.slot = 0; variants.append(v)
            v = sender; v.slot = (sender.slot + 1) % codec.slotCountPerMode[sender.mode]; variants.append(v)
            for bit in 0..<64 { v = sender; v.scheduleIdentity ^= 1 << UInt64(bit); variants.append(v) }
            for node in 0..<64 {
                v = sender
                if v.membership.contains(node) { v.membership.remove(node) } else { v.membership.insert(node) }
                variants.append(v)
            }
            for receiver in variants where receiver != sender {
                #expect(decode(codec, frame, receiver) == .crcMismatch)
            }
            // The frame itself is intact: a node without C-state accepts it.
            #expect(decodeForIntegration(codec, frame) == nil)
        }
    }

    @Test func headerThatIsNotTheSendersCStateIsRejected() {
        let codec = FrameCodec(nodeCount: 12, slotCountPerMode: [4, 2], maximumPayloadBytes: 8)
        let cState = CState(scheduleIdentity: 0xABCD, mode: 0, round: 77, slot: 1,
                            membership: MembershipVector(capacity: 12, members: [0, 1, 4]))
        let good = encodeFrame(codec, header(for: cState, sender: 1), cState, payload: [1, 2, 3])
        // Each edit changes one explicit field but keeps it in range; the CRC is over the true C-state.
        let edits: [(Int, UInt8)] = [(FrameOffset.round, 78), (FrameOffset.scheduleIdentity, 0xCE),
                                     (FrameOffset.mode, 1), (FrameOffset.slot, 0), (FrameOffset.membership, 0x12)]
        for (offset, value) in edits {
            var frame = good
            frame[offset] = value
            reseal(&frame, cState: cState)
            #expect(decode(codec, frame, cState) == .headerDisagreesWithCState, "offset \(offset)")
        }
        // The pending-mode field (0xFFFF: none) naming mode 1 while the C-state has no change pending.
        var frame = good
        frame[FrameOffset.pendingMode] = 1
        frame[FrameOffset.pendingMode + 1] = 0
        reseal(&frame, cState: cState)
        #expect(decode(codec, frame, cState) == .headerDisagreesWithCState)
    }

    // MARK: Every rejection reason

    @Test func eachRejectionReason() {
        let codec = FrameCodec(nodeCount: 12, slotCountPerMode: [4, 2], maximumPayloadBytes: 8)
        let cState = CState(scheduleIdentity: 0x5EED, mode: 1, round: 9, slot: 1,
                            membership: MembershipVector(capacity: 12, members: [2, 11]))
        let good = encodeFrame(codec, header(for: cState, sender: 11), cState, payload: [9, 8, 7])
        #expect(decode(codec, good, cState) == nil)
        func edited(_ edit: (inout [UInt8]) -> Void, reseal resealing: Bool = true) -> [UInt8] {
            var frame = good
            edit(&frame)
            if resealing { reseal(&frame, cState: cState) }
            return frame
        }
        var seen = Set<FrameRejection>()
        func expectRejection(_ frame: [UInt8], _ reason: FrameRejection, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
            #expect(decode(codec, frame, cState) == reason, sourceLocation: sourceLocation)
            seen.insert(reason)
        }
        expectRejection([], .truncated)
        expectRejection(Array(good.dropLast()), .truncated)
        expectRejection(good + [UInt8](repeating: 0, count: 6), .tooLong)
        expectRejection(edited({ $0[FrameOffset.version] = 1 }, reseal: false), .badVersion)
        expectRejection(edited({ $0[FrameOffset.version] = 3 }), .badVersion)
        expectRejection(edited({ $0[FrameOffset.version] = 0 }), .badVersion)
        expectRejection(edited({ $0[FrameOffset.payloadLength] = 9 }), .payloadLengthMismatch)  // > maximum 8
        expectRejection(edited({ $0[FrameOffset.payloadLength] = 2 }, reseal: false), .payloadLengthMismatch)  // 1 byte too many
        expectRejection(edited({ $0[FrameOffset.payloadLength] = 4 }, reseal: false), .truncated)  // 1 byte short
        expectRejection(edited({ $0[$0.count - 1] ^= 0x80 }, reseal: false), .crcMismatch)
        expectRejection(edited({ $0[FrameOffset.flags] = 0x04 }), .reservedFlags)
        expectRejection(edited({ $0[FrameOffset.flags] = 0x80 }), .reservedFlags)
        expectRejection(edited({ $0[FrameOffset.mode] = 2 }), .modeOutOfRange)
        expectRejection(edited({ $0[FrameOffset.mode + 1] = 1 }), .modeOutOfRange)
        expectRejection(edited({ $0[FrameOffset.pendingMode] = 2; $0[FrameOffset.pendingMode + 1] = 0 }), .modeOutOfRange)
        expectRejection(edited({ $0[FrameOffset.pendingMode] = 0xFE }), .modeOutOfRange)
        expectRejection(edited({ $0[FrameOffset.slot] = 2 }), .slotOutOfRange)  // mode 1 has 2 slots
        expectRejection(edited({ $0[FrameOffset.sender] = 12 }), .senderOutOfRange)
        expectRejection(edited({ $0[FrameOffset.sender + 1] = 0xFF }), .senderOutOfRange)
        expectRejection(edited({ $0[FrameOffset.membership + 1] |= 0x10 }), .membershipPaddingBits)  // node 12
        expectRejection(edited({ $0[FrameOffset.membership + 1] |= 0x80 }), .membershipPaddingBits)  // node 15
        expectRejection(edited({ $0[FrameOffset.round] ^= 1 }), .headerDisagreesWithCState)
        #expect(seen == Set(FrameRejection.allCases))
    }

    @Test func rejectionRawValuesAreDenseCounterIndices() {
        #expect(FrameRejection.allCases.map(\.rawValue) == Array(0..<FrameRejection.allCases.count))
        #expect(Set(FrameRejection.allCases.map(\.description)).count == FrameRejection.allCases.count)
    }

    // MARK: Exhaustive small-scope corruption

    @Test(arguments: [(4, 3), (12, 0), (9, 5)])
    func everySingleAndDoubleBitFlipIsRejected(nodeCount: Int, payloadBytes: Int) {
        let codec = FrameCodec(nodeCount: nodeCount, slotCountPerMode: [nodeCount], maximumPayloadBytes: 8)
        let cState = CState(scheduleIdentity: 0x0DDB_A11, mode: 0, round: 3, slot: 1,
                            membership: MembershipVector(capacity: nodeCount, members: [0, 1, nodeCount - 1]))
        var rng = SplitMix64(seed: 0xB17F)
        let good = encodeFrame(codec, header(for: cState, flags: .carriesCState, sender: 1, lateness: .nanoseconds(-42)),
                               cState, payload: rng.bytes(payloadBytes))
        let bits = good.count * 8
        var frame = good
        var singles = 0
        var doubles = 0
        for i in 0..<bits {
            frame[i / 8] ^= 1 << UInt8(i % 8)
            #expect(decode(codec, frame, cState) != nil, "bit \(i) flipped was accepted")
            #expect(decodeForIntegration(codec, frame) != nil, "bit \(i) flipped was accepted for integration")
            singles += 1
            // CRC-32C has Hamming distance ≥ 4 at these lengths: every double flip is caught too.
            for j in (i + 1)..<bits {
                frame[j / 8] ^= 1 << UInt8(j % 8)
                #expect(decode(codec, frame, cState) != nil, "bits \(i), \(j) flipped were accepted")
                frame[j / 8] ^= 1 << UInt8(j % 8)
                doubles += 1
            }
            frame[i / 8] ^= 1 << UInt8(i % 8)
        }
        #expect(frame == good)
        #expect(singles == bits && doubles == bits * (bits - 1) / 2)
    }

    @Test(arguments: [4, 12, 256])
    func everyTruncationIsRejectedAsTruncated(nodeCount: Int) {
        let codec = FrameCodec(nodeCount: nodeCount, slotCountPerMode: [2], maximumPayloadBytes: 40)
        let cState = CState(scheduleIdentity: 7, mode: 0, round: 1, slot: 1, membership: MembershipVector(capacity: nodeCount, members: [0]))
        var rng = SplitMix64(seed: 0x7C47)
        for payloadBytes in [0, 1, 40] {
            let good = encodeFrame(codec, header(for: cState), cState, payload: rng.bytes(payloadBytes))
            for length in 0..<good.count {
                let prefix = Array(good[0..<length])
                #expect(decode(codec, prefix, cState) == .truncated, "length \(length) of \(good.count)")
                #expect(decodeForIntegration(codec, prefix) == .truncated, "length \(length) of \(good.count)")
            }
        }
    }

    // MARK: Garbage never traps

    @Test func randomGarbageNeverTrapsAndIsNeverAccepted() {
        let codec = FrameCodec(nodeCount: 12, slotCountPerMode: [4, 2], maximumPayloadBytes: 64)
        let cState = CState(scheduleIdentity: 1, mode: 0, round: 0, slot: 0, membership: MembershipVector(capacity: 12))
        var rng = SplitMix64(seed: 0x6A4B)
        var counts = [Int](repeating: 0, count: FrameRejection.allCases.count)
        for _ in 0..<20_000 {
            let bytes = rng.bytes(rng.int(0...600))
            let reason = decode(codec, bytes, cState)
            #expect(reason != nil)
            if let reason { counts[reason.rawValue] += 1 }
            #expect(decodeForIntegration(codec, bytes) != nil)
        }
        // Garbage that passes the structural checks: the CRC (and nothing else) must stop it.
        for _ in 0..<20_000 {
            let payloadBytes = rng.int(0...64)
            var bytes = rng.bytes(codec.frameBytes(payloadBytes: payloadBytes))
            bytes[FrameOffset.version] = FrameFormat.version
            bytes[FrameOffset.payloadLength] = UInt8(payloadBytes)
            bytes[FrameOffset.payloadLength + 1] = 0
            #expect(decode(codec, bytes, cState) == .crcMismatch)
            #expect(decodeForIntegration(codec, bytes) == .crcMismatch)
        }
        #expect(counts[FrameRejection.truncated.rawValue] > 0 && counts[FrameRejection.tooLong.rawValue] > 0)
    }

    @Test func garbageWithEveryStructuralShapeAcrossNodeCounts() {
        var rng = SplitMix64(seed: 0x9A4B)
        for nodeCount in [1, 7, 8, 9, 63, 64, 65, 4096] {
            let codec = FrameCodec(nodeCount: nodeCount, slotCountPerMode: [1], maximumPayloadBytes: rng.int(0...100))
            let cState = CState(scheduleIdentity: 0, mode: 0, round: 0, slot: 0, membership: MembershipVector(capacity: nodeCount))
            for length in 0...(codec.maximumFrameBytes + 10) {
                var bytes = rng.bytes(length)
                if length > FrameOffset.payloadLength + 1, rng.bool() {
                    bytes[FrameOffset.version] = FrameFormat.version
                    let payload = max(0, length - codec.minimumFrameBytes)
                    bytes[FrameOffset.payloadLength] = UInt8(truncatingIfNeeded: payload)
                    bytes[FrameOffset.payloadLength + 1] = UInt8(truncatingIfNeeded: payload >> 8)
                }
                #expect(decode(codec, bytes, cState) != nil)
                #expect(decodeForIntegration(codec, bytes) != nil)
            }
        }
    }

    // MARK: Layout

    /// Pins every field's offset and encoding: each field holds a distinct value whose little-endian
    /// bytes must appear exactly at the documented offset (Docs/wire-format.md).
    @Test func layoutPinsEveryFieldOffset() {
        #expect(FrameOffset.version == 0 && FrameOffset.flags == 1 && FrameOffset.mode == 2)
        #expect(FrameOffset.scheduleIdentity == 4 && FrameOffset.round == 12 && FrameOffset.slot == 20)
        #expect(FrameOffset.sender == 22 && FrameOffset.sendLateness == 24 && FrameOffset.payloadLength == 28)
        #expect(FrameOffset.pendingMode == 30 && FrameOffset.membership == 32)
        #expect(Int64(FrameFormat.headerBytes) == FrameLayout.headerBytes)
        #expect(Int64(FrameFormat.trailerBytes) == FrameLayout.trailerBytes)

        let codec = FrameCodec(nodeCount: 20, slotCountPerMode: [1, 1, 0x0304], maximumPayloadBytes: 5)
        let cState = CState(scheduleIdentity: 0x1122_3344_5566_7788, mode: 2, round: 0x99AA_BBCC_DDEE_FF01, slot: 0x0302,
                            membership: MembershipVector(capacity: 20, members: [0, 9, 19]), pendingMode: 1)
        let frame = encodeFrame(codec, header(for: cState, flags: [.coldStart, .carriesCState], sender: 0x0013,
                                              lateness: .nanoseconds(-2)), cState, payload: [0xD0, 0xD1, 0xD2, 0xD3, 0xD4])
        let expected: [UInt8] = [
            0x02,                                            // 0 version
            0x03,                                            // 1 flags: cold start | carries C-state
            0x02, 0x00,                                      // 2 mode
            0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,  // 4 schedule identity
            0x01, 0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99,  // 12 round
            0x02, 0x03,                                      // 20 slot
            0x13, 0x00,                                      // 22 sender
            0xFE, 0xFF, 0xFF, 0xFF,                          // 24 send lateness −2 ns
            0x05, 0x00,                                      // 28 payload length
            0x01, 0x00,                                      // 30 pending mode 1
            0x01, 0x02, 0x08,                                // 32 membership {0, 9, 19}
            0xD0, 0xD1, 0xD2, 0xD3, 0xD4,                    // 35 payload
        ]
        #expect(Array(frame.dropLast(4)) == expected)
        // The trailer: CRC-32C (bitwise reference) over the frame, then the canonical C-state.
        let cStateEncoding: [UInt8] = [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x02, 0x00,
                                       0x01, 0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x02, 0x03, 0x01, 0x00,
                                       0x01, 0x02, 0x08]
        let crc = referenceCRC32C(expected + cStateEncoding)
        #expect(crc == 0x76B9_9AE5)  // Docs/wire-format.md's worked example
        #expect(Array(frame.suffix(4)) == [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: crc >> UInt32($0)) })
        #expect(frame.count == 44 && frame.count == Int(FrameLayout.frameBytes(nodeCount: 20, payloadBytes: 5)))
    }

    @Test func membershipBytesMatchFrameLayoutForEveryNodeCount() {
        for nodeCount in 1...MembershipVector.maximumCapacity {
            let codec = FrameCodec(nodeCount: nodeCount, slotCountPerMode: [1], maximumPayloadBytes: 0)
            #expect(Int64(codec.membershipBytes) == FrameLayout.membershipBytes(nodeCount: nodeCount))
            #expect(Int64(codec.minimumFrameBytes) == FrameLayout.frameBytes(nodeCount: nodeCount, payloadBytes: 0))
        }
    }

    @Test func membershipVectorBasics() {
        var m = MembershipVector(capacity: 70)
        #expect(m.count == 0 && m.byteCount == 9)
        m.insertAll()
        #expect(m.count == 70 && m.byte(at: 8) == 0x3F)
        m.remove(69)
        #expect(!m.contains(69) && m.count == 69)
        m.removeAll()
        m.insert(64)
        #expect(m.byte(at: 8) == 0x01 && m.description == "{64}")
        #expect(MembershipVector(capacity: 70, members: [64]) == m)
    }

    // MARK: Preconditions (programmer errors trap)

    @Test func encodingAPayloadLargerThanTheMaximumTraps() async {
        await #expect(processExitsWith: .failure) {
            let codec = FrameCodec(nodeCount: 4, slotCountPerMode: [4], maximumPayloadBytes: 2)
            let cState = CState(scheduleIdentity: 0, mode: 0, round: 0, slot: 0, membership: MembershipVector(capacity: 4))
            _ = encodeFrame(codec, header(for: cState), cState, payload: [1, 2, 3])
        }
    }

    @Test func encodingAHeaderThatIsNotTheCStateTraps() async {
        await #expect(processExitsWith: .failure) {
            let codec = FrameCodec(nodeCount: 4, slotCountPerMode: [4], maximumPayloadBytes: 2)
            let cState = CState(scheduleIdentity: 0, mode: 0, round: 0, slot: 0, membership: MembershipVector(capacity: 4))
            var wrong = header(for: cState)
            wrong.round = 1
            _ = encodeFrame(codec, wrong, cState, payload: [])
        }
    }

    @Test func membershipIndexOutOfRangeTraps() async {
        await #expect(processExitsWith: .failure) {
            var m = MembershipVector(capacity: 4)
            m.insert(4)
        }
    }
}
