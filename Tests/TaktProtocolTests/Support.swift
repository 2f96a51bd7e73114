// Shared helpers of the protocol tests: frame builders (the seeded PRNG and the package root are TaktTestSupport's).

import TaktProtocol
import TaktSchedule
import TaktTestSupport
import TaktTime

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
