// The Takt frame: a fixed binary layout, its encoder and its never-trapping decoder.
// The normative description, with the layout table, is Docs/wire-format.md.
//
// Layout (little-endian, fixed offsets; N = node count, M = ⌈N/8⌉, P = payload length):
//
//   offset  size  field
//        0     1  version (= 2)
//        1     1  flags: bit 0 cold-start frame, bit 1 carries full C-state, bits 2–7 reserved (0)
//        2     2  mode (index into the schedule's modes)
//        4     8  schedule identity (ScheduleIdentity.compute)
//       12     8  round (cluster round number since cluster start)
//       20     2  slot (index into the mode's slots)
//       22     2  sender (node index)
//       24     4  send lateness, signed ns (the sender's measured dispatch lateness)
//       28     2  payload length P
//       30     2  pending mode: the mode change agreed for the next cluster-cycle boundary, 0xFFFF none
//       32     M  membership vector, bit i = node i, LSB first, padding bits 0
//     32+M     P  payload, laid out by the schedule
//   32+M+P     4  CRC-32C over bytes [0, 32+M+P) followed by the checking party's C-state
//
// Size: 36 + M + P bytes = FrameLayout.frameBytes(nodeCount: N, payloadBytes: P).
//
// Implicit C-state agreement (TTP/C, Kopetz & Grünsteidl 1994; REFERENCE.md §3): the CRC covers
// the frame AND the C-state of whoever computes it. The sender folds in its own C-state; a
// receiver recomputes the CRC with ITS OWN C-state, so a frame from a sender whose C-state
// differs from the receiver's fails the CRC exactly like a corrupted frame and is rejected
// (`.crcMismatch`). The header ALSO carries the C-state fields explicitly, for integration (a
// node without C-state adopts them from a frame that verifies against its own fields,
// `decodeForIntegration`) and for diagnostics (a receiver can tell which field disagrees). A frame
// whose CRC verifies against the receiver's C-state but whose explicit fields differ from it came
// from a faulty sender and is rejected too (`.headerDisagreesWithCState`).
//
// Fault hypothesis for the decoder: the bytes are arbitrary (a corrupted, truncated, babbling or
// malicious frame). Every read is bounds-checked before it is made; no input traps. The encoder's
// inputs come from this node's own state, so bad inputs there are programmer errors and trap.

import TaktSchedule
import TaktTime

/// Byte offsets of the fixed header fields (Docs/wire-format.md). The membership vector starts at
/// `membership` = FrameLayout.headerBytes; payload and CRC follow at offsets that depend on N and P.
public enum FrameOffset {
    public static let version = 0
    public static let flags = 1
    public static let mode = 2
    public static let scheduleIdentity = 4
    public static let round = 12
    public static let slot = 20
    public static let sender = 22
    public static let sendLateness = 24
    public static let payloadLength = 28
    public static let pendingMode = 30
    public static let membership = 32
}

/// The format constants.
public enum FrameFormat {
    /// The only version this code writes and accepts.
    public static let version: UInt8 = 2
    /// Bytes before the membership vector (= FrameLayout.headerBytes).
    public static let headerBytes = FrameOffset.membership
    /// The CRC-32C trailer (= FrameLayout.trailerBytes).
    public static let trailerBytes = 4
    /// The largest payload the 16-bit length field can describe.
    public static let maximumPayloadBytes = Int(UInt16.max)
    /// The canonical C-state encoding fed to the CRC after the frame bytes: schedule identity (8),
    /// mode (2), round (8), slot (2), pending mode (2, 0xFFFF none), then the membership vector
    /// (⌈N/8⌉), all little-endian.
    public static let cStateFixedBytes = 22
    /// The pending-mode field's value for "no mode change pending".
    public static let noPendingMode: UInt16 = 0xFFFF
}

/// The flags byte. Bits 2–7 are reserved: written 0, and a frame with any of them set is rejected.
public struct FrameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Bit 0: a cold-start frame (TTP/C startup; the first one a node sees is rejected, "big bang").
    public static let coldStart = FrameFlags(rawValue: 1 << 0)
    /// Bit 1: the explicit C-state fields may be adopted by an integrating node (the slot's
    /// `cstate` property in the schedule).
    public static let carriesCState = FrameFlags(rawValue: 1 << 1)
    /// Every defined bit.
    public static let defined: FrameFlags = [.coldStart, .carriesCState]
}

