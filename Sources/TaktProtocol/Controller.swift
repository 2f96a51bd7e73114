// The per-node TDMA controller (Docs/protocol.md): clock synchronization, membership in every
// frame, implicit acknowledgment, clique avoidance, startup (cold start with big bang and unique
// listen timeouts, integration), atomic broadcast and mode changes agreed through the C-state. A
// pure state machine: a driver (the simulator, or the real executive) asks `nextAction()` what to
// do next and when, calls the matching method at that local instant, and hands frames in with
// `frameArrived` as they arrive. No I/O, no clock reads, no allocation after init.
//
//   Integration (TTP/C): a restarting node listens; on a correct frame that carries the full
//   C-state it adopts round, slot, mode and membership, and sets its cluster clock so that the
//   frame's expected arrival is the arrival instant (the one place time may jump). It then judges
//   frames like an active node but does not send until `integrationFrames` further correct frames
//   agreed with its C-state; its first own frame makes the others add it to their membership.
//   Implicit acknowledgment (TTP/C): after sending, a node reads its first successor's frame. If it
//   fails in the node's view but is valid in the view "my own frame was lost", the successor did
//   not receive it: the successor is provisionally removed and the second successor decides — valid
//   in the node's view (the first successor erred) or valid only with the node absent (this node
//   has a send fault: it leaves and listens to re-integrate).
//
// Algorithms
//   Clock synchronization — fault-tolerant average (Kopetz & Ochsenreiter 1987; TTP/C) or midpoint
//   (Lundelius Welch & Lynch 1988): for every correct frame of a sync sender,
//       deviation δ = (arrival, in this node's cluster time) − (slot start + propagation + lateness)
//   where `lateness` is the sender's own measured dispatch lateness carried in the frame. Once per
//   round, with this node's own reading δ = 0 included, the k largest and k smallest δ are dropped
//   and the rest averaged (FTA) or their extremes' midpoint taken (FTM); the correction −δ̄ is
//   amortized by the ClusterClock (never a step). Bound: Π = (ε + 2ρR)·(N−2k)/(N−3k).
//   Membership — MARS/TTP/C: the vector is in every frame and folded into the CRC, so a receiver
//   accepts a frame only if it agrees with the sender on schedule, mode, round, slot and
//   membership. A frame is judged in the receiver's view with the sender's bit set (a sender
//   counts itself as a member when it sends), so a node that (re)joins is accepted by its first
//   correct frame. A sender whose frame is missing or wrong is removed at the end of its slot.
//   Clique avoidance (TTP/C): before its own slot a node counts the slots since its previous one
//   (its own transmission included as agreed); unless agreed > failed it freezes. A node that
//   accepted no correct frame from any other node in a round (blackout) freezes too.
//   Passivity — a node freezes when |correction| > Π (TTP/C uses Π/2 of its configured precision
//   window; Π here is the computed bound, which correct clocks never exceed), or when fewer than 2k + 1 clock readings
//   (its own included) were available for `maximumRoundsWithoutQuorum` consecutive rounds
//   (`maximumRoundsWithoutQuorumInMajority` while it holds a majority of the last stable
//   membership that had a quorum: a transient fault while another node is down costs a rejoin,
//   not a cold start; Docs/protocol.md, "Losing the quorum").
//
// Identifiers → symbols: `precision` Π, `faultTolerance` k, `round` R (as `roundLength`),
// `deviations` the δ of one round. Everything is sized at init; nothing allocates per slot.

import TaktSchedule
import TaktTime

public enum FreezeReason: Sendable, Equatable {
    case cliqueAvoidance(agreed: Int, failed: Int)
    case blackout
    case correctionTooLarge(Interval)
    case tooFewClockReadings(rounds: Int)
}

public enum ControllerStatus: Sendable, Equatable {
    /// (Re)starting: listening for a frame that carries the full C-state, or for cold-start
    /// frames, until the node's unique listen timeout expires.
    case listening
    /// C-state adopted; counting correct frames before sending (integration counter).
    case integrating(correctFrames: Int)
    /// This node started the cluster: it sends cold-start frames in its slots until another node
    /// answers with a correct frame.
    case coldStarting
    case active
    /// Passive for good; the host decides whether to restart the node (a new controller).
    case frozen(FreezeReason)
}

/// What the controller wants done next, and at which local instant (`NodeController.nextAction`).
/// A driver — the simulator or the real executive — sleeps until then and calls the matching method.
public enum ControllerAction: Sendable, Equatable {
    /// The node's own slot starts: call `transmit(round:slot:lateness:into:)`.
    case transmit(round: UInt64, slot: Int)
    /// Another node's slot ends: call `windowClosed(round:slot:)`.
    case closeWindow(round: UInt64, slot: Int)
    /// The round ends: call `roundEnded(round:at:)`.
    case endRound(round: UInt64)
    /// A listening node's unique timeout expires: call `listenTimedOut(at:)`.
    case listenTimeout
}

/// What happened in one slot, as this node judged it.
public enum SlotOutcome: Sendable, Equatable {
    case correct(sender: Int)
    case missing(sender: Int)
    case rejected(sender: Int, FrameRejection)
    /// A correct frame whose arrival deviates from the expected instant by more than Π + ε.
    case outsideWindow(sender: Int, deviation: Interval)
    /// Implicit acknowledgment: the first and second successors both judged this node's last
    /// frame lost, so this node has a send fault; it left the membership and listens to re-integrate.
    case selfDiagnosedSendFault
    /// Cold start: another node's cold-start frame arrived while this node was cold starting
    /// (both timeouts expired together); this node listens again, with the unique timeout.
    case coldStartContention(sender: Int)
    case notJudged
}

/// One message instance at its delivery instant (valid only during the `deliver` callback).
public struct Delivery {
    public var message: Int
    public var instance: UInt64
    public var delivered: Bool
    public var value: UnsafeRawBufferPointer

    public init(message: Int, instance: UInt64, delivered: Bool, value: UnsafeRawBufferPointer) {
        self.message = message
        self.instance = instance
        self.delivered = delivered
        self.value = value
    }
}

public struct RoundOutcome: Sendable, Equatable {
    public var correction: Interval?
    public var readings: Int
    /// The mode the next round runs in, when a mode change took effect at this round's end.
    public var modeChanged: Int? = nil
}

/// The slot table of one mode, as the controller walks it.
public struct ModeTable: Sendable {
    public var slotOffsets: [Interval]
    public var slotLengths: [Interval]
    public var slotSenders: [Int]
    public var slotCarriesCState: [Bool]
    /// Where every message copy travels in this mode (atomic broadcast).
    public var plan: BroadcastPlan
    /// Modes this one may change to (the schedule's `transitions`).
    public var transitions: [Int]
    /// This node's first slot in the mode, if it has one.
    public var firstOwnSlot: Int?
    /// Whether another node sends in this mode (a lone node cannot detect a blackout).
    public var hasOtherSenders: Bool
}

