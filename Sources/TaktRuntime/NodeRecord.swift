// The fixed binary record a running node reports (`takt node --records`), one per round and one
// per membership change, that `takt cluster` reads from each node's pipe: a node's state at a known
// HOST instant, so precision is measured against the host clock every node shares. Fixed size, no
// allocation to write (the executive's loop writes it with one non-blocking write(2)).
//
// Layout (little-endian), RecordLayout.bytes = 352:
//    0 u8  kind (1 round end, 2 membership change, 3 final summary)
//    1 u8  status (0 listening, 1 integrating, 2 cold starting, 3 active, 4 frozen)
//    2 u16 node
//    4 u32 mode
//    8 u64 round
//   16 i64 host instant (CLOCK_MONOTONIC ns)
//   24 i64 the node's cluster time at that host instant (ns)
//   32 4×u64 membership, nodes 0–255
//   64 8×u32 counters: frames sent, accepted, missing, rejected, foreign datagrams, guardian
//            suppressions, restarts after freeze, records dropped
//   96 i64 dispatch lateness: maximum of the round (kind 1) or p50 (kind 3)
//  104 i64 dispatch lateness p99 (kind 3); kinds 1 and 2: the host instant the action that wrote
//            the record was due (CLOCK_MONOTONIC ns) — a stalled process acts late, its schedule
//            does not
//  112 i64 dispatch lateness maximum over the run (kind 3), else 0
//  120 u32 overruns (actions started after the next action's instant had passed)
//  124 u32 deviation count D (≤ 56)
//  128 56×i32 this round's clock reading of senders 0–55 (ns; Int32.min: none)
//  352 end

import TaktTime

public enum RecordKind: UInt8, Sendable { case roundEnd = 1, membershipChange = 2, summary = 3 }

public enum RecordLayout {
    public static let bytes = 352
    public static let maximumDeviations = 56
    public static let membershipNodes = 256
}

public struct NodeRecord: Sendable, Equatable {
    public var kind: RecordKind
    public var status: UInt8
    public var node: Int
    public var mode: Int
    public var round: UInt64
    public var host: LocalInstant
    public var cluster: Int64
    public var membership: (UInt64, UInt64, UInt64, UInt64)
    public var counters: NodeCounters
    public var latenessA: Interval
    public var latenessB: Interval
    public var latenessC: Interval
    /// Kinds 1 and 2: the host instant the action that wrote the record was due (`host` is when
    /// it ran; the difference is the process's lateness, e.g. a stall by the host).
    public var planned: LocalInstant?
    public var deviations: [Int32?]

    public init(kind: RecordKind, status: UInt8, node: Int, mode: Int, round: UInt64, host: LocalInstant, cluster: Int64,
                membership: (UInt64, UInt64, UInt64, UInt64), counters: NodeCounters,
                latenessA: Interval = .zero, latenessB: Interval = .zero, latenessC: Interval = .zero, planned: LocalInstant? = nil,
                deviations: [Int32?] = []) {
        self.kind = kind
        self.status = status
        self.node = node
        self.mode = mode
        self.round = round
        self.host = host
        self.cluster = cluster
        self.membership = membership
        self.counters = counters
        self.latenessA = latenessA
        self.latenessB = latenessB
        self.latenessC = latenessC
        self.planned = planned
        self.deviations = deviations
    }

    public static func == (a: NodeRecord, b: NodeRecord) -> Bool {
        a.kind == b.kind && a.status == b.status && a.node == b.node && a.mode == b.mode && a.round == b.round && a.host == b.host
            && a.cluster == b.cluster && a.membership == b.membership && a.counters == b.counters && a.latenessA == b.latenessA
            && a.latenessB == b.latenessB && a.latenessC == b.latenessC && a.planned == b.planned && a.deviations == b.deviations
    }

    public func isMember(_ node: Int) -> Bool {
        guard node >= 0 && node < RecordLayout.membershipNodes else { return false }
        let word: UInt64
        switch node / 64 {
        case 0: word = membership.0
        case 1: word = membership.1
        case 2: word = membership.2
        default: word = membership.3
        }
        return word & (1 << UInt64(node % 64)) != 0
    }

    /// Decodes one record; nil when the bytes are not a record (never traps).
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> NodeRecord? {
        guard bytes.count >= RecordLayout.bytes, let kind = RecordKind(rawValue: bytes[0]) else { return nil }
        func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        func i64(_ o: Int) -> Int64 { Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: Int64.self)) }
        func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        let count = min(Int(u32(124)), RecordLayout.maximumDeviations)
        var deviations: [Int32?] = []
        for i in 0..<count {
            let v = Int32(bitPattern: u32(128 + 4 * i))
            deviations.append(v == Int32.min ? nil : v)
        }
        var c = NodeCounters(sent: u32(64), accepted: u32(68), missing: u32(72), rejected: u32(76), foreign: u32(80),
                             guardianSuppressed: u32(84), restarts: u32(88), recordsDropped: u32(92))
        c.overruns = u32(120)
        let summary = kind == .summary
        return NodeRecord(kind: kind, status: bytes[1], node: Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self))),
                          mode: Int(u32(4)), round: u64(8), host: LocalInstant(nanoseconds: i64(16)), cluster: i64(24),
                          membership: (u64(32), u64(40), u64(48), u64(56)), counters: c,
                          latenessA: .nanoseconds(i64(96)), latenessB: .nanoseconds(summary ? i64(104) : 0), latenessC: .nanoseconds(i64(112)),
                          planned: summary || i64(104) == 0 ? nil : LocalInstant(nanoseconds: i64(104)), deviations: deviations)
    }
}

