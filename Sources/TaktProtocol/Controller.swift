// The per-node TDMA controller: clock synchronization, membership and clique avoidance in
// synchronized operation and integration of a restarting node (Docs/protocol.md). Status: a slice
// of issue #3 — steady state, fault detection and reintegration. Cold start (big bang), implicit
// acknowledgment, atomic-broadcast delivery and mode changes are still to come.
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
//   received nothing at all from the others in a round (blackout) freezes too.
//   Passivity — a node freezes when |correction| > Π (TTP/C uses Π/2 of its configured precision
//   window; Π here is the computed bound, which correct clocks never exceed), or when fewer than 2k + 1 clock readings
//   (its own included) were available for `maximumRoundsWithoutQuorum` consecutive rounds.
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
    /// (Re)starting: listening for a frame that carries the full C-state.
    case listening
    /// C-state adopted; counting correct frames before sending (integration counter).
    case integrating(correctFrames: Int)
    case active
    case frozen(FreezeReason)
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
    case notJudged
}

/// One message instance at its delivery instant (valid only during the `deliver` callback).
public struct Delivery {
    public var message: Int
    public var instance: UInt64
    public var delivered: Bool
    public var value: UnsafeRawBufferPointer
}

public struct RoundOutcome: Sendable, Equatable {
    public var correction: Interval?
    public var readings: Int
}

public struct ControllerConfiguration: Sendable {
    public var node: Int
    public var mode: Int
    public var slotOffsets: [Interval]
    public var slotSenders: [Int]
    public var syncNodes: [Bool]
    public var roundLength: Interval
    public var propagation: Interval
    public var precision: Interval
    /// ε, the reading error assumed by the schedule.
    public var readingError: Interval
    public var faultTolerance: Int
    public var convergence: ConvergenceFunction
    public var scheduleIdentity: UInt64
    /// Where every message copy travels in this mode (atomic broadcast).
    public var plan: BroadcastPlan
    public var maximumRoundsWithoutQuorum = 2
    /// Correct frames an integrating node must see after adopting the C-state before it sends (≥ 2).
    public var integrationFrames = 2
    public var maximumSlew = DriftRate.partsPerMillion(10_000)  // 1 %

    /// A node whose round correction exceeds this goes passive. Default Π: two correct clocks never
    /// differ by more, so a larger correction means this node's own clock has failed.
    public var maximumCorrection: Interval

    /// Half the acceptance window: Π + ε (Docs/schedule-format.md, "receive window").
    public var acceptanceHalfWidth: Interval { precision + readingError }

    /// The configuration of `node` in mode `mode` of a validated schedule.
    public init(schedule: Schedule, derived: DerivedResults, node: Int, mode: Int = 0) {
        precondition(node >= 0 && node < schedule.nodes.count && mode >= 0 && mode < schedule.modes.count)
        self.node = node
        self.mode = mode
        slotOffsets = schedule.modes[mode].slots.map(\.offset)
        slotSenders = schedule.modes[mode].slots.map(\.sender)
        syncNodes = schedule.nodes.map(\.sync)
        roundLength = schedule.cluster.round
        propagation = schedule.cluster.propagation
        precision = derived.precision ?? .zero
        readingError = schedule.cluster.readingError
        maximumCorrection = precision
        faultTolerance = schedule.cluster.faultTolerance
        convergence = schedule.cluster.convergence
        scheduleIdentity = ScheduleIdentity.compute(schedule: schedule)
        plan = BroadcastPlan(schedule: schedule, mode: mode)
    }
}

public struct NodeController {
    public let configuration: ControllerConfiguration
    public let codec: FrameCodec
    public private(set) var clock: ClusterClock
    public private(set) var cState: CState
    public private(set) var status: ControllerStatus = .active

    // Per-round state, sized at init.
    private var deviations: UnsafeMutableBufferPointer<Interval>
    private var deviationCount = 0
    private var agreedSinceOwnSlot = 0
    private var failedSinceOwnSlot = 0
    private var othersAgreedThisRound = 0
    private var roundsWithoutQuorum = 0
    // The frame received in the current window (the first one; a second is a babbling fault).
    private var windowBuffer: UnsafeMutableRawBufferPointer
    private var windowLength = 0
    private var windowArrival = LocalInstant.zero
    private var windowFrames = 0
    private var windowOversized = false
    /// Whether any other node sends in this mode (a lone node cannot detect a blackout).
    private let hasOtherSenders: Bool
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
    private var incomingReceived: UnsafeMutableBufferPointer<Bool>
    private var incomingOriginValid: UnsafeMutableBufferPointer<Bool>
    private var payloadScratch: UnsafeMutableRawBufferPointer