public struct ControllerConfiguration: Sendable {
    public var node: Int
    /// The mode a cold start begins in (the schedule's initial mode).
    public var initialMode: Int
    public var modes: [ModeTable]
    public var syncNodes: [Bool]
    public var roundLength: Interval
    /// Rounds per cluster cycle: mode changes take effect at cycle boundaries.
    public var cycleRounds: Int64
    public var propagation: Interval
    public var precision: Interval
    /// ε, the reading error assumed by the schedule.
    public var readingError: Interval
    public var faultTolerance: Int
    public var convergence: ConvergenceFunction
    public var scheduleIdentity: UInt64
    /// Rounds in a row with fewer than 2k + 1 clock readings before an active node freezes, when
    /// its membership no longer holds a majority of the last membership that had a quorum (the
    /// minority side of a partition, either side of an even split): short, so that two cliques
    /// never run for long.
    public var maximumRoundsWithoutQuorum = 2
    /// The same limit while the node's membership still holds a majority of the last membership
    /// that had a quorum and had not changed for a round — the primary component, of which there
    /// is at most one. Longer than a node needs to come back after a transient fault (about 2
    /// rounds: listen, adopt a C-state, 2 correct frames, its own slot), so that while one node is
    /// down a transient fault of another — a host stall — costs that node a rejoin, not the whole
    /// cluster a cold start (with 2 rounds, the 2 live nodes of 4 froze before the third came
    /// back). The clocks run uncorrected meanwhile: 4 rounds drift two of them apart by 8ρR at most.
    public var maximumRoundsWithoutQuorumInMajority = 4
    /// Correct frames an integrating node must see after adopting the C-state before it sends (≥ 2).
    public var integrationFrames = 2
    public var maximumSlew = DriftRate.partsPerMillion(10_000)  // 1 %
    /// Rate correction (optional): besides the state corrections, every `rateWindow` rounds the
    /// sum S of that window's corrections steers the clock's rate by S/(2·window·R) — half the
    /// drift they reveal, averaged over the window so reading noise does not steer it — within
    /// ClusterClock's ±500 ppm. Off by default (the schedule's Π assumes none).
    public var rateCorrection = false
    public var rateWindow = 16
    /// Whether this node may start the cluster when its listen timeout expires (it needs a slot in
    /// the initial mode).
    public var mayColdStart: Bool
    /// The node's unique listen timeout τ = 2R + (offset of its first slot in the initial mode):
    /// longer than a round, so a listening node hears a running cluster before it cold starts,
    /// and different for every node (slot offsets are), so two timeouts started by the same event
    /// expire a slot apart. Docs/protocol.md derives the worst-case startup time from it.
    public var listenTimeout: Interval

    /// A node whose round correction exceeds this goes passive. Default Π: two correct clocks never
    /// differ by more, so a larger correction means this node's own clock has failed.
    public var maximumCorrection: Interval

    /// Half the acceptance window: Π + ε (Docs/schedule-format.md, "receive window").
    public var acceptanceHalfWidth: Interval { precision + readingError }

    /// The configuration of `node` of a validated schedule; `mode` is the mode a cold start begins
    /// in (default: the schedule's initial mode).
    public init(schedule: Schedule, derived: DerivedResults, node: Int, mode: Int? = nil) {
        self.init(schedule: schedule, derived: derived, node: node, mode: mode,
                  plans: schedule.modes.indices.map { BroadcastPlan(schedule: schedule, mode: $0) })
    }

    /// The configurations of every node, sharing one broadcast plan per mode (a simulator's many
    /// controllers then read the same tables).
    public static func all(schedule: Schedule, derived: DerivedResults) -> [ControllerConfiguration] {
        let plans = schedule.modes.indices.map { BroadcastPlan(schedule: schedule, mode: $0) }
        return schedule.nodes.indices.map { ControllerConfiguration(schedule: schedule, derived: derived, node: $0, mode: nil, plans: plans) }
    }

    private init(schedule: Schedule, derived: DerivedResults, node: Int, mode: Int?, plans: [BroadcastPlan]) {
        let initial = mode ?? schedule.initialMode
        precondition(node >= 0 && node < schedule.nodes.count && initial >= 0 && initial < schedule.modes.count)
        self.node = node
        initialMode = initial
        let tables = schedule.modes.indices.map { m in
            let slots = schedule.modes[m].slots
            return ModeTable(slotOffsets: slots.map(\.offset), slotLengths: slots.map(\.length), slotSenders: slots.map(\.sender),
                             slotCarriesCState: slots.map(\.carriesCState), plan: plans[m],
                             transitions: schedule.modes[m].transitions, firstOwnSlot: slots.firstIndex { $0.sender == node },
                             hasOtherSenders: slots.contains { $0.sender != node })
        }
        modes = tables
        syncNodes = schedule.nodes.map(\.sync)
        roundLength = schedule.cluster.round
        cycleRounds = max(1, schedule.cluster.cycleRounds)
        propagation = schedule.cluster.propagation
        precision = derived.precision ?? .zero
        readingError = schedule.cluster.readingError
        maximumCorrection = precision
        faultTolerance = schedule.cluster.faultTolerance
        convergence = schedule.cluster.convergence
        scheduleIdentity = ScheduleIdentity.compute(schedule: schedule)
        let first = tables[initial].firstOwnSlot
        mayColdStart = first != nil
        let firstOffset = first.map { tables[initial].slotOffsets[$0] } ?? .zero
        listenTimeout = schedule.cluster.round * 2 + firstOffset
    }

    // The initial mode's tables, for callers that know only one mode.
    public var slotSenders: [Int] { modes[initialMode].slotSenders }
    public var slotOffsets: [Interval] { modes[initialMode].slotOffsets }
    public var plan: BroadcastPlan { modes[initialMode].plan }
}

public struct NodeController {
    public let configuration: ControllerConfiguration
    public let codec: FrameCodec
    public private(set) var clock: ClusterClock
    public private(set) var cState: CState
    public private(set) var status: ControllerStatus = .active
    /// Datagrams that claimed a sender other than the slot's (babbling in a foreign slot, or a frame
    /// arriving outside its sender's window), and datagrams too short to name a sender: dropped.
    public private(set) var foreignFrames = 0
    /// Cold-start contentions this node saw (its cold-start frame met another node's).
    public private(set) var contentions = 0

