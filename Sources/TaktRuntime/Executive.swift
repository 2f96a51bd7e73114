// The periodic executive: one node's real-time loop. It asks the protocol controller what to do
// next (`NodeController.nextAction` — the same agenda the simulator drives), converts the local
// instant to a host deadline through the node's virtual oscillator, waits for it while handing
// arriving frames to the controller, then acts: transmit in its own slot, judge another node's
// slot when it ends, correct the clock at the round's end, or cold start when its listen timeout
// expires. Single-threaded, generic over its time source and medium; nothing on this path
// allocates (Tests/TaktAllocationTests proves 0 allocations per round).
//
//   Waiting: until `spin` before the deadline it blocks in poll(2) on the medium (draining
//   datagrams as they come, each stamped with its kernel arrival time); then the time source
//   spins to the deadline; then it drains once more and acts.
//   Bus guardian (software): a transmission later than `guardian` after its planned instant is
//   suppressed — the node stays silent rather than send outside its slot (temporal fail-silence).
//   The controller still advances, so the others see a missing frame and the node re-integrates.
//   Frames from others outside their sender's window are rejected by the controller and counted
//   (`foreign`).
//   Frozen controller: the host restarts it (a fresh controller, listening) after
//   `restartAfterFreeze`, the way the simulator's hosts do.
//   Application: `beforeTransmit` lets the application write its message values just before the
//   node's frame is built; `onDelivery` receives each atomic-broadcast instance at its fixed
//   delivery instant — the end of its last copy's slot + Π, in cluster time — which the loop waits
//   for like any other instant.

import TaktPlatform
import TaktProtocol
import TaktTime

public struct ExecutiveSettings: Sendable {
    /// The spin window before each action (the rest of the wait blocks in poll(2)).
    public var spin: Interval
    /// The latest a transmission may start after its planned instant; later, the node stays silent.
    public var guardian: Interval
    /// A frozen controller is replaced by a listening one after this long; nil: stays frozen.
    public var restartAfterFreeze: Interval?
    /// The lateness histogram's resolution and range (bucket width × count; beyond: overflow).
    public var latenessBucket: Interval = .nanoseconds(100)
    public var latenessBuckets = 100_000

    public init(spin: Interval, guardian: Interval, restartAfterFreeze: Interval?) {
        self.spin = spin
        self.guardian = guardian
        self.restartAfterFreeze = restartAfterFreeze
    }
}

