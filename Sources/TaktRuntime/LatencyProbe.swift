// End-to-end latency of atomic-broadcast messages, measured by the application hooks of a real
// node (`takt node --latency-records`, read by `takt bench latency`). Every process of a cluster on
// one host reads the same CLOCK_MONOTONIC, so a sender can stamp its host send instant into the
// message value and a receiver can subtract it from its host delivery instant:
//
//   sender, `beforeTransmit` of the slot where an instance's first copy goes out:
//       value[0..<8]  = host send instant (ns, little-endian Int64)
//       value[8..<16] = the instance number, little-endian, as many low bytes as the message has
//                       room for (0 to 8): the receiver checks them against the instance delivered
//   receiver, `onDelivery` at the instance's fixed delivery instant (last copy's slot end + Π):
//       latency = host delivery instant − stamped send instant
//
// A message needs at least `LatencyProbe.stampBytes` (8) bytes; `LatencyProbe.tooShort` lists the
// ones that have fewer, so the command refuses the schedule before it starts.
//
// The receiver collects one 24-byte entry per instance it is a destination of (delivered, or
// discarded by the protocol, or delivered with a value that carries no stamp of that instance)
// into a pre-allocated record of RecordLayout.bytes and hands the record to the sink when it is
// full, and on `flush()`. Nothing here allocates after init: the hooks run inside the executive's
// loop (Tests/TaktRuntimeTests proves 0 allocations per round with the probe installed).
//
// Latency record (little-endian, RecordLayout.bytes = 352; same stream as NodeRecord, told apart by
// the kind byte, which no NodeRecord uses):
//    0 u8  kind = LatencyRecordLayout.kind (4)
//    1 u8  entry count E (≤ 14)
//    2 u16 node (the receiver)
//    4 u32 latency records this probe could not hand to the sink before this one
//    8 u64 reserved (0)
//   16 E × 24-byte entries:
//        0 u16 message   2 u8 outcome (1 delivered, 2 discarded, 3 unstamped)   3 u8 reserved
//        4 u32 instance (low 32 bits)   8 i64 stamped host send instant (0 unless delivered)
//       16 i64 host delivery instant

import TaktProtocol
import TaktTime

public enum LatencyRecordLayout {
    public static let kind: UInt8 = 4
    public static let headerBytes = 16
    public static let entryBytes = 24
    public static let entriesPerRecord = (RecordLayout.bytes - headerBytes) / entryBytes  // 14
}

/// One instance at one receiver, as the probe saw it at the delivery instant.
public struct LatencyEntry: Sendable, Equatable {
    public enum Outcome: UInt8, Sendable {
        /// Delivered with this instance's stamp: `latency` is meaningful.
        case delivered = 1
        /// The protocol discarded the instance at this receiver (not active, frame missing, or a
        /// destination outside the membership at origination).
        case discarded = 2
        /// Delivered, but the value does not carry this instance's stamp (a sender that joined
        /// between the instance's copies sent an older value).
        case unstamped = 3
    }

    public var message: Int
    public var outcome: Outcome
    /// The instance number's low 32 bits.
    public var instance: UInt32
    /// Stamped host send instant (CLOCK_MONOTONIC), zero unless delivered.
    public var sent: LocalInstant
    /// Host instant of the delivery at the receiver.
    public var delivered: LocalInstant

    public init(message: Int, outcome: Outcome, instance: UInt32, sent: LocalInstant, delivered: LocalInstant) {
        self.message = message
        self.outcome = outcome
        self.instance = instance
        self.sent = sent
        self.delivered = delivered
    }

    /// Delivery − send, for a delivered entry.
    public var latency: Interval? { outcome == .delivered ? delivered - sent : nil }
}

/// A decoded latency record: the receiver and its entries.
public struct LatencyRecord: Sendable, Equatable {
    public var node: Int
    public var droppedBefore: UInt32
    public var entries: [LatencyEntry]

    /// Decodes one record; nil when the bytes are not a latency record (never traps).
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> LatencyRecord? {
        guard bytes.count >= RecordLayout.bytes, bytes[0] == LatencyRecordLayout.kind,
              Int(bytes[1]) <= LatencyRecordLayout.entriesPerRecord else { return nil }
        func i64(_ o: Int) -> Int64 { Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: Int64.self)) }
        func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        var entries: [LatencyEntry] = []
        for i in 0..<Int(bytes[1]) {
            let o = LatencyRecordLayout.headerBytes + i * LatencyRecordLayout.entryBytes
            guard let outcome = LatencyEntry.Outcome(rawValue: bytes[o + 2]) else { return nil }
            entries.append(LatencyEntry(message: Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self))),
                                        outcome: outcome, instance: u32(o + 4),
                                        sent: LocalInstant(nanoseconds: i64(o + 8)), delivered: LocalInstant(nanoseconds: i64(o + 16))))
        }
        return LatencyRecord(node: Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self))),
                             droppedBefore: u32(4), entries: entries)
    }
}

/// The sender's stamp and the receiver's measurement, installed as the executive's
/// `beforeTransmit` and `onDelivery` hooks. A class so that both hooks share it; sized at init.
public final class LatencyProbe {
    /// The smallest message the stamp fits in: the host send instant.
    public static let stampBytes = 8

    public let node: Int
    private let plans: [BroadcastPlan]
    /// Per message: whether this node is one of its destinations (in any mode).
    private let isDestination: [Bool]
    private let scratch: UnsafeMutableRawBufferPointer
    private let record: UnsafeMutableRawBufferPointer
    private var entryCount = 0
    private let sink: (UnsafeRawBufferPointer) -> Bool
    /// Records the sink refused (a slow reader of a non-blocking pipe).
    public private(set) var droppedRecords: UInt32 = 0
    /// Instances this node stamped as a sender, and entries it recorded as a receiver.
    public private(set) var stamped: UInt64 = 0
    public private(set) var recorded: UInt64 = 0