    // Where the node is in its schedule: the next slot to act on in `cursorRound`, or the round's end.
    private var cursorRound: UInt64 = 0
    private var cursorSlot = 0
    private var cursorAtRoundEnd = false
    // Listening: the timeout (local time) and the sender of the cold-start frame seen first (big bang).
    private var listenDeadline = LocalInstant.zero
    private var bigBangSender: Int?
    // A mode change the application asked for, put into the C-state at this node's next own slot.
    private var requestedMode: Int?
    // The first round of the current mode, and the mode before it (deliveries of its last round
    // may come after the change).
    private var modeStartRound: UInt64 = 0
    private var previousMode: Int

    // Per-round state, sized at init.
    private var deviations: UnsafeMutableBufferPointer<Interval>
    private var deviationCount = 0
    /// This round's clock reading of each sender (Int64.min: none yet), for a driver's report.
    private var senderDeviations: UnsafeMutableBufferPointer<Int64>
    private var agreedSinceOwnSlot = 0
    private var failedSinceOwnSlot = 0
    private var othersAgreedThisRound = 0
    private var roundsWithoutQuorum = 0
    // Rate correction: the corrections of the current window.
    private var rateSum: Int64 = 0
    private var rateRounds = 0
    /// Whether a round has ever had 2k + 1 clock readings since this node started: the quorum
    /// rule applies from then on (a forming cluster has fewer for a round or two).
    private var hadQuorum = false
    /// The membership at the last round end that had a quorum and the same membership as the
    /// round end before it (a view every member held for a whole round; MembershipVector words),
    /// its size, and the membership at the previous round end.
    private var quorateView: UnsafeMutableBufferPointer<UInt64>
    private var quorateCount = 0
    private var previousRoundView: UnsafeMutableBufferPointer<UInt64>
    // The frame received in the current window (the first one that names the slot's sender; a
    // second one naming it is a babbling fault of the sender).
    private var windowBuffer: UnsafeMutableRawBufferPointer
    private var windowLength = 0
    private var windowArrival = LocalInstant.zero
    private var windowFrames = 0
    private var windowOversized = false
    // A frame of the FOLLOWING window that arrived before the current one closed: the acceptance
    // window of a slot opens Π + ε before its nominal arrival, so a fast sender's frame can come
    // while this node (slower by up to Π) still waits for the previous slot to end.
    private var earlyBuffer: UnsafeMutableRawBufferPointer
    private var earlyLength = 0
    private var earlyArrival = LocalInstant.zero
    private var earlyFrames = 0
    private var earlyOversized = false
    private var earlySlot = -1
    /// Implicit acknowledgment of this node's last frame (TTP/C): no verdict yet from the first
    /// successor, or the first successor judged it lost and the second decides.
    private enum Acknowledgment { case none, awaitingFirst, awaitingSecond(first: Int) }
    private var acknowledgment = Acknowledgment.none

    // Atomic broadcast, sized at init: the application's latest value of every message, the value
    // of the instance being sent, and per message the instance being received.
    private let valueOffsets: [Int]
    private var values: UnsafeMutableRawBufferPointer        // written by the application
    private var outgoing: UnsafeMutableRawBufferPointer      // snapshot at the first copy
    private var incoming: UnsafeMutableRawBufferPointer      // the received instance's value
    private var incomingInstance: UnsafeMutableBufferPointer<UInt64>
    private var outgoingInstance: UnsafeMutableBufferPointer<UInt64>     // the instance `outgoing` holds
    private var incomingReceived: UnsafeMutableBufferPointer<Bool>
    private var incomingOriginValid: UnsafeMutableBufferPointer<Bool>
    private var payloadScratch: UnsafeMutableRawBufferPointer

    /// A (re)starting controller: listens for the cluster (or cold-start frames) from local instant
    /// `local` until its unique listen timeout expires.
    public init(configuration: ControllerConfiguration, codec: FrameCodec, listeningAt local: LocalInstant) {
        self.init(configuration: configuration, codec: codec, anchor: local, cluster: .zero,
                  members: MembershipVector(capacity: codec.nodeCount))
        status = .listening
        listenDeadline = local + configuration.listenTimeout
    }

    /// A controller already synchronized at (local, cluster) with the given membership, in the
    /// initial mode: how a test or a simulation starts a cluster that is already running.
    ///
    /// The controller owns manually allocated buffers (so the per-slot path never allocates): it
    /// is a value, but copies share those buffers; keep one copy per node and call `deallocate()`
    /// once when the node is torn down.
    public init(configuration: ControllerConfiguration, codec: FrameCodec, anchor local: LocalInstant, cluster: ClusterInstant,
                members: MembershipVector) {
        precondition(members.capacity == codec.nodeCount)
        self.configuration = configuration
        self.codec = codec
        clock = ClusterClock(anchor: local, cluster: cluster, maximumSlew: configuration.maximumSlew)
        let round = UInt64(max(0, cluster.nanoseconds / configuration.roundLength.nanoseconds))
        cState = CState(scheduleIdentity: configuration.scheduleIdentity, mode: configuration.initialMode, round: round, slot: 0, membership: members)
        cursorRound = round
        previousMode = configuration.initialMode
        table = configuration.modes[configuration.initialMode]
        deviations = .allocate(capacity: configuration.syncNodes.count + 1)
        quorateView = .allocate(capacity: members.words.count)
        quorateView.initialize(repeating: 0)
        previousRoundView = .allocate(capacity: members.words.count)
        previousRoundView.initialize(repeating: 0)
        senderDeviations = .allocate(capacity: configuration.syncNodes.count)
        senderDeviations.initialize(repeating: .min)
        var offsets: [Int] = []
        var total = 0
        for info in configuration.modes[configuration.initialMode].plan.messages { offsets.append(total); total += info.size }
        valueOffsets = offsets
        values = .allocate(byteCount: max(total, 1), alignment: 8)
        values.initializeMemory(as: UInt8.self, repeating: 0)
        outgoing = .allocate(byteCount: max(total, 1), alignment: 8)
        outgoing.initializeMemory(as: UInt8.self, repeating: 0)
        incoming = .allocate(byteCount: max(total, 1), alignment: 8)
        incoming.initializeMemory(as: UInt8.self, repeating: 0)
        let messageCount = max(offsets.count, 1)
        incomingInstance = .allocate(capacity: messageCount)
        incomingInstance.initialize(repeating: .max)
        outgoingInstance = .allocate(capacity: messageCount)
        outgoingInstance.initialize(repeating: .max)
        incomingReceived = .allocate(capacity: messageCount)
        incomingReceived.initialize(repeating: false)
        incomingOriginValid = .allocate(capacity: messageCount)
        incomingOriginValid.initialize(repeating: false)
        payloadScratch = .allocate(byteCount: max(codec.maximumPayloadBytes, 1), alignment: 8)
        windowBuffer = .allocate(byteCount: codec.maximumFrameBytes, alignment: 8)
        earlyBuffer = .allocate(byteCount: codec.maximumFrameBytes, alignment: 8)
        // Start at the slot that has not ended at the cluster instant (tests and drivers that call
        // transmit/windowClosed explicitly move the cursor themselves).
        let into = cluster - ClusterInstant(nanoseconds: Int64(round) * configuration.roundLength.nanoseconds)
        if let next = table.slotOffsets.indices.first(where: { table.slotOffsets[$0] + table.slotLengths[$0] > into }) {
            cursorSlot = next
        } else if !table.slotOffsets.isEmpty {
            cursorAtRoundEnd = true
        }
    }