/// The fixed header of a frame, as typed values. Indices (`mode`, `slot`, `sender`) are `Int`
/// like the schedule model's; on the wire they are u16.
public struct FrameHeader: Sendable, Equatable {
    public var flags: FrameFlags
    /// Index into `Schedule.modes`.
    public var mode: Int
    public var scheduleIdentity: UInt64
    /// Cluster round number since the cluster started.
    public var round: UInt64
    /// Index into the mode's slots.
    public var slot: Int
    /// Node index of the sender.
    public var sender: Int
    /// The sender's measured dispatch lateness (actual − planned send instant), used by receivers'
    /// clock synchronization. On the wire: i32 ns; the encoder SATURATES to ±2.147 483 647 s.
    public var sendLateness: Interval
    /// The mode change the sender's C-state holds for the next cluster-cycle boundary, if any.
    public var pendingMode: Int?

    public init(flags: FrameFlags, mode: Int, scheduleIdentity: UInt64, round: UInt64, slot: Int, sender: Int,
                sendLateness: Interval, pendingMode: Int? = nil) {
        self.pendingMode = pendingMode
        self.flags = flags
        self.mode = mode
        self.scheduleIdentity = scheduleIdentity
        self.round = round
        self.slot = slot
        self.sender = sender
        self.sendLateness = sendLateness
    }
}

/// A node's controller state (C-state, glossary): schedule identity, mode, the position in cluster
/// time (round and slot: the slot's start instant is round·R + slot offset, so together they stand
/// for global time at slot granularity), the mode change agreed for the next cluster-cycle boundary
/// and the membership vector. Folded into every frame's CRC.
public struct CState: Sendable, Equatable {
    public var scheduleIdentity: UInt64
    public var mode: Int
    public var round: UInt64
    public var slot: Int
    public var membership: MembershipVector
    /// A requested mode change, agreed by every node that accepted the request's frame; it takes
    /// effect at the end of the cluster cycle.
    public var pendingMode: Int?

    public init(scheduleIdentity: UInt64, mode: Int, round: UInt64, slot: Int, membership: MembershipVector,
                pendingMode: Int? = nil) {
        self.pendingMode = pendingMode
        self.scheduleIdentity = scheduleIdentity
        self.mode = mode
        self.round = round
        self.slot = slot
        self.membership = membership
    }

    /// Feeds the canonical encoding (FrameFormat.cStateFixedBytes + ⌈N/8⌉ bytes) to `crc`.
    /// The caller guarantees mode and slot fit in u16 (FrameCodec checks).
    func update(_ crc: inout CRC32C) {
        crc.update(littleEndian: scheduleIdentity)
        crc.update(littleEndian: UInt16(truncatingIfNeeded: mode))
        crc.update(littleEndian: round)
        crc.update(littleEndian: UInt16(truncatingIfNeeded: slot))
        crc.update(littleEndian: pendingMode.map { UInt16(truncatingIfNeeded: $0) } ?? FrameFormat.noPendingMode)
        membership.update(&crc)
    }
}

/// Why a frame was rejected. Raw values are dense from 0, so counters can be an array indexed by
/// `rawValue` (one counter per reason, allocated at start-up).
public enum FrameRejection: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// Fewer bytes than the smallest frame (36 + M), or fewer than the payload length field says.
    case truncated
    /// More bytes than the largest frame of this schedule (36 + M + the largest payload).
    case tooLong
    /// The version byte is not 2 (FrameFormat.version).
    case badVersion
    /// The payload length field exceeds the schedule's largest payload, or the byte count exceeds
    /// 36 + M + payload length.
    case payloadLengthMismatch
    /// The CRC over the frame and the receiver's C-state does not match: corruption, or a sender
    /// whose C-state differs from the receiver's (implicit C-state agreement).
    case crcMismatch
    /// A reserved flag bit (2–7) is set.
    case reservedFlags
    /// The mode field, or the pending-mode field (other than 0xFFFF), names no mode of the schedule.
    case modeOutOfRange
    /// The slot field names no slot of the frame's mode.
    case slotOutOfRange
    /// The sender field names no node.
    case senderOutOfRange
    /// A padding bit of the membership vector's last byte (node ≥ N) is set.
    case membershipPaddingBits
    /// The CRC verifies against the receiver's C-state but the explicit header fields or membership
    /// vector differ from it: the sender wrote a header that is not its C-state (a faulty sender).
    case headerDisagreesWithCState

    public var description: String {
        switch self {
        case .truncated: return "truncated"
        case .tooLong: return "too long"
        case .badVersion: return "bad version"
        case .payloadLengthMismatch: return "payload length mismatch"
        case .crcMismatch: return "CRC mismatch (corruption or C-state disagreement)"
        case .reservedFlags: return "reserved flag bits set"
        case .modeOutOfRange: return "mode out of range"
        case .slotOutOfRange: return "slot out of range"
        case .senderOutOfRange: return "sender out of range"
        case .membershipPaddingBits: return "membership padding bits set"
        case .headerDisagreesWithCState: return "header disagrees with C-state"
        }
    }
}