public struct Executive<Clock: TimeSource, Net: Medium> {
    public private(set) var controller: NodeController
    public private(set) var medium: Net
    public private(set) var time: Clock
    public let oscillator: VirtualOscillator
    public let settings: ExecutiveSettings
    public private(set) var counters = NodeCounters()
    /// Dispatch lateness of every action (host time after the wait − the planned instant).
    public private(set) var lateness: LatencyHistogram
    public private(set) var rounds: UInt64 = 0
    private let configuration: ControllerConfiguration
    private let codec: FrameCodec
    private let batch: ReceiveBatch
    private let frame: UnsafeMutableRawBufferPointer
    private let recordBuffer: UnsafeMutableRawBufferPointer
    private var roundLatenessMax = Interval.zero
    /// The host instant the action being performed was due (records carry it: a stalled process
    /// acts late, but its schedule says when the protocol decided).
    private var actionDue = LocalInstant.zero
    /// Optional: every wake-up's lateness in order (a benchmark's time series), caller-owned.
    public var latenessLog: UnsafeMutableBufferPointer<Int64>?
    public private(set) var latenessLogged = 0
    /// The deadline of the last action: several actions due at one instant count one wake-up.
    private var lastDeadline = LocalInstant(nanoseconds: Int64.min / 2)
    /// The host instant the loop last woke for a sampled instant.
    private var lastWake = LocalInstant(nanoseconds: Int64.min / 2)
    /// Instants already due when the loop last woke — caught up after a stall, not continuations
    /// of one instant — and so not sampled as wake-ups (cyclictest skips such missed periods).
    public private(set) var caughtUp: UInt64 = 0
    private var frozenSince: LocalInstant?
    /// Receives each record (RecordLayout.bytes); returns false when it had to drop it.
    private let sink: ((UnsafeRawBufferPointer) -> Bool)?
    /// Called just before each own frame is built: write message values into the controller.
    public var beforeTransmit: ((inout NodeController, _ round: UInt64, _ slot: Int) -> Void)?
    /// Called for each message instance at its delivery instant (host time given), in the
    /// cluster-wide order; `delivered` false means discarded at this node.
    public var onDelivery: ((Delivery, _ host: LocalInstant) -> Void)? { didSet { wantsDeliveries = onDelivery != nil || onApplicationDelivery != nil } }
    /// The same, for an application (TaktControl), with the delivery instant in cluster time
    /// (the last copy's slot end + Π: the same at every node, whatever this node's lateness).
    public var onApplicationDelivery: ((Delivery, _ now: ClusterInstant) -> Void)? { didSet { wantsDeliveries = onDelivery != nil || onApplicationDelivery != nil } }
    /// Whether `onDelivery` or `onApplicationDelivery` is set. The loop tests this flag: reading
    /// the optional closures themselves allocated once per slot in debug builds (a reabstraction
    /// of the stored closure).
    private var wantsDeliveries = false
    /// The application's next task release (cluster time), or nil: the executive wakes for it
    /// between protocol actions — sleep, then spin, like any action — and calls
    /// `onApplicationRelease` with the node's cluster time. A release due at the instant of a
    /// delivery runs after it; one due at the instant of an action runs before it.
    public var nextApplicationRelease: (() -> ClusterInstant?)?
    public var onApplicationRelease: ((_ now: ClusterInstant) -> Void)?
    /// Called at each round's end, after the controller's round end (the controller is lent, not
    /// copied), and when the host restarts a frozen controller.
    public var onRoundEnd: ((_ controller: borrowing NodeController, _ round: UInt64, _ now: ClusterInstant) -> Void)?
    public var onRestart: ((_ now: ClusterInstant) -> Void)?
    /// Slots whose deliveries are due (at most a few: a slot is longer than 2Π), in order.
    private var pendingRounds: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var pendingSlots: (Int, Int, Int, Int) = (0, 0, 0, 0)
    private var pendingAt: (LocalInstant, LocalInstant, LocalInstant, LocalInstant) = (.zero, .zero, .zero, .zero)
    private var pendingCount = 0
    private let plans: [BroadcastPlan]

    /// A node that starts listening now (it integrates into a running cluster, or cold starts it).
    public init(configuration: ControllerConfiguration, codec: FrameCodec, oscillator: VirtualOscillator, time: Clock, medium: Net,
                settings: ExecutiveSettings, sink: ((UnsafeRawBufferPointer) -> Bool)? = nil) throws(PlatformError) {
        self.configuration = configuration
        self.codec = codec
        self.oscillator = oscillator
        self.settings = settings
        self.medium = medium
        self.sink = sink
        plans = configuration.modes.map(\.plan)
        var clock = time
        controller = NodeController(configuration: configuration, codec: codec, listeningAt: oscillator.local(atHost: clock.now()))
        self.time = clock
        lateness = try LatencyHistogram(bucketWidth: settings.latenessBucket, bucketCount: settings.latenessBuckets)
        batch = try ReceiveBatch(capacity: 32, maximumDatagramBytes: max(codec.maximumFrameBytes + 64, 512))
        frame = .allocate(byteCount: codec.maximumFrameBytes, alignment: 8)
        recordBuffer = .allocate(byteCount: RecordLayout.bytes, alignment: 8)
    }

    /// Releases the controller's and the executive's buffers (call once, when done).
    public mutating func deallocate() {
        controller.deallocate()
        frame.deallocate()
        recordBuffer.deallocate()
    }