    /// Releases the buffers allocated at init (the controller is a value with manual storage so
    /// that the per-slot path never allocates; call once when the node is torn down).
    public mutating func deallocate() {
        deviations.deallocate()
        quorateView.deallocate()
        previousRoundView.deallocate()
        senderDeviations.deallocate()
        windowBuffer.deallocate()
        earlyBuffer.deallocate()
        values.deallocate()
        outgoing.deallocate()
        incoming.deallocate()
        incomingInstance.deallocate()
        outgoingInstance.deallocate()
        incomingReceived.deallocate()
        incomingOriginValid.deallocate()
        payloadScratch.deallocate()
    }

    public var isActive: Bool { if case .active = status { true } else { false } }

    /// Listening for a frame to integrate on (or for its listen timeout).
    public var isListening: Bool { if case .listening = status { true } else { false } }

    /// The deviation (arrival − expected arrival, in this node's cluster time) of `sender`'s
    /// correct frame in the current round, if one was accepted; cleared when the round ends. A
    /// driver reads it before `roundEnded` to report the reading error it measures.
    public func roundDeviation(of sender: Int) -> Interval? {
        guard sender >= 0 && sender < senderDeviations.count, senderDeviations[sender] != .min else { return nil }
        return Interval(nanoseconds: senderDeviations[sender])
    }
    /// Sends frames and keeps a synchronized clock: active or cold starting.
    public var isOperating: Bool {
        switch status {
        case .active, .coldStarting: true
        case .listening, .integrating, .frozen: false
        }
    }
    /// The current mode's tables (a stored copy: set whenever the mode changes).
    private var table: ModeTable

    /// The cluster instant at which slot `slot` of round `round` starts (in the current mode).
    public func slotStart(round: UInt64, slot: Int) -> ClusterInstant {
        ClusterInstant(nanoseconds: Int64(round) * configuration.roundLength.nanoseconds + table.slotOffsets[slot].nanoseconds)
    }

    /// The cluster instant at which slot `slot` of round `round` ends: its window closes.
    public func slotEnd(round: UInt64, slot: Int) -> ClusterInstant {
        slotStart(round: round, slot: slot) + table.slotLengths[slot]
    }

    // MARK: Agenda

    /// What to do next and the local instant at which to do it; nil when frozen (nothing to do).
    /// The answer changes only through this controller's own methods, so a driver asks again after
    /// every call it makes (a frame arriving at a listening node can move its timeout).
    public func nextAction() -> (at: LocalInstant, action: ControllerAction)? {
        switch status {
        case .frozen: return nil
        case .listening: return (listenDeadline, .listenTimeout)
        case .integrating, .coldStarting, .active: break
        }
        if cursorAtRoundEnd || table.slotSenders.isEmpty {
            let end = ClusterInstant(nanoseconds: Int64(cursorRound + 1) * configuration.roundLength.nanoseconds)
            return (clock.localTime(at: end), .endRound(round: cursorRound))
        }
        if table.slotSenders[cursorSlot] == configuration.node {
            return (clock.localTime(at: slotStart(round: cursorRound, slot: cursorSlot)), .transmit(round: cursorRound, slot: cursorSlot))
        }
        return (clock.localTime(at: slotEnd(round: cursorRound, slot: cursorSlot)), .closeWindow(round: cursorRound, slot: cursorSlot))
    }

    /// Moves the cursor past (round, slot); a frame that arrived early for the window now open
    /// becomes the window's frame.
    private mutating func advance(past round: UInt64, slot: Int) {
        cursorRound = round
        if slot + 1 < table.slotSenders.count { cursorSlot = slot + 1; cursorAtRoundEnd = false } else { cursorAtRoundEnd = true }
        promoteEarlyFrame()
    }

    private mutating func promoteEarlyFrame() {
        guard earlySlot >= 0, windowFrames == 0 else { return }
        guard earlySlot == windowSlot() else { return }
        swap(&windowBuffer, &earlyBuffer)
        windowLength = earlyLength
        windowArrival = earlyArrival
        windowFrames = earlyFrames
        windowOversized = earlyOversized
        earlySlot = -1
        earlyFrames = 0
        earlyLength = 0
        earlyOversized = false
    }

    // MARK: Own slot

    /// The node's own slot begins. `lateness` is how late the driver actually sends (local time
    /// measured by the driver). Writes the frame into `buffer` and returns its length, or nil when
    /// the node stays silent (not operating, or freezing now by clique avoidance).
    public mutating func transmit(round: UInt64, slot: Int, lateness: Interval,
                                  into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        precondition(table.slotSenders[slot] == configuration.node, "slot \(slot) is not this node's")
        advance(past: round, slot: slot)
        guard isOperating else { return nil }
        // Clique avoidance: count the slots since the previous own slot, own transmission as agreed.
        if status == .active && failedSinceOwnSlot > 0 && agreedSinceOwnSlot + 1 <= failedSinceOwnSlot {
            status = .frozen(.cliqueAvoidance(agreed: agreedSinceOwnSlot + 1, failed: failedSinceOwnSlot))
            return nil
        }
        agreedSinceOwnSlot = 0
        failedSinceOwnSlot = 0
        cState.round = round
        cState.slot = slot
        cState.membership.insert(configuration.node)
        if let mode = requestedMode, cState.pendingMode == nil { cState.pendingMode = mode }
        requestedMode = nil
        acknowledgment = status == .active ? .awaitingFirst : .none
        // The payload: each message copy due in this slot, the instance's value frozen at its first copy.
        let plan = table.plan
        for k in plan.copyIndices(round: round, slot: slot) {
            let copy = plan.copy(k)
            let offset = valueOffsets[copy.message], size = plan.size(of: copy.message)
            let instance = plan.instance(message: copy.message, firstRound: plan.firstRound(ofCopy: copy.copy, message: copy.message, in: round))
            // The value is frozen at the instance's first copy. A node that (re)joined after that
            // copy's slot freezes its current value at the first copy it does send: every receiver
            // still gets one value per instance, one the application wrote.
            if copy.copy == 0 || outgoingInstance[copy.message] != instance {
                (outgoing.baseAddress! + offset).copyMemory(from: values.baseAddress! + offset, byteCount: size)
                outgoingInstance[copy.message] = instance
            }
            (payloadScratch.baseAddress! + copy.payloadOffset).copyMemory(from: outgoing.baseAddress! + offset, byteCount: size)
        }
        let payload = UnsafeRawBufferPointer(rebasing: payloadScratch[0..<plan.payloadLength(round: round, slot: slot)])
        recordOriginations(round: round, slot: slot)
        receiveCopies(round: round, slot: slot, payload: payload)  // a sender that is also a destination
        // (No array literal: an OptionSet built from one allocates in debug builds.)
        let flags = status == .coldStarting ? FrameFlags(rawValue: FrameFlags.coldStart.rawValue | FrameFlags.carriesCState.rawValue) : .carriesCState
        let header = FrameHeader(flags: flags, mode: cState.mode, scheduleIdentity: cState.scheduleIdentity,
                                 round: round, slot: slot, sender: configuration.node, sendLateness: lateness,
                                 pendingMode: cState.pendingMode)
        return codec.encode(header: header, membership: cState.membership, payload: payload, cState: cState, into: buffer)
    }