/// A decoded frame that does not own its bytes: valid only while the buffer handed to `decode` is.
/// Nothing is copied; reading membership bits and the payload reads the buffer.
public struct FrameView {
    public let header: FrameHeader
    /// Exactly the frame's bytes, header to CRC.
    public let bytes: UnsafeRawBufferPointer
    /// N: the membership vector has ⌈N/8⌉ bytes.
    public let nodeCount: Int

    init(header: FrameHeader, bytes: UnsafeRawBufferPointer, nodeCount: Int) {
        self.header = header
        self.bytes = bytes
        self.nodeCount = nodeCount
    }

    private var membershipBytes: Int { (nodeCount + 7) / 8 }

    /// The payload bytes (a slice of `bytes`, rebased to start at index 0).
    public var payload: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(FrameOffset.membership + membershipBytes)..<(bytes.count - FrameFormat.trailerBytes)])
    }

    /// The CRC trailer as sent.
    public var crc: UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - FrameFormat.trailerBytes, as: UInt32.self))
    }

    /// Whether the frame's membership vector holds `node`. PRECONDITION 0 ≤ node < nodeCount.
    public func isMember(_ node: Int) -> Bool {
        precondition(node >= 0 && node < nodeCount, "node \(node) outside 0..<\(nodeCount)")
        return bytes[FrameOffset.membership + (node >> 3)] & (1 << UInt8(node & 7)) != 0
    }

    /// Copies the frame's membership vector into `membership` (no allocation if it is uniquely
    /// referenced). PRECONDITION membership.capacity == nodeCount.
    public func copyMembership(into membership: inout MembershipVector) {
        precondition(membership.capacity == nodeCount, "membership capacity \(membership.capacity) ≠ \(nodeCount) nodes")
        for index in 0..<membershipBytes { membership.setByte(at: index, to: bytes[FrameOffset.membership + index]) }
    }

    /// Copies the frame's explicit C-state (schedule identity, mode, round, slot, membership) into
    /// `cState`: how an integrating node adopts the cluster's C-state. PRECONDITION the capacity of
    /// `cState.membership` is nodeCount.
    public func copyCState(into cState: inout CState) {
        cState.scheduleIdentity = header.scheduleIdentity
        cState.mode = header.mode
        cState.round = header.round
        cState.slot = header.slot
        cState.pendingMode = header.pendingMode
        copyMembership(into: &cState.membership)
    }
}

/// What `FrameCodec.decode` concluded.
public enum DecodeResult {
    case valid(FrameView)
    case rejected(FrameRejection)

    /// The rejection reason, or nil for a valid frame.
    public var rejection: FrameRejection? {
        if case .rejected(let reason) = self { return reason }
        return nil
    }

    /// The view, or nil for a rejected frame.
    public var view: FrameView? {
        if case .valid(let view) = self { return view }
        return nil
    }
}

/// Why a schedule cannot be carried by this wire format (the frame layout's own limits).
public enum FrameSizingError: Error, Sendable, Equatable {
    /// More nodes than MembershipVector.maximumCapacity.
    case tooManyNodes(Int)
    /// More modes, or more slots in a mode, than a u16 field can name.
    case tooManySlotsOrModes
    /// The largest payload of a slot exceeds the u16 payload length field.
    case payloadTooLarge(mode: Int, slot: Int, bytes: Int64)
}