    /// Runs until `hostDeadline` (if given) or until `shouldStop` returns true (checked before
    /// every action and after every wake-up).
    public mutating func run(until hostDeadline: LocalInstant?, shouldStop: () -> Bool) {
        while !shouldStop() {
            if let hostDeadline, time.now() >= hostDeadline { return }
            guard let (at, action) = controller.nextAction() else {
                restartIfDue(until: hostDeadline, shouldStop: shouldStop)
                continue
            }
            let deadline = oscillator.host(atLocal: at)
            if let next = nextApplicationRelease?(), controller.isActive {
                let release = oscillator.host(atLocal: controller.clock.localTime(at: next))
                if release <= deadline, pendingCount == 0 || release < pendingAt.0, hostDeadline.map({ release <= $0 }) ?? true {
                    if waitDraining(until: release, shouldStop: shouldStop) { continue }
                    let late = time.wait(until: release)
                    drain()
                    if shouldStop() { return }
                    recordWakeUp(late, for: release)
                    onApplicationRelease?(clusterNow())
                    continue
                }
            }
            if pendingCount > 0, pendingAt.0 <= deadline, hostDeadline.map({ pendingAt.0 <= $0 }) ?? true {
                // A delivery instant comes first: wait for it (handing frames over) and deliver.
                if waitDraining(until: pendingAt.0, shouldStop: shouldStop) { continue }
                _ = time.wait(until: pendingAt.0)
                deliverFirstPending()
                continue
            }
            if let hostDeadline, deadline > hostDeadline {
                // The run ends before the action is due: wait (handing frames over) and stop.
                if waitDraining(until: hostDeadline, shouldStop: shouldStop) { continue }
                _ = time.wait(until: hostDeadline)
                drain()
                if isListeningOrStarting && controller.nextAction()?.action != action { continue }
                return
            }
            if waitDraining(until: deadline, shouldStop: shouldStop) { continue }  // the agenda changed
            let late = time.wait(until: deadline)
            drain()
            if shouldStop() { return }  // a stop request during the spin: do not act any more
            if isListeningOrStarting && controller.nextAction()?.action != action { continue }
            recordWakeUp(late, for: deadline)
            actionDue = deadline
            perform(action, planned: at)
            // Overrun: the action ended after the next one was due (the loop fell behind).
            if let next = controller.nextAction(), oscillator.host(atLocal: next.at) < time.now(), next.at > at {
                counters.overruns &+= 1
            }
        }
    }

    /// Dispatch lateness is how late the loop woke for an instant (an action's or a task
    /// release's), measured the way cyclictest measures: an instant that had already come when the
    /// loop last woke is not a wake-up of its own — the continuation of one (a round's end and the
    /// next round's first slot are one instant), or an action caught up after a stall, which
    /// cyclictest would skip as a missed period. Those are counted in `caughtUp`, not sampled; the
    /// stall itself is the sample of the wake-up it delayed.
    private mutating func recordWakeUp(_ late: Interval, for deadline: LocalInstant) {
        let continuation = deadline - lastDeadline <= .microseconds(1)  // across the clock's correction
        if continuation || deadline <= lastWake {
            if !continuation { caughtUp &+= 1 }
            if deadline > lastDeadline { lastDeadline = deadline }
            return
        }
        lastWake = deadline + late
        lateness.record(late)
        if let log = latenessLog, latenessLogged < log.count {
            log[latenessLogged] = late.nanoseconds
            latenessLogged += 1
        }
        if late > roundLatenessMax { roundLatenessMax = late }
        lastDeadline = deadline
    }

    /// The node's cluster time now.
    private mutating func clusterNow() -> ClusterInstant {
        controller.clock.clusterTime(at: oscillator.local(atHost: time.now()))
    }

    private var isListeningOrStarting: Bool {
        controller.status == .listening || controller.status == .coldStarting
    }

    /// Blocks in poll(2) until `spin` before `deadline`, handing frames over as they arrive.
    /// Returns true when a frame changed a listening or cold-starting node's agenda.
    private mutating func waitDraining(until deadline: LocalInstant, shouldStop: () -> Bool) -> Bool {
        let wake = deadline - settings.spin
        let fd = medium.fileDescriptor
        while time.now() < wake && !shouldStop() {
            guard fd >= 0 else { return false }
            // Wake at least every 50 ms to notice a stop request.
            let until = min(wake, time.now() + .milliseconds(50))
            let readable: Bool
            do throws(PlatformError) {
                readable = try Readiness.waitForReadable(fd, until: until)
            } catch {
                return false
            }
            guard readable else { continue }
            let before = controller.nextAction()?.action
            let wasListening = isListeningOrStarting
            drain()
            if wasListening && controller.nextAction()?.action != before { return true }
        }
        return false
    }