    // MARK: Other nodes' slots

    /// A datagram arrived (timestamped in this node's local time). An operating node keeps it for
    /// the slot it is waiting for if it names that slot's sender, and counts and drops it otherwise
    /// (a frame outside its sender's window, or babbling); a listening node examines it at once
    /// (integration, big bang).
    public mutating func frameArrived(_ bytes: UnsafeRawBufferPointer, at arrival: LocalInstant) {
        switch status {
        case .frozen: return
        case .listening: listen(bytes, at: arrival); return
        case .coldStarting:
            // Another node's cold-start frame, whenever it comes: both timeouts expired together
            // (contention). Listen again; the unique timeouts decide who starts the cluster.
            if let claimed = FrameCodec.peek(bytes), claimed.sender != configuration.node, bytes.count <= windowBuffer.count,
               case .valid(let view) = codec.decodeForIntegration(bytes), view.header.flags.contains(.coldStart),
               view.header.scheduleIdentity == configuration.scheduleIdentity,
               configuration.modes[view.header.mode].slotSenders[view.header.slot] == view.header.sender {
                becomeListening(at: arrival)
                bigBangSender = view.header.sender
                contentions += 1
                return
            }
        case .integrating, .active: break
        }
        guard let claimed = FrameCodec.peek(bytes), let slot = windowSlot() else {
            dropForeign(bytes, at: arrival)
            return
        }
        // The window's round: the next one when the cursor is past every other node's slot.
        let windowRound = cursorAtRoundEnd || slot < cursorSlot ? cursorRound + 1 : cursorRound
        let arrivalCluster = clock.clusterTime(at: arrival)
        let following = foreignSlot(after: slot)
        // A sender with consecutive slots: its next slot's frame may arrive while this window is
        // still open (the clocks differ by up to Π). The frame's own slot field (unverified here;
        // the CRC over the C-state checks it when judged) says which window it is for.
        var forFollowing = false
        if let following, claimed.slot == following, following != slot, table.slotSenders[following] == claimed.sender { forFollowing = true }
        if claimed.sender == table.slotSenders[slot] && !forFollowing {
            // Before the window opens (slot start + propagation − (Π + ε); send lateness is ≥ 0), no
            // correct frame of this sender can arrive: a frame sent outside its slot.
            // After the acceptance window closes (slot start + propagation + the send lateness the
            // frame states + (Π + ε)) no correct frame of this sender can arrive either: a stray
            // frame (a clock step, a babbling node) is dropped by every receiver alike instead of
            // being counted in the window by those whose clocks are behind.
            let start = slotStart(round: windowRound, slot: slot) + configuration.propagation
            guard arrivalCluster >= start - configuration.acceptanceHalfWidth,
                  arrivalCluster <= start + max(claimed.sendLateness, .zero) + configuration.acceptanceHalfWidth else {
                foreignFrames += 1
                return
            }
            windowFrames += 1
            guard windowFrames == 1 else { return }  // a second frame in one window: judged as babbling
            guard bytes.count <= windowBuffer.count else { windowOversized = true; return }
            if let source = bytes.baseAddress, bytes.count > 0 { windowBuffer.baseAddress!.copyMemory(from: source, byteCount: bytes.count) }
            windowLength = bytes.count
            windowArrival = arrival
            return
        }
        // The following slot's frame, if its acceptance window has opened: it cannot arrive before
        // slot start + propagation − (Π + ε) from a correct sender (send lateness is ≥ 0).
        guard let following, claimed.sender == table.slotSenders[following], earlySlot == -1 || earlySlot == following else {
            dropForeign(bytes, at: arrival)
            return
        }
        let followingRound = following > slot ? windowRound : windowRound + 1
        let opens = slotStart(round: followingRound, slot: following) + configuration.propagation - configuration.acceptanceHalfWidth
        guard arrivalCluster >= opens else {
            dropForeign(bytes, at: arrival)
            return
        }
        earlySlot = following
        earlyFrames += 1
        guard earlyFrames == 1 else { return }
        guard bytes.count <= earlyBuffer.count else { earlyOversized = true; return }
        if let source = bytes.baseAddress, bytes.count > 0 { earlyBuffer.baseAddress!.copyMemory(from: source, byteCount: bytes.count) }
        earlyLength = bytes.count
        earlyArrival = arrival
    }

    /// A frame none of this node's windows can take: counted and dropped. A cold-starting node
    /// that gets one carrying a running cluster's C-state (not a cold-start frame: that is a
    /// contention, above) abandons its own start and integrates into that cluster — nobody
    /// answered its cold start. (The same frame inside one of its windows fails its CRC, and
    /// `judge` sends the node back to listening.) A node cut off for longer than its listen
    /// timeout cold starts alone, and before this never rejoined once the partition healed: it
    /// dropped or rejected the cluster's frames, and the others its own (M3 recovery; seen over
    /// real processes after a SIGSTOP and a host stall).
    private mutating func dropForeign(_ bytes: UnsafeRawBufferPointer, at arrival: LocalInstant) {
        guard status == .coldStarting, isRunningClusterFrame(bytes) else {
            foreignFrames += 1
            return
        }
        becomeListening(at: arrival)
        listen(bytes, at: arrival)
    }

    /// Whether `bytes` is another node's valid frame of another, running cluster of this
    /// schedule: it decodes in its own C-state, carries the C-state, is not a cold-start frame,
    /// and its round is more than one from this node's — an answer to this node's cold start
    /// carries this node's round, and one that came late or failed its CRC here is not a reason
    /// to give the start up.
    private func isRunningClusterFrame(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count <= windowBuffer.count, case .valid(let view) = codec.decodeForIntegration(bytes) else { return false }
        let round = view.header.round
        return view.header.sender != configuration.node && view.header.flags.contains(.carriesCState)
            && !view.header.flags.contains(.coldStart) && view.header.scheduleIdentity == configuration.scheduleIdentity
            && configuration.modes[view.header.mode].slotSenders[view.header.slot] == view.header.sender
            && (round > cursorRound ? round - cursorRound : cursorRound - round) > 1
    }