/// Encodes and decodes frames of one schedule. Sized at start-up from the node count, the slots of
/// each mode and the largest payload; `encode` and `decode` allocate nothing.
public struct FrameCodec: Sendable {
    /// N.
    public let nodeCount: Int
    /// The largest payload any slot of any mode carries (bytes); the decoder rejects longer ones.
    public let maximumPayloadBytes: Int
    /// Slots per mode, indexed by mode.
    public let slotCountPerMode: [Int]

    /// ⌈N/8⌉.
    public var membershipBytes: Int { (nodeCount + 7) / 8 }
    /// A frame with an empty payload: 36 + ⌈N/8⌉ bytes.
    public var minimumFrameBytes: Int { frameBytes(payloadBytes: 0) }
    /// A frame with the largest payload: the buffer size a receiver needs.
    public var maximumFrameBytes: Int { frameBytes(payloadBytes: maximumPayloadBytes) }

    /// The size of a frame carrying `payloadBytes` (= FrameLayout.frameBytes).
    public func frameBytes(payloadBytes: Int) -> Int {
        FrameFormat.headerBytes + membershipBytes + payloadBytes + FrameFormat.trailerBytes
    }

    /// A codec for `nodeCount` nodes, modes with the given slot counts and payloads up to
    /// `maximumPayloadBytes`. PRECONDITION 1 ≤ nodeCount ≤ 4096, 1 ≤ modes ≤ 65536, every slot count
    /// in 0...65536, 0 ≤ maximumPayloadBytes ≤ 65535 (use `init(schedule:)` for external input).
    public init(nodeCount: Int, slotCountPerMode: [Int], maximumPayloadBytes: Int) {
        precondition(nodeCount >= 1 && nodeCount <= MembershipVector.maximumCapacity, "node count \(nodeCount) outside 1...4096")
        precondition(!slotCountPerMode.isEmpty && slotCountPerMode.count <= 1 << 16, "mode count outside 1...65536")
        precondition(slotCountPerMode.allSatisfy { $0 >= 0 && $0 <= 1 << 16 }, "slot count outside 0...65536")
        precondition(maximumPayloadBytes >= 0 && maximumPayloadBytes <= FrameFormat.maximumPayloadBytes,
                     "maximum payload \(maximumPayloadBytes) outside 0...65535")
        self.nodeCount = nodeCount
        self.slotCountPerMode = slotCountPerMode
        self.maximumPayloadBytes = maximumPayloadBytes
    }

    /// A codec for a validated schedule: its node count, the slots of each mode, and the largest
    /// payload of any slot (the messages due in it, summed, over a cluster cycle, as the validator
    /// sizes slots). Throws if the schedule exceeds what the frame layout can carry.
    public init(schedule: Schedule) throws(FrameSizingError) {
        guard schedule.nodes.count >= 1 && schedule.nodes.count <= MembershipVector.maximumCapacity else {
            throw .tooManyNodes(schedule.nodes.count)
        }
        guard schedule.modes.count <= 1 << 16, schedule.modes.allSatisfy({ $0.slots.count <= 1 << 16 }) else {
            throw .tooManySlotsOrModes
        }
        var largest: Int64 = 0
        for (m, mode) in schedule.modes.enumerated() {
            let payloads = Analysis.slotPayloads(slots: mode.slots, messages: schedule.messages, cluster: schedule.cluster)
            for (s, bytes) in payloads.enumerated() {
                if bytes > Int64(FrameFormat.maximumPayloadBytes) { throw .payloadTooLarge(mode: m, slot: s, bytes: bytes) }
                largest = max(largest, bytes)
            }
        }
        self.init(nodeCount: schedule.nodes.count, slotCountPerMode: schedule.modes.map(\.slots.count),
                  maximumPayloadBytes: Int(largest))
    }

    // MARK: Encoding