    /// Hands every queued datagram to the controller, stamped in the node's local time.
    private mutating func drain() {
        while true {
            let count: Int
            do throws(PlatformError) {
                count = try medium.receive(into: batch)
            } catch {
                return
            }
            for i in 0..<count {
                let datagram = batch[i]
                // Multicast loops this node's own frames back: not a frame to judge.
                if let claimed = FrameCodec.peek(datagram.bytes), claimed.sender == configuration.node,
                   datagram.bytes.count >= codec.minimumFrameBytes, datagram.bytes[0] == FrameFormat.version { continue }
                let foreignBefore = controller.foreignFrames
                controller.frameArrived(datagram.bytes, at: oscillator.local(atHost: datagram.arrival))
                if controller.foreignFrames != foreignBefore { counters.foreign &+= 1 }
            }
            if count < batch.capacity { return }
        }
    }

    private mutating func perform(_ action: ControllerAction, planned: LocalInstant) {
        switch action {
        case .transmit(let round, let slot):
            if let hook = beforeTransmit { hook(&controller, round, slot) }
            let measured = oscillator.local(atHost: time.now()) - planned
            let length = controller.transmit(round: round, slot: slot, lateness: measured, into: frame)
            scheduleDelivery(round: round, slot: slot)
            guard let length else { break }
            if measured > settings.guardian {
                counters.guardianSuppressed &+= 1  // too late: silent, never outside the slot
            } else if medium.send(UnsafeRawBufferPointer(rebasing: frame[0..<length])).sent > 0 {
                counters.sent &+= 1
            }
        case .closeWindow(let round, let slot):
            defer { scheduleDelivery(round: round, slot: slot) }
            let before = membershipWords()
            switch controller.windowClosed(round: round, slot: slot) {
            case .correct: counters.accepted &+= 1
            case .missing: counters.missing &+= 1
            case .rejected, .outsideWindow: counters.rejected &+= 1
            case .selfDiagnosedSendFault, .coldStartContention, .notJudged: break
            }
            if membershipWords() != before { emit(.membershipChange) }
        case .endRound(let round):
            emit(.roundEnd)  // before the round ends: this round's clock readings
            _ = controller.roundEnded(round: round, at: oscillator.local(atHost: time.now()))
            if let hook = onRoundEnd { hook(controller, round, clusterNow()) }
            rounds &+= 1
            roundLatenessMax = .zero
        case .listenTimeout:
            controller.listenTimedOut(at: oscillator.local(atHost: time.now()))
        }
        if case .frozen = controller.status, frozenSince == nil {
            frozenSince = time.now()
            emit(.membershipChange)
        }
    }

    /// Remembers the delivery instant of (round, slot) if instances complete there: slot end + Π.
    private mutating func scheduleDelivery(round: UInt64, slot: Int) {
        guard wantsDeliveries, controller.isActive || controller.status == .coldStarting, pendingCount < 4 else { return }
        let plan = plans[controller.mode(ofRound: round)]
        guard slot < plan.slotCount, !plan.completionIndices(round: round, slot: slot).isEmpty else { return }
        let instant = controller.slotEnd(round: round, slot: slot) + configuration.precision
        let host = oscillator.host(atLocal: controller.clock.localTime(at: instant))
        switch pendingCount {
        case 0: pendingRounds.0 = round; pendingSlots.0 = slot; pendingAt.0 = host
        case 1: pendingRounds.1 = round; pendingSlots.1 = slot; pendingAt.1 = host
        case 2: pendingRounds.2 = round; pendingSlots.2 = slot; pendingAt.2 = host
        default: pendingRounds.3 = round; pendingSlots.3 = slot; pendingAt.3 = host
        }
        pendingCount += 1
    }