    /// The next slot of another node after `slot` (wrapping into the next round).
    private func foreignSlot(after slot: Int) -> Int? { foreignSlot(from: slot + 1) }

    /// The slot whose window is open: the cursor's slot, or the next slot of another node.
    private func windowSlot() -> Int? { foreignSlot(from: cursorAtRoundEnd ? 0 : cursorSlot) }

    /// The first slot of another node at or after `start`, else the next round's first one.
    /// (Loops, not `firstIndex`: a closure may allocate in debug builds.)
    private func foreignSlot(from start: Int) -> Int? {
        let senders = table.slotSenders
        var s = start
        while s < senders.count {
            if senders[s] != configuration.node { return s }
            s += 1
        }
        s = 0
        while s < min(start, senders.count) {
            if senders[s] != configuration.node { return s }
            s += 1
        }
        return nil
    }

    /// The acceptance window of another node's slot closed: judge the frame, update membership and
    /// the clock readings.
    public mutating func windowClosed(round: UInt64, slot: Int) -> SlotOutcome {
        let outcome = judge(round: round, slot: slot)
        advance(past: round, slot: slot)
        switch outcome {
        case .correct, .notJudged, .selfDiagnosedSendFault, .coldStartContention: break  // .correct recorded them before storing copies
        case .missing, .rejected, .outsideWindow: recordOriginations(round: round, slot: slot)
        }
        return outcome
    }

    /// Judges the window's frame (the membership, clock-reading and acknowledgment part).
    private mutating func judge(round: UInt64, slot: Int) -> SlotOutcome {
        let sender = table.slotSenders[slot]
        precondition(sender != configuration.node, "windowClosed for the node's own slot")
        defer { windowFrames = 0; windowLength = 0; windowOversized = false }
        switch status {
        case .frozen, .listening: return .notJudged
        case .active, .integrating, .coldStarting: break
        }
        cState.round = round
        cState.slot = slot
        guard windowFrames > 0 else {
            cState.membership.remove(sender)
            return .missing(sender: sender)
        }
        cState.membership.insert(sender)  // judge in the view "sender counts itself"
        let frame = UnsafeRawBufferPointer(rebasing: windowBuffer[0..<windowLength])
        var result: DecodeResult
        if windowFrames > 1 || windowOversized {
            result = .rejected(.tooLong)  // more than one frame in a window, or more bytes than any frame
        } else {
            result = codec.decode(frame, expectedCState: cState)
            if case .rejected(.crcMismatch) = result, cState.pendingMode == nil, let requested = FrameCodec.peek(frame)?.pendingMode,
               table.transitions.contains(requested) {
                // A mode-change request: the sender's C-state differs from this node's only by the
                // mode it asks for. Accepting the frame agrees to the change (TTP/C's deferred mode change).
                cState.pendingMode = requested
                result = codec.decode(frame, expectedCState: cState)
                if result.view == nil { cState.pendingMode = nil }
            }
        }
        switch result {
        case .rejected(let reason):
            if status == .coldStarting, case .valid(let other) = codec.decodeForIntegration(frame), other.header.flags.contains(.coldStart) {
                // Two nodes cold started together: both listen again, and the unique timeouts decide.
                let arrival = windowArrival
                becomeListening(at: arrival)
                bigBangSender = other.header.sender
                contentions += 1
                return .coldStartContention(sender: other.header.sender)
            }
            if status == .coldStarting, isRunningClusterFrame(frame) {
                // Not an answer: a running cluster with another C-state (nobody answered this
                // node's cold start; see dropForeign). Listen again; its next frame integrates it.
                becomeListening(at: windowArrival)
                return .notJudged
            }
            if let outcome = judgeAcknowledgment(rejectedFrameOf: sender) { return outcome }
            cState.membership.remove(sender)
            if status != .coldStarting { failedSinceOwnSlot += 1 }
            return .rejected(sender: sender, reason)
        case .valid(let view):
            guard view.header.sender == sender else {
                cState.membership.remove(sender)
                failedSinceOwnSlot += 1
                return .rejected(sender: sender, .senderOutOfRange)
            }
            // The arrival must lie in the acceptance window: expected ± (Π + ε) — two correct clocks
            // differ by at most Π, and one reading errs by at most ε.
            let expected = slotStart(round: round, slot: slot) + configuration.propagation + view.header.sendLateness
            let deviation = clock.clusterTime(at: windowArrival) - expected
            if deviation.magnitude > configuration.acceptanceHalfWidth {
                cState.membership.remove(sender)
                failedSinceOwnSlot += 1
                return .outsideWindow(sender: sender, deviation: deviation)
            }
            agreedSinceOwnSlot += 1
            othersAgreedThisRound += 1
            acknowledgment = .none  // a successor's frame that agrees with this node's view acknowledges it
            switch status {
            case .integrating(let count):
                status = count + 1 >= configuration.integrationFrames ? .active : .integrating(correctFrames: count + 1)
                if status == .active { agreedSinceOwnSlot = 0; failedSinceOwnSlot = 0 }
            case .coldStarting:
                status = .active  // another node answered: the cluster runs
                agreedSinceOwnSlot = 1
                failedSinceOwnSlot = 0
            default: break
            }
            if configuration.syncNodes[sender] && deviationCount < deviations.count {
                deviations[deviationCount] = deviation
                deviationCount += 1
            }
            senderDeviations[sender] = deviation.nanoseconds
            recordOriginations(round: round, slot: slot)  // the view at origination includes the sender
            receiveCopies(round: round, slot: slot, payload: view.payload)
            return .correct(sender: sender)
        }
    }

    // MARK: Mode changes

    /// Asks for a change to mode `mode` at the next cluster-cycle boundary after this node's next
    /// own slot (its frame carries the request in the C-state; every node that accepts the frame
    /// agrees). Returns false when not allowed: not active, a change already pending or requested,
    /// or `mode` not among the current mode's transitions.
    public mutating func requestModeChange(to mode: Int) -> Bool {
        guard status == .active, cState.pendingMode == nil, requestedMode == nil, table.transitions.contains(mode),
              table.firstOwnSlot != nil else { return false }  // the request rides in this node's own frame
        requestedMode = mode
        return true
    }

    /// The mode of round `round`: the current one, or the one before it for rounds before the change.
    public func mode(ofRound round: UInt64) -> Int { round < modeStartRound ? previousMode : cState.mode }

    // MARK: Atomic broadcast

