// Sensor tasks that turn events into state.
//
// Events (a pulse from a flow meter, a limit switch closing, an operator pressing a key) have
// exactly-once semantics: lose one and the consumer's picture is wrong forever; see one twice and
// it is wrong too. A time-triggered system does not send events. Instead a sensor task, released
// periodically, accumulates the events that happened since its previous release and publishes the
// result as a state message: the running total, how many came since the previous observation, and
// when the last one happened. That message has state semantics: the newest one supersedes the
// older ones, so a lost or discarded instance costs only freshness — the next instance's total
// still counts every event — and a consumer that reads twice sees the same state twice. This is
// the event-to-state conversion of Kopetz's real-time images.
//
// EventCounter is the accumulator (a plain value: no allocation, nothing shared); EventState is
// its fixed-layout observation.

import TaktTime

/// The state of an event stream at one observation: a fixed-layout value for a state message.
///
/// Layout (24 bytes, little-endian): total (UInt64), sincePrevious (UInt64), lastEventAt (Int64 ns;
/// 0 when there has been no event).
/// Invariants (trapped by `init`, rejected by `init?(loading:)`): sincePrevious ≤ total, and
/// lastEventAt is nil exactly when total is 0 (its encoding is then 0).
public struct EventState: FixedLayout, Equatable, Hashable, Sendable {
    /// Events since the counter started (or since the state it was restored from), saturating at
    /// UInt64.max. The part a consumer should rely on: it survives lost messages.
    public var total: UInt64
    /// Events between the previous observation and this one (a rate over the sampling period).
    public var sincePrevious: UInt64
    /// Cluster instant of the newest event, or nil if there has been none.
    public var lastEventAt: ClusterInstant?

    /// PRECONDITION sincePrevious ≤ total, and lastEventAt == nil exactly when total == 0.
    public init(total: UInt64, sincePrevious: UInt64, lastEventAt: ClusterInstant?) {
        precondition(sincePrevious <= total, "event state: \(sincePrevious) events since the previous observation exceed the total \(total)")
        precondition((lastEventAt == nil) == (total == 0), "event state: lastEventAt must be nil exactly when total is 0")
        self.total = total
        self.sincePrevious = sincePrevious
        self.lastEventAt = lastEventAt
    }

    public static var byteCount: Int { 24 }

    public func store(to buffer: UnsafeMutableRawBufferPointer) {
        requireRoom(in: buffer, for: 24, EventState.self)
        buffer.storeBytes(of: total.littleEndian, as: UInt64.self)
        buffer.storeBytes(of: sincePrevious.littleEndian, toByteOffset: 8, as: UInt64.self)
        buffer.storeBytes(of: (lastEventAt?.nanoseconds ?? 0).littleEndian, toByteOffset: 16, as: Int64.self)
    }

    /// nil for a short buffer, sincePrevious > total, or a last-event instant other than 0 with a
    /// total of 0 (non-canonical). Never traps.
    public init?(loading buffer: UnsafeRawBufferPointer) {
        guard buffer.count >= 24 else { return nil }
        let total = UInt64(littleEndian: buffer.loadUnaligned(as: UInt64.self))
        let sincePrevious = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let last = Int64(littleEndian: buffer.loadUnaligned(fromByteOffset: 16, as: Int64.self))
        guard sincePrevious <= total, total != 0 || last == 0 else { return nil }
        self.total = total
        self.sincePrevious = sincePrevious
        self.lastEventAt = total == 0 ? nil : ClusterInstant(nanoseconds: last)
    }
}

/// Accumulates events between the observations of a periodic sensor task and turns them into a
/// state message at each observation. A value type; nothing allocates.
///
/// Use: the event source calls `record(at:)` with each event's timestamp (cluster time); the
/// sensor task, at its release, calls `observe(at: release, validity:)` and writes the message.
/// The observation covers every event recorded before the call. Counts SATURATE at UInt64.max
/// (never trap: the events come from outside). `lastEventAt` is the latest timestamp recorded,
/// whatever the order in which events were recorded.
public struct EventCounter: Equatable, Sendable {
    /// Events since the counter started (or since the restored state). Saturates.
    public private(set) var total: UInt64 = 0
    /// Events recorded since the previous observation. Saturates.
    public private(set) var pending: UInt64 = 0
    /// The latest event timestamp recorded, or nil.
    public private(set) var lastEventAt: ClusterInstant?

    /// A counter that has seen no event.
    public init() {}

    /// A counter that continues from `state` (a checkpoint, or the state the other replicas agree
    /// on after a restart): the total and the last event carry on; nothing is pending.
    public init(restoring state: EventState) {
        total = state.total
        lastEventAt = state.lastEventAt
    }

    /// Records one event timestamped `instant`.
    public mutating func record(at instant: ClusterInstant) {
        record(1, at: instant)
    }

    /// Records `count` events, the newest timestamped `instant`. A count of 0 changes nothing.
    public mutating func record(_ count: UInt64, at instant: ClusterInstant) {
        guard count > 0 else { return }
        let (sum, overflow) = total.addingReportingOverflow(count)
        total = overflow ? .max : sum
        let (newPending, pendingOverflow) = pending.addingReportingOverflow(count)
        pending = pendingOverflow ? .max : newPending
        if let last = lastEventAt, last >= instant { return }
        lastEventAt = instant
    }

    /// The state at observation instant `now`, as a message valid for `validity`, and the start of
    /// the next observation period (`pending` becomes 0).
    /// PRECONDITION as for `StateMessage.init`: validity ≥ 0 and now + validity fits in Int64.
    public mutating func observe(at now: ClusterInstant, validity: Interval) -> StateMessage<EventState> {
        let state = EventState(total: total, sincePrevious: min(pending, total), lastEventAt: lastEventAt)
        pending = 0
        return StateMessage(value: state, observedAt: now, validity: validity)
    }
}