    private mutating func deliverFirstPending() {
        let round = pendingRounds.0, slot = pendingSlots.0
        pendingRounds = (pendingRounds.1, pendingRounds.2, pendingRounds.3, 0)
        pendingSlots = (pendingSlots.1, pendingSlots.2, pendingSlots.3, 0)
        pendingAt = (pendingAt.1, pendingAt.2, pendingAt.3, .zero)
        pendingCount -= 1
        let host = time.now()
        let instant = controller.slotEnd(round: round, slot: slot) + configuration.precision  // the same at every node
        // One closure per case: capturing the optional closures themselves allocated a context per
        // delivery in debug builds (Tests/TaktRuntimeTests/LatencyProbeTests counts).
        switch (onDelivery, onApplicationDelivery) {
        case (let handler?, let application?): controller.deliver(round: round, slot: slot) { d in handler(d, host); application(d, instant) }
        case (let handler?, nil): controller.deliver(round: round, slot: slot) { d in handler(d, host) }
        case (nil, let application?): controller.deliver(round: round, slot: slot) { d in application(d, instant) }
        case (nil, nil): return
        }
    }

    /// Frozen: wait (draining, so frames do not pile up) until the host restarts the controller.
    private mutating func restartIfDue(until hostDeadline: LocalInstant?, shouldStop: () -> Bool) {
        let since = frozenSince ?? time.now()
        frozenSince = since
        guard let delay = settings.restartAfterFreeze else {
            let end = hostDeadline ?? (time.now() + .milliseconds(50))
            _ = waitDraining(until: min(end, time.now() + .milliseconds(50)), shouldStop: shouldStop)
            if let hostDeadline, time.now() >= hostDeadline { return }
            return
        }
        var due = since + delay
        if let hostDeadline, due > hostDeadline { due = hostDeadline }
        _ = waitDraining(until: due, shouldStop: shouldStop)
        _ = time.wait(until: due)
        if let hostDeadline, time.now() >= hostDeadline { return }
        if shouldStop() { return }
        controller.deallocate()
        controller = NodeController(configuration: configuration, codec: codec, listeningAt: oscillator.local(atHost: time.now()))
        frozenSince = nil
        onRestart?(clusterNow())
        pendingCount = 0  // the old controller's instances are gone with it
        counters.restarts &+= 1
    }

    /// The controller's status as the record's code.
    public var statusCode: UInt8 {
        switch controller.status {
        case .listening: return 0
        case .integrating: return 1
        case .coldStarting: return 2
        case .active: return 3
        case .frozen: return 4
        }
    }

    private func membershipWords() -> (UInt64, UInt64, UInt64, UInt64) {
        let m = controller.cState.membership
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        for i in 0..<min(m.byteCount, 32) {
            let b = UInt64(m.byte(at: i)) << UInt64((i % 8) * 8)
            switch i / 8 {
            case 0: words.0 |= b
            case 1: words.1 |= b
            case 2: words.2 |= b
            default: words.3 |= b
            }
        }
        return words
    }

    /// Writes a record to the sink (if any): the node's state at this host instant.
    private mutating func emit(_ kind: RecordKind) {
        guard let sink else { return }
        let host = time.now()
        let cluster = controller.clock.clusterTime(at: oscillator.local(atHost: host)).nanoseconds
        let controller = self.controller
        let p50 = lateness.percentile(.p50)?.upperBound ?? .zero
        let p99 = lateness.percentile(.p99)?.upperBound ?? .zero
        RecordWriter.write(kind: kind, status: statusCode, node: configuration.node, mode: controller.cState.mode,
                           round: controller.cState.round, host: host, cluster: cluster, membershipWords: membershipWords(),
                           counters: counters,
                           lateness: kind == .summary ? (p50, p99, lateness.maximum ?? .zero) : (roundLatenessMax, .zero, .zero),
                           planned: kind == .summary || actionDue == .zero ? nil : actionDue,
                           deviationCount: configuration.syncNodes.count,
                           deviation: { sender in
                               controller.roundDeviation(of: sender).map { Int32(clamping: $0.nanoseconds) }
                           }, into: recordBuffer)
        if !sink(UnsafeRawBufferPointer(recordBuffer)) { counters.recordsDropped &+= 1 }
    }

    /// The final record: totals and the lateness percentiles of the run.
    public mutating func emitSummary() { emit(.summary) }

    /// Forgets the lateness recorded so far (a benchmark's warm-up).
    public mutating func resetLateness() {
        lateness.reset()
        latenessLogged = 0
    }

    /// The time source (for a caller that wants to read the clock the executive uses).
    public mutating func now() -> LocalInstant { time.now() }
}
