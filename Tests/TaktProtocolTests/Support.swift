// Shared helpers of the protocol tests: a seeded PRNG, the repository root, frame builders.

import TaktProtocol
import TaktSchedule
import TaktTime

/// SplitMix64: one seeded PRNG for every randomized test (deterministic across runs; a copy of the
/// one in TaktScheduleTests, since test targets cannot share code).
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
}

/// The repository root (this file is Tests/TaktProtocolTests/Support.swift).
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// A random C-state valid for `codec`.
func randomCState(_ codec: FrameCodec, _ rng: inout SplitMix64) -> CState {
    let mode = rng.int(0...(codec.slotCountPerMode.count - 1))
    var membership = MembershipVector(capacity: codec.nodeCount)
    let density = rng.int(0...4)  // from empty (0) to full (4) in quarters
    for node in 0..<codec.nodeCount where rng.int(1...4) <= density { membership.insert(node) }
    return CState(scheduleIdentity: rng.next(), mode: mode, round: rng.bool() ? rng.next() : UInt64(rng.int(0...1_000)),
                  slot: rng.int(0...(codec.slotCountPerMode[mode] - 1)), membership: membership)
}

/// The header a sender in `cState` writes.
func header(for cState: CState, flags: FrameFlags = [], sender: Int = 0, lateness: Interval = .zero) -> FrameHeader {
    FrameHeader(flags: flags, mode: cState.mode, scheduleIdentity: cState.scheduleIdentity, round: cState.round,
                slot: cState.slot, sender: sender, sendLateness: lateness, pendingMode: cState.pendingMode)
}

/// Encodes one frame into a fresh array of exactly the frame's length.
func encodeFrame(_ codec: FrameCodec, _ header: FrameHeader, _ cState: CState, payload: [UInt8]) -> [UInt8] {
    var buffer = [UInt8](repeating: 0xEE, count: codec.maximumFrameBytes)
    let length = payload.withUnsafeBytes { p in
        buffer.withUnsafeMutableBytes { codec.encode(header: header, membership: cState.membership, payload: p, cState: cState, into: $0) }
    }
    return Array(buffer[0..<length])
}

/// Recomputes the CRC trailer of `frame` over its bytes and `cState`'s canonical encoding, as a
/// (possibly faulty) sender holding `cState` would: for crafting frames whose fields are wrong but
/// whose CRC is right.
func reseal(_ frame: inout [UInt8], cState: CState) {
    var crc = CRC32C()
    frame.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[0..<(frame.count - 4)])) }
    crc.update(littleEndian: cState.scheduleIdentity)
    crc.update(littleEndian: UInt16(cState.mode))
    crc.update(littleEndian: cState.round)
    crc.update(littleEndian: UInt16(cState.slot))
    crc.update(littleEndian: cState.pendingMode.map { UInt16($0) } ?? 0xFFFF)
    for i in 0..<cState.membership.byteCount { crc.update(byte: cState.membership.byte(at: i)) }
    let value = crc.value
    for i in 0..<4 { frame[frame.count - 4 + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
}

func decode(_ codec: FrameCodec, _ frame: [UInt8], _ cState: CState) -> FrameRejection? {
    frame.withUnsafeBytes { codec.decode($0, expectedCState: cState).rejection }
}

func decodeForIntegration(_ codec: FrameCodec, _ frame: [UInt8]) -> FrameRejection? {
    frame.withUnsafeBytes { codec.decodeForIntegration($0).rejection }
}