    /// Writes one frame into `buffer` and returns its length, `frameBytes(payloadBytes: payload.count)`.
    /// The CRC covers the frame and then `cState` (the sender's own C-state). Allocates nothing.
    ///
    /// PRECONDITIONS (this node's own state; a violation is a programmer error and traps): the
    /// buffer holds the frame; payload ≤ maximumPayloadBytes; mode, slot and sender in range; no
    /// reserved flag set; membership and cState.membership have capacity N; the header's schedule
    /// identity, mode, round and slot and `membership` equal `cState`'s (the header is the sender's
    /// C-state made explicit; the decoder checks the same).
    public func encode(header: FrameHeader, membership: MembershipVector, payload: UnsafeRawBufferPointer,
                       cState: CState, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let length = frameBytes(payloadBytes: payload.count)
        precondition(buffer.count >= length, "frame of \(length) bytes does not fit a buffer of \(buffer.count)")
        precondition(payload.count <= maximumPayloadBytes, "payload of \(payload.count) bytes exceeds the maximum \(maximumPayloadBytes)")
        precondition(header.mode >= 0 && header.mode < slotCountPerMode.count, "mode \(header.mode) out of range")
        precondition(header.slot >= 0 && header.slot < slotCountPerMode[header.mode], "slot \(header.slot) out of range")
        precondition(header.sender >= 0 && header.sender < nodeCount, "sender \(header.sender) out of range")
        precondition(header.flags.isSubset(of: .defined), "reserved flag bits set")
        precondition(header.pendingMode.map { $0 >= 0 && $0 < slotCountPerMode.count } ?? true, "pending mode out of range")
        precondition(membership.capacity == nodeCount && cState.membership.capacity == nodeCount, "membership capacity ≠ node count")
        precondition(header.scheduleIdentity == cState.scheduleIdentity && header.mode == cState.mode
                     && header.round == cState.round && header.slot == cState.slot && header.pendingMode == cState.pendingMode
                     && membership == cState.membership,
                     "frame header disagrees with the sender's C-state")

        buffer[FrameOffset.version] = FrameFormat.version
        buffer[FrameOffset.flags] = header.flags.rawValue
        // Every store below is within [0, length) ⊆ buffer (checked above); storeBytes on a raw
        // buffer pointer allows unaligned offsets.
        buffer.storeBytes(of: UInt16(header.mode).littleEndian, toByteOffset: FrameOffset.mode, as: UInt16.self)
        buffer.storeBytes(of: header.scheduleIdentity.littleEndian, toByteOffset: FrameOffset.scheduleIdentity, as: UInt64.self)
        buffer.storeBytes(of: header.round.littleEndian, toByteOffset: FrameOffset.round, as: UInt64.self)
        buffer.storeBytes(of: UInt16(header.slot).littleEndian, toByteOffset: FrameOffset.slot, as: UInt16.self)
        buffer.storeBytes(of: UInt16(header.sender).littleEndian, toByteOffset: FrameOffset.sender, as: UInt16.self)
        let lateness = Int32(clamping: header.sendLateness.nanoseconds)  // saturates, as documented on the field
        buffer.storeBytes(of: lateness.littleEndian, toByteOffset: FrameOffset.sendLateness, as: Int32.self)
        buffer.storeBytes(of: UInt16(payload.count).littleEndian, toByteOffset: FrameOffset.payloadLength, as: UInt16.self)
        let pending = header.pendingMode.map { UInt16($0) } ?? FrameFormat.noPendingMode
        buffer.storeBytes(of: pending.littleEndian, toByteOffset: FrameOffset.pendingMode, as: UInt16.self)
        membership.write(into: buffer, at: FrameOffset.membership)
        let payloadOffset = FrameOffset.membership + membershipBytes
        if let source = payload.baseAddress, payload.count > 0 {
            (buffer.baseAddress! + payloadOffset).copyMemory(from: source, byteCount: payload.count)
        }
        let crcOffset = payloadOffset + payload.count
        var crc = CRC32C()
        crc.update(UnsafeRawBufferPointer(rebasing: buffer[0..<crcOffset]))
        cState.update(&crc)
        buffer.storeBytes(of: crc.value.littleEndian, toByteOffset: crcOffset, as: UInt32.self)
        return length
    }

    // MARK: Decoding