    /// The application's latest value of `message` (exactly the message's size); sent with the
    /// next instance whose first copy this node transmits.
    public mutating func write(message: Int, _ bytes: UnsafeRawBufferPointer) {
        precondition(table.plan.messages[message].sender == configuration.node, "message \(message) is not sent by this node")
        precondition(bytes.count == table.plan.messages[message].size, "value size ≠ message size")
        if let source = bytes.baseAddress, bytes.count > 0 {
            (values.baseAddress! + valueOffsets[message]).copyMemory(from: source, byteCount: bytes.count)
        }
    }

    /// Instances whose first copy is sent in this slot start now: their delivery will require that
    /// the destination set ⊆ this membership (MARS's atomic broadcast condition).
    private mutating func recordOriginations(round: UInt64, slot: Int) {
        let plan = table.plan
        for k in plan.originationIndices(round: round, slot: slot) {
            let m = plan.origination(k)
            incomingInstance[m] = plan.instance(message: m, firstRound: round)
            incomingReceived[m] = false
            incomingOriginValid[m] = plan.destinations(of: m, areIn: cState.membership)
        }
    }

    /// Stores the copies a correct frame carries for instances this node is receiving.
    private mutating func receiveCopies(round: UInt64, slot: Int, payload: UnsafeRawBufferPointer) {
        let plan = table.plan
        for k in plan.copyIndices(round: round, slot: slot) {
            let copy = plan.copy(k)
            let m = copy.message
            let first = plan.firstRound(ofCopy: copy.copy, message: m, in: round)
            guard incomingInstance[m] == plan.instance(message: m, firstRound: first), !incomingReceived[m] else { continue }
            let size = plan.size(of: m)
            guard copy.payloadOffset + size <= payload.count else { continue }
            (incoming.baseAddress! + valueOffsets[m]).copyMemory(from: payload.baseAddress! + copy.payloadOffset, byteCount: size)
            incomingReceived[m] = true
        }
    }

    /// At the delivery instant of the instances whose last copy was sent in (round, slot) — the
    /// slot's end + Π — calls `body` for each, in the cluster-wide total order. `delivered` is false
    /// when the instance must be discarded at this node (not a destination, nothing received, a
    /// destination outside the membership at origination, or this node not active).
    public mutating func deliver(round: UInt64, slot: Int, _ body: (Delivery) -> Void) {
        let plan = round < modeStartRound ? configuration.modes[previousMode].plan : table.plan
        guard slot < plan.slotCount else { return }
        for k in plan.completionIndices(round: round, slot: slot) {
            let m = plan.completion(k)
            let instance = plan.instance(message: m, firstRound: plan.firstRound(ofInstanceCompletingIn: round, message: m))
            let mine = incomingInstance[m] == instance
            let delivered = isActive && plan.isDestination(configuration.node, of: m) && mine && incomingReceived[m] && incomingOriginValid[m]
            body(Delivery(message: m, instance: instance, delivered: delivered,
                          value: UnsafeRawBufferPointer(start: incoming.baseAddress! + valueOffsets[m], count: delivered ? plan.size(of: m) : 0)))
        }
    }

    /// A frame of `sender` failed in this node's view. If an acknowledgment is pending, test the
    /// hypothesis "this node's own last frame was lost" (its bit cleared; while awaiting the second
    /// successor, the provisionally removed first successor restored). Returns the outcome when the
    /// hypothesis decides something, nil to treat the frame as an ordinary failure.
    private mutating func judgeAcknowledgment(rejectedFrameOf sender: Int) -> SlotOutcome? {
        guard status == .active, windowFrames == 1, !windowOversized else { return nil }
        let me = configuration.node
        let first: Int?
        switch acknowledgment {
        case .none: return nil
        case .awaitingFirst: first = nil
        case .awaitingSecond(let f):
            // The first successor again (it has consecutive slots): not a second opinion.
            if f == sender { return nil }
            first = f
        }
        cState.membership.remove(me)
        if let first { cState.membership.insert(first) }
        let hypothesis = codec.decode(UnsafeRawBufferPointer(rebasing: windowBuffer[0..<windowLength]), expectedCState: cState)
        cState.membership.insert(me)
        if let first { cState.membership.remove(first) }
        guard case .valid = hypothesis else { return nil }
        guard first != nil else {
            // The first successor did not see this node's frame; the second successor decides.
            acknowledgment = .awaitingSecond(first: sender)
            return nil  // provisionally an ordinary failure of the first successor
        }
        // Both successors missed this node's frame: a send fault of this node.
        becomeListening(at: windowArrival)
        return .selfDiagnosedSendFault
    }

    // MARK: Startup and integration

    /// Back to listening, from local instant `local`, with a fresh unique timeout.
    private mutating func becomeListening(at local: LocalInstant) {
        status = .listening
        earlySlot = -1
        earlyFrames = 0
        listenDeadline = local + configuration.listenTimeout
        bigBangSender = nil
        cState.membership.removeAll()
        cState.pendingMode = nil
        requestedMode = nil
        acknowledgment = .none
        agreedSinceOwnSlot = 0
        failedSinceOwnSlot = 0
        othersAgreedThisRound = 0
        deviationCount = 0
        roundsWithoutQuorum = 0
        hadQuorum = false
        // No view from before: until a stable quorate view is seen again, a lost quorum counts as
        // the minority's (the shorter limit).
        quorateCount = 0
        for w in 0..<quorateView.count { quorateView[w] = 0; previousRoundView[w] = 0 }
    }

    /// Listening: a frame with the full C-state lets the node integrate; cold-start frames follow
    /// the big-bang rule (the first one, or one from another sender than the first, restarts the
    /// timeout; the next one from the same sender is adopted).
    private mutating func listen(_ bytes: UnsafeRawBufferPointer, at arrival: LocalInstant) {
        guard bytes.count <= windowBuffer.count else { foreignFrames += 1; return }
        guard case .valid(let view) = codec.decodeForIntegration(bytes),
              view.header.flags.contains(.carriesCState), view.header.scheduleIdentity == configuration.scheduleIdentity,
              configuration.modes[view.header.mode].slotSenders[view.header.slot] == view.header.sender,
              view.header.sender != configuration.node else {
            foreignFrames += 1
            return
        }
        let coldStart = view.header.flags.contains(.coldStart)
        if coldStart && bigBangSender != view.header.sender {
            bigBangSender = view.header.sender  // big bang: not adopted; wait for this sender's next one
            listenDeadline = arrival + configuration.listenTimeout
            return
        }
        view.copyCState(into: &cState)
        table = configuration.modes[cState.mode]
        modeStartRound = cState.round
        previousMode = cState.mode
        let expected = slotStart(round: view.header.round, slot: view.header.slot) + configuration.propagation + view.header.sendLateness
        clock.set(cluster: expected, at: arrival)
        cState.membership.remove(configuration.node)  // not a member until its own frame is accepted
        advance(past: view.header.round, slot: view.header.slot)
        othersAgreedThisRound = 1
        agreedSinceOwnSlot = 0
        failedSinceOwnSlot = 0
        bigBangSender = nil
        // A cold-start frame adopted after the big bang counts both frames of its sender.
        let counted = coldStart ? 2 : 0
        status = counted >= configuration.integrationFrames ? .active : .integrating(correctFrames: counted)
    }