/// Counters a node keeps (wrapping u32 on the wire).
public struct NodeCounters: Sendable, Equatable {
    public var sent: UInt32 = 0
    public var accepted: UInt32 = 0
    public var missing: UInt32 = 0
    public var rejected: UInt32 = 0
    public var foreign: UInt32 = 0
    public var guardianSuppressed: UInt32 = 0
    public var restarts: UInt32 = 0
    public var recordsDropped: UInt32 = 0
    /// Actions that ended after the next action's instant had already passed (the loop fell behind).
    public var overruns: UInt32 = 0

    public init() {}
    public init(sent: UInt32, accepted: UInt32, missing: UInt32, rejected: UInt32, foreign: UInt32, guardianSuppressed: UInt32,
                restarts: UInt32, recordsDropped: UInt32) {
        self.sent = sent; self.accepted = accepted; self.missing = missing; self.rejected = rejected
        self.foreign = foreign; self.guardianSuppressed = guardianSuppressed; self.restarts = restarts; self.recordsDropped = recordsDropped
    }
}

/// Writes records into a caller-owned buffer of RecordLayout.bytes (no allocation).
public enum RecordWriter {
    public static func write(kind: RecordKind, status: UInt8, node: Int, mode: Int, round: UInt64, host: LocalInstant, cluster: Int64,
                             membershipWords: (UInt64, UInt64, UInt64, UInt64), counters: NodeCounters,
                             lateness: (Interval, Interval, Interval), planned: LocalInstant? = nil, deviationCount: Int,
                             deviation: (Int) -> Int32?, into buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= RecordLayout.bytes)
        precondition(planned == nil || (kind != .summary && lateness.1 == .zero), "offset 104 holds either p99 (summary) or the due instant")
        for i in 0..<RecordLayout.bytes { buffer[i] = 0 }
        buffer[0] = kind.rawValue
        buffer[1] = status
        buffer.storeBytes(of: UInt16(truncatingIfNeeded: node).littleEndian, toByteOffset: 2, as: UInt16.self)
        buffer.storeBytes(of: UInt32(truncatingIfNeeded: mode).littleEndian, toByteOffset: 4, as: UInt32.self)
        buffer.storeBytes(of: round.littleEndian, toByteOffset: 8, as: UInt64.self)
        buffer.storeBytes(of: host.nanoseconds.littleEndian, toByteOffset: 16, as: Int64.self)
        buffer.storeBytes(of: cluster.littleEndian, toByteOffset: 24, as: Int64.self)
        buffer.storeBytes(of: membershipWords.0.littleEndian, toByteOffset: 32, as: UInt64.self)
        buffer.storeBytes(of: membershipWords.1.littleEndian, toByteOffset: 40, as: UInt64.self)
        buffer.storeBytes(of: membershipWords.2.littleEndian, toByteOffset: 48, as: UInt64.self)
        buffer.storeBytes(of: membershipWords.3.littleEndian, toByteOffset: 56, as: UInt64.self)
        buffer.storeBytes(of: counters.sent.littleEndian, toByteOffset: 64, as: UInt32.self)
        buffer.storeBytes(of: counters.accepted.littleEndian, toByteOffset: 68, as: UInt32.self)
        buffer.storeBytes(of: counters.missing.littleEndian, toByteOffset: 72, as: UInt32.self)
        buffer.storeBytes(of: counters.rejected.littleEndian, toByteOffset: 76, as: UInt32.self)
        buffer.storeBytes(of: counters.foreign.littleEndian, toByteOffset: 80, as: UInt32.self)
        buffer.storeBytes(of: counters.guardianSuppressed.littleEndian, toByteOffset: 84, as: UInt32.self)
        buffer.storeBytes(of: counters.restarts.littleEndian, toByteOffset: 88, as: UInt32.self)
        buffer.storeBytes(of: counters.recordsDropped.littleEndian, toByteOffset: 92, as: UInt32.self)
        buffer.storeBytes(of: counters.overruns.littleEndian, toByteOffset: 120, as: UInt32.self)
        buffer.storeBytes(of: lateness.0.nanoseconds.littleEndian, toByteOffset: 96, as: Int64.self)
        buffer.storeBytes(of: (planned?.nanoseconds ?? lateness.1.nanoseconds).littleEndian, toByteOffset: 104, as: Int64.self)
        buffer.storeBytes(of: lateness.2.nanoseconds.littleEndian, toByteOffset: 112, as: Int64.self)
        let count = min(deviationCount, RecordLayout.maximumDeviations)
        buffer.storeBytes(of: UInt32(count).littleEndian, toByteOffset: 124, as: UInt32.self)
        for i in 0..<count {
            let v = deviation(i) ?? Int32.min
            buffer.storeBytes(of: v.littleEndian, toByteOffset: 128 + 4 * i, as: Int32.self)
        }
    }
}