    /// Decodes `bytes` (exactly one received frame) as a receiver holding `expectedCState`: the CRC
    /// is recomputed over the frame and `expectedCState`, so a sender with a different C-state is
    /// rejected (`.crcMismatch`). Never traps on any `bytes`; allocates nothing.
    ///
    /// Checks, in order: size (`.truncated`, `.tooLong`), `.badVersion`, `.payloadLengthMismatch`
    /// (with `.truncated` when the bytes end before the stated payload), `.crcMismatch`,
    /// `.reservedFlags`, `.modeOutOfRange`, `.slotOutOfRange`, `.senderOutOfRange`,
    /// `.membershipPaddingBits`, `.headerDisagreesWithCState`. The structural checks come first
    /// because the CRC's position depends on them; the field checks come after the CRC so that
    /// corruption is reported as corruption and a field error means the sender wrote it.
    ///
    /// PRECONDITION (the receiver's own state): expectedCState has N-bit membership, its mode and
    /// slot are in range.
    public func decode(_ bytes: UnsafeRawBufferPointer, expectedCState: CState) -> DecodeResult {
        precondition(expectedCState.membership.capacity == nodeCount, "C-state membership capacity ≠ node count")
        precondition(expectedCState.mode >= 0 && expectedCState.mode < slotCountPerMode.count
                     && expectedCState.slot >= 0 && expectedCState.slot < slotCountPerMode[expectedCState.mode],
                     "C-state mode or slot out of range")
        let length: Int
        switch checkStructure(bytes) {
        case .rejected(let reason): return .rejected(reason)
        case .length(let frameLength): length = frameLength
        }
        var crc = CRC32C()
        crc.update(UnsafeRawBufferPointer(rebasing: bytes[0..<(length - FrameFormat.trailerBytes)]))
        expectedCState.update(&crc)
        if crc.value != storedCRC(bytes, length: length) { return .rejected(.crcMismatch) }
        if let reason = checkFields(bytes) { return .rejected(reason) }
        let header = Self.readHeader(bytes)
        if header.scheduleIdentity != expectedCState.scheduleIdentity || header.mode != expectedCState.mode
            || header.round != expectedCState.round || header.slot != expectedCState.slot
            || header.pendingMode != expectedCState.pendingMode
            || !expectedCState.membership.equalsEncoding(in: bytes, at: FrameOffset.membership) {
            return .rejected(.headerDisagreesWithCState)
        }
        return .valid(FrameView(header: header, bytes: bytes, nodeCount: nodeCount))
    }

    /// Decodes `bytes` as a node WITHOUT a C-state (starting up or re-integrating): the CRC is
    /// recomputed over the frame and the C-state its own header states, so a valid result means the
    /// frame is intact and its sender held that C-state. Whether to adopt it (flag `carriesCState`,
    /// big-bang rule, integration counter) is the controller's decision. Also a diagnostic: a
    /// frame rejected by `decode` but valid here came from a sender whose C-state differs.
    /// Never traps on any `bytes`; allocates nothing. Checks as `decode`, without the last one.
    public func decodeForIntegration(_ bytes: UnsafeRawBufferPointer) -> DecodeResult {
        let length: Int
        switch checkStructure(bytes) {
        case .rejected(let reason): return .rejected(reason)
        case .length(let frameLength): length = frameLength
        }
        // The canonical C-state encoding, read from the frame's own fields (bounds: length ≥ 36 + M).
        var crc = CRC32C()
        crc.update(UnsafeRawBufferPointer(rebasing: bytes[0..<(length - FrameFormat.trailerBytes)]))
        crc.update(UnsafeRawBufferPointer(rebasing: bytes[FrameOffset.scheduleIdentity..<(FrameOffset.scheduleIdentity + 8)]))
        crc.update(UnsafeRawBufferPointer(rebasing: bytes[FrameOffset.mode..<(FrameOffset.mode + 2)]))
        crc.update(UnsafeRawBufferPointer(rebasing: bytes[FrameOffset.round..<(FrameOffset.round + 8)]))
        crc.update(UnsafeRawBufferPointer(rebasing: bytes[FrameOffset.slot..<(FrameOffset.slot + 2)]))
        crc.update(UnsafeRawBufferPointer(rebasing: bytes[FrameOffset.pendingMode..<(FrameOffset.pendingMode + 2)]))
        crc.update(UnsafeRawBufferPointer(rebasing: bytes[FrameOffset.membership..<(FrameOffset.membership + membershipBytes)]))
        if crc.value != storedCRC(bytes, length: length) { return .rejected(.crcMismatch) }
        if let reason = checkFields(bytes) { return .rejected(reason) }
        return .valid(FrameView(header: Self.readHeader(bytes), bytes: bytes, nodeCount: nodeCount))
    }