    /// The listen timeout expired with no cluster heard: start one (cold start) if this node may,
    /// with its first slot of the initial mode starting now, else listen on.
    public mutating func listenTimedOut(at local: LocalInstant) {
        guard status == .listening else { return }
        let initial = configuration.initialMode
        guard configuration.mayColdStart, let slot = configuration.modes[initial].firstOwnSlot else {
            listenDeadline = local + configuration.listenTimeout
            return
        }
        cState.mode = initial
        table = configuration.modes[initial]
        cState.pendingMode = nil
        cState.round = 0
        cState.slot = slot
        cState.membership.removeAll()
        modeStartRound = 0
        previousMode = initial
        clock.set(cluster: slotStart(round: 0, slot: slot), at: local)
        cursorRound = 0
        cursorSlot = slot
        cursorAtRoundEnd = false
        bigBangSender = nil
        status = .coldStarting
    }

    // MARK: End of round

    /// The round ended (at local instant `local`): compute and apply the clock correction, and at a
    /// cluster-cycle boundary switch to an agreed pending mode.
    public mutating func roundEnded(round: UInt64, at local: LocalInstant) -> RoundOutcome {
        defer {
            deviationCount = 0
            othersAgreedThisRound = 0
            for i in 0..<senderDeviations.count { senderDeviations[i] = .min }
        }
        cursorRound = round + 1
        cursorSlot = 0
        cursorAtRoundEnd = false
        switch status {
        case .frozen, .listening: return RoundOutcome(correction: nil, readings: 0)
        case .integrating, .active, .coldStarting: break
        }
        var outcome = correctClock(at: local)
        let frozen: Bool
        if case .frozen = status { frozen = true } else { frozen = false }
        if !frozen, (round + 1) % UInt64(configuration.cycleRounds) == 0, let next = cState.pendingMode {
            previousMode = cState.mode
            cState.mode = next
            table = configuration.modes[next]
            cState.pendingMode = nil
            modeStartRound = round + 1
            outcome.modeChanged = next
        }
        return outcome
    }

    /// Whether this node's membership holds more than half of the last stable membership that had
    /// a quorum. Two disjoint groups cannot both, so at most one runs on without a quorum for
    /// long. (Stable: a partition that starts in mid-round leaves each side, at that round's end,
    /// a view with members of the other side still in it; taking that view as the reference would
    /// let the minority side think itself the majority.)
    private var holdsMajorityOfQuorateView: Bool {
        var common = 0
        for w in 0..<quorateView.count { common += (cState.membership.words[w] & quorateView[w]).nonzeroBitCount }
        return 2 * common > quorateCount
    }

    private mutating func correctClock(at local: LocalInstant) -> RoundOutcome {
        defer { for w in 0..<previousRoundView.count { previousRoundView[w] = cState.membership.words[w] } }
        let integrating = status != .active
        if table.hasOtherSenders && othersAgreedThisRound == 0 {
            if status == .active {
                status = .frozen(.blackout)
                return RoundOutcome(correction: nil, readings: 0)
            }
            if case .integrating = status {
                // The cluster it was joining went silent: listen again (it may have to cold start).
                becomeListening(at: local)
                return RoundOutcome(correction: nil, readings: 0)
            }
        }
        if configuration.syncNodes[configuration.node] && isOperating && deviationCount < deviations.count {
            deviations[deviationCount] = .zero  // this node's own reading (not yet while integrating)
            deviationCount += 1
        }
        let k = configuration.faultTolerance
        let readings = deviationCount
        guard readings >= 2 * k + 1,
              let average = Convergence.correction(configuration.convergence,
                                                   sortingInPlace: UnsafeMutableBufferPointer(rebasing: deviations[0..<deviationCount]),
                                                   discarding: k) else {
            if hadQuorum && !integrating { roundsWithoutQuorum += 1 }
            let limit = holdsMajorityOfQuorateView ? configuration.maximumRoundsWithoutQuorumInMajority
                                                   : configuration.maximumRoundsWithoutQuorum
            if roundsWithoutQuorum >= limit && status == .active {
                status = .frozen(.tooFewClockReadings(rounds: roundsWithoutQuorum))
            }
            return RoundOutcome(correction: nil, readings: readings)
        }
        roundsWithoutQuorum = 0
        hadQuorum = true
        var stable = true
        for w in 0..<previousRoundView.count where previousRoundView[w] != cState.membership.words[w] { stable = false }
        if stable {
            quorateCount = 0
            for w in 0..<quorateView.count {
                quorateView[w] = cState.membership.words[w]
                quorateCount += quorateView[w].nonzeroBitCount
            }
        }
        let correction = Interval.zero - average
        if correction.magnitude > configuration.maximumCorrection {
            status = .frozen(.correctionTooLarge(correction))
            return RoundOutcome(correction: correction, readings: readings)
        }
        clock.applyCorrection(correction, at: local)
        if configuration.rateCorrection {
            rateSum += correction.nanoseconds
            rateRounds += 1
            if rateRounds >= configuration.rateWindow {
                // S ns over window·R ns is the drift; half of it, in ppb.
                let span = Int64(rateRounds) * max(configuration.roundLength.nanoseconds, 1)
                clock.adjustRate(by: DriftRate(partsPerBillion: rateSum.multipliedReportingOverflow(by: 500_000_000).partialValue / span), at: local)
                rateSum = 0
                rateRounds = 0
            }
        }
        return RoundOutcome(correction: correction, readings: readings)
    }
}

extension FreezeReason: CustomStringConvertible {
    public var description: String {
        switch self {
        case .cliqueAvoidance(let agreed, let failed): "clique avoidance (\(agreed) agreed, \(failed) failed)"
        case .blackout: "blackout"
        case .correctionTooLarge(let correction): "correction \(correction) too large"
        case .tooFewClockReadings(let rounds): "too few clock readings for \(rounds) rounds"
        }
    }
}

extension ControllerStatus: CustomStringConvertible {
    /// For reports and logs: "active", "integrating (1 correct frame)", "frozen (blackout)".
    public var description: String {
        switch self {
        case .listening: "listening"
        case .integrating(let frames): "integrating (\(frames) correct frame\(frames == 1 ? "" : "s"))"
        case .coldStarting: "cold starting"
        case .active: "active"
        case .frozen(let reason): "frozen (\(reason))"
        }
    }
}