    /// A (re)starting controller: listens until a frame with full C-state lets it integrate.
    public init(configuration: ControllerConfiguration, codec: FrameCodec, listeningAt local: LocalInstant) {
        self.init(configuration: configuration, codec: codec, anchor: local, cluster: .zero,
                  members: MembershipVector(capacity: codec.nodeCount))
        status = .listening
    }

    /// A controller already synchronized at (local, cluster) with the given membership. Cold start
    /// is not built yet, so a driver starts the first nodes this way, all in the same round.
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
        cState = CState(scheduleIdentity: configuration.scheduleIdentity, mode: configuration.mode, round: round, slot: 0, membership: members)
        deviations = .allocate(capacity: configuration.syncNodes.count + 1)
        var offsets: [Int] = []
        var total = 0
        for info in configuration.plan.messages { offsets.append(total); total += info.size }
        valueOffsets = offsets
        values = .allocate(byteCount: max(total, 1), alignment: 8)
        values.initializeMemory(as: UInt8.self, repeating: 0)
        outgoing = .allocate(byteCount: max(total, 1), alignment: 8)
        outgoing.initializeMemory(as: UInt8.self, repeating: 0)
        incoming = .allocate(byteCount: max(total, 1), alignment: 8)
        incoming.initializeMemory(as: UInt8.self, repeating: 0)
        let messageCount = max(configuration.plan.messages.count, 1)
        incomingInstance = .allocate(capacity: messageCount)
        incomingInstance.initialize(repeating: .max)
        incomingReceived = .allocate(capacity: messageCount)
        incomingReceived.initialize(repeating: false)
        incomingOriginValid = .allocate(capacity: messageCount)
        incomingOriginValid.initialize(repeating: false)
        payloadScratch = .allocate(byteCount: max(codec.maximumPayloadBytes, 1), alignment: 8)
        hasOtherSenders = configuration.slotSenders.contains { $0 != configuration.node }
        windowBuffer = .allocate(byteCount: codec.maximumFrameBytes, alignment: 8)
    }

    /// Releases the buffers allocated at init (the controller is a value with manual storage so
    /// that the per-slot path never allocates; call once when the node is torn down).
    public mutating func deallocate() {
        deviations.deallocate()
        windowBuffer.deallocate()
        values.deallocate()
        outgoing.deallocate()
        incoming.deallocate()
        incomingInstance.deallocate()
        incomingReceived.deallocate()
        incomingOriginValid.deallocate()
        payloadScratch.deallocate()
    }

    public var isActive: Bool { status == .active }

    /// The cluster instant at which slot `slot` of round `round` starts.
    public func slotStart(round: UInt64, slot: Int) -> ClusterInstant {
        ClusterInstant(nanoseconds: Int64(round) * configuration.roundLength.nanoseconds + configuration.slotOffsets[slot].nanoseconds)
    }

    // MARK: Own slot

    /// The node's own slot begins. `lateness` is how late the driver actually sends (local time
    /// measured by the driver). Writes the frame into `buffer` and returns its length, or nil when
    /// the node stays silent (frozen, or freezing now by clique avoidance).
    public mutating func transmit(round: UInt64, slot: Int, lateness: Interval,
                                  into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        precondition(configuration.slotSenders[slot] == configuration.node, "slot \(slot) is not this node's")
        guard isActive else { return nil }
        // Clique avoidance: count the slots since the previous own slot, own transmission as agreed.
        if failedSinceOwnSlot > 0 && agreedSinceOwnSlot + 1 <= failedSinceOwnSlot {
            status = .frozen(.cliqueAvoidance(agreed: agreedSinceOwnSlot + 1, failed: failedSinceOwnSlot))
            return nil
        }
        agreedSinceOwnSlot = 0
        failedSinceOwnSlot = 0
        cState.round = round
        cState.slot = slot
        cState.membership.insert(configuration.node)
        acknowledgment = .awaitingFirst
        // The payload: each message copy due in this slot, the instance's value frozen at its first copy.
        let plan = configuration.plan
        for k in plan.copyIndices(round: round, slot: slot) {
            let copy = plan.copy(k)
            let offset = valueOffsets[copy.message], size = plan.messages[copy.message].size
            if copy.copy == 0 {
                (outgoing.baseAddress! + offset).copyMemory(from: values.baseAddress! + offset, byteCount: size)
            }
            (payloadScratch.baseAddress! + copy.payloadOffset).copyMemory(from: outgoing.baseAddress! + offset, byteCount: size)
        }
        let payload = UnsafeRawBufferPointer(rebasing: payloadScratch[0..<plan.payloadLength(round: round, slot: slot)])
        recordOriginations(round: round, slot: slot)
        receiveCopies(round: round, slot: slot, payload: payload)  // a sender that is also a destination
        let header = FrameHeader(flags: .carriesCState, mode: cState.mode, scheduleIdentity: cState.scheduleIdentity,
                                 round: round, slot: slot, sender: configuration.node, sendLateness: lateness)
        return codec.encode(header: header, membership: cState.membership, payload: payload, cState: cState, into: buffer)
    }

    // MARK: Other nodes' slots

    /// A datagram arrived (timestamped in this node's local time). It is kept until the window closes.
    public mutating func frameArrived(_ bytes: UnsafeRawBufferPointer, at arrival: LocalInstant) {
        windowFrames += 1
        guard windowFrames == 1 else { return }  // a second frame in one window: judged as babbling
        guard bytes.count <= windowBuffer.count else { windowOversized = true; return }
        if let source = bytes.baseAddress, bytes.count > 0 { windowBuffer.baseAddress!.copyMemory(from: source, byteCount: bytes.count) }
        windowLength = bytes.count
        windowArrival = arrival
    }

    /// The acceptance window of another node's slot closed: judge the frame, update membership and
    /// the clock readings.
    public mutating func windowClosed(round: UInt64, slot: Int) -> SlotOutcome {
        let outcome = judge(round: round, slot: slot)
        switch outcome {
        case .correct, .notJudged, .selfDiagnosedSendFault: break  // .correct recorded them before storing copies
        case .missing, .rejected, .outsideWindow: recordOriginations(round: round, slot: slot)
        }
        return outcome
    }

    /// Judges the window's frame (the membership, clock-reading and acknowledgment part).
    private mutating func judge(round: UInt64, slot: Int) -> SlotOutcome {
        let sender = configuration.slotSenders[slot]
        precondition(sender != configuration.node, "windowClosed for the node's own slot")
        defer { windowFrames = 0; windowLength = 0; windowOversized = false }
        switch status {
        case .frozen: return .notJudged
        case .listening: return integrate(round: round, slot: slot)
        case .active, .integrating: break
        }
        cState.round = round
        cState.slot = slot
        guard windowFrames > 0 else {
            cState.membership.remove(sender)
            return .missing(sender: sender)
        }
        cState.membership.insert(sender)  // judge in the view "sender counts itself"
        let result: DecodeResult
        if windowFrames > 1 || windowOversized {
            result = .rejected(.tooLong)  // more than one frame in a window, or more bytes than any frame
        } else {
            result = codec.decode(UnsafeRawBufferPointer(rebasing: windowBuffer[0..<windowLength]), expectedCState: cState)
        }
        switch result {
        case .rejected(let reason):
            if let outcome = judgeAcknowledgment(rejectedFrameOf: sender) { return outcome }
            cState.membership.remove(sender)
            failedSinceOwnSlot += 1
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
            if case .integrating(let count) = status {
                status = count + 1 >= configuration.integrationFrames ? .active : .integrating(correctFrames: count + 1)
                if status == .active { agreedSinceOwnSlot = 0; failedSinceOwnSlot = 0 }
            }
            if configuration.syncNodes[sender] && deviationCount < deviations.count {
                deviations[deviationCount] = deviation
                deviationCount += 1
            }
            recordOriginations(round: round, slot: slot)  // the view at origination includes the sender
            receiveCopies(round: round, slot: slot, payload: view.payload)
            return .correct(sender: sender)
        }
    }

    // MARK: Atomic broadcast

    /// The application's latest value of `message` (exactly the message's size); sent with the
    /// next instance whose first copy this node transmits.
    public mutating func write(message: Int, _ bytes: UnsafeRawBufferPointer) {
        precondition(configuration.plan.messages[message].sender == configuration.node, "message \(message) is not sent by this node")
        precondition(bytes.count == configuration.plan.messages[message].size, "value size ≠ message size")
        if let source = bytes.baseAddress, bytes.count > 0 {
            (values.baseAddress! + valueOffsets[message]).copyMemory(from: source, byteCount: bytes.count)
        }
    }

    /// Instances whose first copy is sent in this slot start now: their delivery will require that
    /// the destination set ⊆ this membership (MARS's atomic broadcast condition).
    private mutating func recordOriginations(round: UInt64, slot: Int) {
        let plan = configuration.plan
        for k in plan.originationIndices(round: round, slot: slot) {
            let m = plan.origination(k)
            incomingInstance[m] = plan.instance(message: m, firstRound: round)
            incomingReceived[m] = false
            incomingOriginValid[m] = plan.messages[m].destinations.isSubset(of: cState.membership)
        }
    }

    /// Stores the copies a correct frame carries for instances this node is receiving.
    private mutating func receiveCopies(round: UInt64, slot: Int, payload: UnsafeRawBufferPointer) {
        let plan = configuration.plan
        for k in plan.copyIndices(round: round, slot: slot) {
            let copy = plan.copy(k)
            let m = copy.message
            let first = plan.firstRound(ofCopy: copy.copy, message: m, in: round)
            guard incomingInstance[m] == plan.instance(message: m, firstRound: first), !incomingReceived[m] else { continue }
            let size = plan.messages[m].size
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
        let plan = configuration.plan
        for k in plan.completionIndices(round: round, slot: slot) {
            let m = plan.completion(k)
            let info = plan.messages[m]
            let first = round &- UInt64(info.copyPositions[info.copies - 1].roundOffset)
            let instance = plan.instance(message: m, firstRound: first)
            let mine = incomingInstance[m] == instance
            let delivered = isActive && info.destinations.contains(configuration.node) && mine && incomingReceived[m] && incomingOriginValid[m]
            body(Delivery(message: m, instance: instance, delivered: delivered,
                          value: UnsafeRawBufferPointer(start: incoming.baseAddress! + valueOffsets[m], count: delivered ? info.size : 0)))
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
        case .awaitingSecond(let f): first = f
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
        status = .listening
        cState.membership.removeAll()
        acknowledgment = .none
        agreedSinceOwnSlot = 0
        failedSinceOwnSlot = 0
        deviationCount = 0
        return .selfDiagnosedSendFault
    }

    /// Listening: adopt the C-state of the first intact frame that carries it.
    private mutating func integrate(round: UInt64, slot: Int) -> SlotOutcome {
        let sender = configuration.slotSenders[slot]
        guard windowFrames == 1, !windowOversized else { return .notJudged }
        guard case .valid(let view) = codec.decodeForIntegration(UnsafeRawBufferPointer(rebasing: windowBuffer[0..<windowLength])),
              view.header.flags.contains(.carriesCState), view.header.sender == sender,
              view.header.mode == configuration.mode, view.header.scheduleIdentity == configuration.scheduleIdentity,
              view.header.slot == slot else {
            return .notJudged
        }
        view.copyCState(into: &cState)
        let expected = slotStart(round: view.header.round, slot: slot) + configuration.propagation + view.header.sendLateness
        clock.set(cluster: expected, at: windowArrival)
        cState.membership.remove(configuration.node)  // not a member until its own frame is accepted
        status = .integrating(correctFrames: 0)
        return .correct(sender: sender)
    }

    // MARK: End of round

    /// The round ended (at local instant `local`): compute and apply the clock correction.
    public mutating func roundEnded(round: UInt64, at local: LocalInstant) -> RoundOutcome {
        defer { deviationCount = 0; othersAgreedThisRound = 0 }
        switch status {
        case .frozen, .listening: return RoundOutcome(correction: nil, readings: 0)
        case .integrating, .active: break
        }
        let integrating = status != .active
        if hasOtherSenders && othersAgreedThisRound == 0 && !integrating {
            status = .frozen(.blackout)
            return RoundOutcome(correction: nil, readings: 0)
        }
        if configuration.syncNodes[configuration.node] && !integrating && deviationCount < deviations.count {
            deviations[deviationCount] = .zero  // this node's own reading (not yet while integrating)
            deviationCount += 1
        }
        let k = configuration.faultTolerance
        let readings = deviationCount
        guard readings >= 2 * k + 1,
              let average = Convergence.correction(configuration.convergence,
                                                   sortingInPlace: UnsafeMutableBufferPointer(rebasing: deviations[0..<deviationCount]),
                                                   discarding: k) else {
            roundsWithoutQuorum += 1
            if roundsWithoutQuorum >= configuration.maximumRoundsWithoutQuorum && !integrating {
                status = .frozen(.tooFewClockReadings(rounds: roundsWithoutQuorum))
            }
            return RoundOutcome(correction: nil, readings: readings)
        }
        roundsWithoutQuorum = 0
        let correction = Interval.zero - average
        if correction.magnitude > configuration.maximumCorrection {
            status = .frozen(.correctionTooLarge(correction))
            return RoundOutcome(correction: correction, readings: readings)
        }
        clock.applyCorrection(correction, at: local)
        return RoundOutcome(correction: correction, readings: readings)
    }
}