    /// The messages of `configuration`'s modes too short for the stamp: (message, size in bytes).
    public static func tooShort(_ configuration: ControllerConfiguration) -> [(message: Int, size: Int)] {
        let plan = configuration.plan
        return plan.messages.indices.filter { plan.size(of: $0) < stampBytes }.map { ($0, plan.size(of: $0)) }
    }

    /// PRECONDITION: every message is at least `stampBytes` long (check with `tooShort` first).
    public init(configuration: ControllerConfiguration, sink: @escaping (UnsafeRawBufferPointer) -> Bool) {
        precondition(LatencyProbe.tooShort(configuration).isEmpty, "a message is shorter than the latency stamp")
        node = configuration.node
        plans = configuration.modes.map(\.plan)
        let messages = configuration.plan.messages.count
        isDestination = (0..<messages).map { m in configuration.modes.contains { $0.plan.isDestination(configuration.node, of: m) } }
        let largest = configuration.modes.flatMap { mode in mode.plan.messages.indices.map { mode.plan.size(of: $0) } }.max() ?? 0
        scratch = .allocate(byteCount: max(largest, LatencyProbe.stampBytes), alignment: 8)
        scratch.initializeMemory(as: UInt8.self, repeating: 0)
        record = .allocate(byteCount: RecordLayout.bytes, alignment: 8)
        record.initializeMemory(as: UInt8.self, repeating: 0)
        self.sink = sink
    }

    deinit {
        scratch.deallocate()
        record.deallocate()
    }

    /// `beforeTransmit`: stamps `host` (now, on the host clock) and the instance number into every
    /// message of this node whose instance's first copy goes out in (round, slot).
    public func stamp(_ controller: inout NodeController, round: UInt64, slot: Int, host: LocalInstant) {
        let plan = plans[controller.mode(ofRound: round)]
        guard slot < plan.slotCount else { return }
        for k in plan.originationIndices(round: round, slot: slot) {
            let m = plan.origination(k)
            guard plan.sender(of: m) == node else { continue }
            let size = plan.size(of: m)
            let instance = plan.instance(message: m, firstRound: round)
            scratch.storeBytes(of: host.nanoseconds.littleEndian, toByteOffset: 0, as: Int64.self)
            for i in LatencyProbe.stampBytes..<size {
                let shift = (i - LatencyProbe.stampBytes) * 8
                scratch[i] = shift < 64 ? UInt8(truncatingIfNeeded: instance >> UInt64(shift)) : 0
            }
            controller.write(message: m, UnsafeRawBufferPointer(start: scratch.baseAddress, count: size))
            stamped &+= 1
        }
    }

    /// `onDelivery`: one entry per instance this node is a destination of.
    public func record(_ delivery: Delivery, host: LocalInstant) {
        let m = delivery.message
        guard m < isDestination.count, isDestination[m] else { return }
        var outcome = LatencyEntry.Outcome.discarded
        var sent: Int64 = 0
        if delivery.delivered {
            outcome = .unstamped
            let value = delivery.value
            if value.count >= LatencyProbe.stampBytes {
                let stamp = Int64(littleEndian: value.loadUnaligned(fromByteOffset: 0, as: Int64.self))
                var matches = stamp > 0
                for i in LatencyProbe.stampBytes..<value.count {
                    let shift = (i - LatencyProbe.stampBytes) * 8
                    let expected = shift < 64 ? UInt8(truncatingIfNeeded: delivery.instance >> UInt64(shift)) : 0
                    if value[i] != expected { matches = false }
                }
                if matches {
                    outcome = .delivered
                    sent = stamp
                }
            }
        }
        let o = LatencyRecordLayout.headerBytes + entryCount * LatencyRecordLayout.entryBytes
        record.storeBytes(of: UInt16(truncatingIfNeeded: m).littleEndian, toByteOffset: o, as: UInt16.self)
        record[o + 2] = outcome.rawValue
        record[o + 3] = 0
        record.storeBytes(of: UInt32(truncatingIfNeeded: delivery.instance).littleEndian, toByteOffset: o + 4, as: UInt32.self)
        record.storeBytes(of: sent.littleEndian, toByteOffset: o + 8, as: Int64.self)
        record.storeBytes(of: host.nanoseconds.littleEndian, toByteOffset: o + 16, as: Int64.self)
        entryCount += 1
        recorded &+= 1
        if entryCount == LatencyRecordLayout.entriesPerRecord { flush() }
    }

    /// Hands the entries collected so far to the sink as one record (none: nothing to do).
    public func flush() {
        guard entryCount > 0 else { return }
        record[0] = LatencyRecordLayout.kind
        record[1] = UInt8(entryCount)
        record.storeBytes(of: UInt16(truncatingIfNeeded: node).littleEndian, toByteOffset: 2, as: UInt16.self)
        record.storeBytes(of: droppedRecords.littleEndian, toByteOffset: 4, as: UInt32.self)
        record.storeBytes(of: UInt64(0), toByteOffset: 8, as: UInt64.self)
        // Unused entries are zeroed so a record's bytes depend only on its entries.
        for i in (LatencyRecordLayout.headerBytes + entryCount * LatencyRecordLayout.entryBytes)..<RecordLayout.bytes { record[i] = 0 }
        if !sink(UnsafeRawBufferPointer(record)) { droppedRecords &+= 1 }
        entryCount = 0
    }
}
