// The per-node dispatch table (in TTP terms, the node's MEDL): every instant at which the node
// must act during one hyperperiod of a mode, sorted. The executive of the real runtime walks this
// table; `takt show` prints it.

import TaktTime

public enum DispatchAction: Sendable, Equatable {
    /// Start transmitting the frame of `slot`.
    case transmit(slot: Int)
    /// The acceptance window of `slot` (another node's) closes: hand the frame, if any, to the protocol.
    case closeReceiveWindow(slot: Int)
    /// Release a task.
    case release(task: Int)
    /// Deliver an instance of a message (atomic broadcast's fixed delivery instant).
    case deliver(message: Int)

    /// Order of actions at the same instant: deliveries first (a task released at that instant
    /// reads the delivered value), then windows, then transmissions, then releases.
    var rank: Int {
        switch self {
        case .deliver: return 0
        case .closeReceiveWindow: return 1
        case .transmit: return 2
        case .release: return 3
        }
    }
}

public struct DispatchEntry: Sendable, Equatable {
    /// Offset from the start of the hyperperiod, in cluster time.
    public var time: Interval
    public var round: Int64
    public var action: DispatchAction
}

public enum DispatchTable {
    /// Builds `node`'s table for one hyperperiod of mode `m`. Returns nil when the hyperperiod is
    /// unknown (overflow) or the table would exceed `limit` entries.
    public static func build(schedule: Schedule, derived: DerivedResults, mode m: Int, node: Int, limit: Int = 1_000_000) -> [DispatchEntry]? {
        let mode = schedule.modes[m]
        let analysis = derived.modes[m]
        guard let h = analysis.hyperperiod else { return nil }
        let round = schedule.cluster.round
        let rounds = h / round
        var entries: [DispatchEntry] = []
        func add(_ time: Interval, _ action: DispatchAction) -> Bool {
            entries.append(DispatchEntry(time: time, round: time / round, action: action))
            return entries.count <= limit
        }
        for r in 0..<rounds {
            let roundStart = round * r
            for (s, slot) in mode.slots.enumerated() {
                if slot.sender == node {
                    if !add(roundStart + slot.offset, .transmit(slot: s)) { return nil }
                } else {
                    let close = roundStart + analysis.slots[s].receiveWindowEnd
                    if !add(close, .closeReceiveWindow(slot: s)) { return nil }
                }
            }
        }
        for (t, task) in mode.tasks.enumerated() where task.node == node {
            var release = task.offset
            while release < h {
                if !add(release, .release(task: t)) { return nil }
                release = release.saturatingAdd(task.period)
            }
        }
        for m in analysis.messages where m.sent && schedule.messages[m.message].destinations.contains(node) {
            var send = m.firstSendOffset
            while send < h {
                let delivery = send + m.deliveryBound
                // Deliveries past the hyperperiod wrap to its start (the table repeats).
                let wrapped = Interval(nanoseconds: IntegerMath.floorMod(delivery.nanoseconds, h.nanoseconds))
                if !add(wrapped, .deliver(message: m.message)) { return nil }
                send = send.saturatingAdd(m.periodInterval)
            }
        }
        entries.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            return a.action.rank < b.action.rank
        }
        return entries
    }
}