    private enum Structure {
        case length(Int)
        case rejected(FrameRejection)
    }

    /// Size, version and payload length. On success the frame is exactly `bytes.count` bytes and at
    /// least `minimumFrameBytes`, so every fixed offset and the CRC offset are in bounds.
    private func checkStructure(_ bytes: UnsafeRawBufferPointer) -> Structure {
        if bytes.count < minimumFrameBytes { return .rejected(.truncated) }
        if bytes.count > maximumFrameBytes { return .rejected(.tooLong) }
        if bytes[FrameOffset.version] != FrameFormat.version { return .rejected(.badVersion) }
        let payloadLength = Int(Self.readUInt16(bytes, FrameOffset.payloadLength))
        if payloadLength > maximumPayloadBytes { return .rejected(.payloadLengthMismatch) }
        let length = frameBytes(payloadBytes: payloadLength)
        if bytes.count < length { return .rejected(.truncated) }
        if bytes.count > length { return .rejected(.payloadLengthMismatch) }
        return .length(length)
    }

    /// Flags, index ranges and membership padding. PRECONDITION checkStructure accepted `bytes`.
    private func checkFields(_ bytes: UnsafeRawBufferPointer) -> FrameRejection? {
        if bytes[FrameOffset.flags] & ~FrameFlags.defined.rawValue != 0 { return .reservedFlags }
        let mode = Int(Self.readUInt16(bytes, FrameOffset.mode))
        if mode >= slotCountPerMode.count { return .modeOutOfRange }
        let pending = Self.readUInt16(bytes, FrameOffset.pendingMode)
        if pending != FrameFormat.noPendingMode && Int(pending) >= slotCountPerMode.count { return .modeOutOfRange }
        if Int(Self.readUInt16(bytes, FrameOffset.slot)) >= slotCountPerMode[mode] { return .slotOutOfRange }
        if Int(Self.readUInt16(bytes, FrameOffset.sender)) >= nodeCount { return .senderOutOfRange }
        let lastMembershipByte = bytes[FrameOffset.membership + membershipBytes - 1]
        if lastMembershipByte & ~MembershipVector.lastByteMask(capacity: nodeCount) != 0 { return .membershipPaddingBits }
        return nil
    }

    private func storedCRC(_ bytes: UnsafeRawBufferPointer, length: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: length - FrameFormat.trailerBytes, as: UInt32.self))
    }

    /// PRECONDITION bytes.count ≥ FrameFormat.headerBytes (checkStructure guarantees more).
    private static func readHeader(_ bytes: UnsafeRawBufferPointer) -> FrameHeader {
        let pending = readUInt16(bytes, FrameOffset.pendingMode)
        return FrameHeader(
            flags: FrameFlags(rawValue: bytes[FrameOffset.flags]),
            mode: Int(readUInt16(bytes, FrameOffset.mode)),
            scheduleIdentity: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: FrameOffset.scheduleIdentity, as: UInt64.self)),
            round: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: FrameOffset.round, as: UInt64.self)),
            slot: Int(readUInt16(bytes, FrameOffset.slot)),
            sender: Int(readUInt16(bytes, FrameOffset.sender)),
            sendLateness: .nanoseconds(Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: FrameOffset.sendLateness, as: Int32.self)))),
            pendingMode: pending == FrameFormat.noPendingMode ? nil : Int(pending))
    }

    /// The sender and pending-mode fields of a datagram, read WITHOUT any check (nil when too short
    /// to hold them): lets a receiver file a datagram under the right slot before judging it, and
    /// test a mode-change request against its C-state. Never traps.
    public static func peek(_ bytes: UnsafeRawBufferPointer) -> (sender: Int, slot: Int, sendLateness: Interval, pendingMode: Int?)? {
        guard bytes.count >= FrameFormat.headerBytes else { return nil }
        let p = readUInt16(bytes, FrameOffset.pendingMode)
        let lateness = Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: FrameOffset.sendLateness, as: Int32.self))
        return (Int(readUInt16(bytes, FrameOffset.sender)), Int(readUInt16(bytes, FrameOffset.slot)),
                .nanoseconds(Int64(lateness)), p == FrameFormat.noPendingMode ? nil : Int(p))
    }

    private static func readUInt16(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
}
