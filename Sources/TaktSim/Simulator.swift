// The deterministic discrete-event simulator: N controllers, one simulated oscillator each, a
// broadcast bus, seeded faults, and a checker for every guarantee (REFERENCE.md §2–§4).
//
// Time: true time is Int64 ns of the simulation's reference clock. Each node's local time is its
// oscillator's reading (drift within ±ρ, optional wander, step faults); its cluster time is its
// controller's ClusterClock of that reading. Events, in true time, from one queue ordered by
// (time, insertion sequence), so every run with the same seed is the same run:
//   wake      — a node's controller asked to act at a local instant (`NodeController.nextAction`:
//               transmit, close a window, end a round, listen timeout); the driver converts it to
//               true time through the node's oscillator. The real executive (issue #4) drives the
//               same calls from a real clock.
//   arrival   — a frame reaches a node (send instant + propagation + reading error ≤ ε, plus any
//               fault's skew). An arrival at an operating node that comes before the node's next
//               wake is handed over at once, stamped with its own arrival time: nothing can happen
//               at that node in between, so the result is the same and the queue stays small.
//   fault     — a scenario event at a true instant (crash, restart, clock step, mode-change request).
//   check     — the checkers' instant for a slot: its end + Π on a correct node's clock, when every
//               correct node has judged it; the delivery instant of atomic broadcast, too.
// Faults in rounds mean true time round·R: a cluster started at 0 is within ρ of it.

import TaktProtocol
import TaktSchedule
import TaktTime

/// A scenario event: a fault, or an application's mode-change request. Times are in rounds of true
/// time (round·R); a fault that affects frames affects those sent in [round·R, (round+1)·R).
public enum SimulatedFault: Sendable, Equatable {
    /// The node stops (power off) at round·R.
    case crash(node: Int, round: UInt64)
    /// A crashed node powers on at round·R: it listens, integrates on a frame with full C-state (or
    /// cold starts if it hears nothing) and rejoins the membership with its first accepted frame.
    case restart(node: Int, round: UInt64)
    /// The node's frames sent in that round reach nobody.
    case sendOmission(node: Int, round: UInt64)
    /// The node's frames sent in that round reach only the nodes in `receivers` (asymmetric reception).
    case asymmetric(node: Int, round: UInt64, receivers: [Int])
    /// From `round` on, the node's clock is two-faced: its frames arrive `skew` early at the
    /// receivers with an even index and `skew` late at the others (a Byzantine clock; it still
    /// passes the acceptance window when skew ≤ Π + ε).
    case twoFaced(node: Int, round: UInt64, skew: Interval)
    /// The node receives nothing for `rounds` rounds (a receive fault): it diagnoses itself (blackout,
    /// clique avoidance), freezes, and its host restarts it.
    case receiveOmission(node: Int, round: UInt64, rounds: UInt64)
    /// Slightly off specification in time: the node's frames in that round leave `delay` later than
    /// its own measurement says, so receivers see them near or past the window's edge.
    case lateSend(node: Int, round: UInt64, delay: Interval)
    /// For `rounds` rounds the node also sends a copy of its last frame in the middle of each other
    /// node's slot that follows a window it closes (a babbling idiot without a bus guardian):
    /// receivers must drop those frames and judge the slot's sender alone.
    case babbling(node: Int, round: UInt64, rounds: UInt64)
    /// For `rounds` rounds frames between different groups are lost (nodes not listed form one more
    /// group): outside the fault hypothesis; clique avoidance must leave at most one operating clique.
    case partition(groups: [[Int]], round: UInt64, rounds: UInt64)
    /// The node's oscillator jumps by `step` (a clock fault).
    case clockStep(node: Int, round: UInt64, step: Interval)
    /// Not a fault: the application of `node` asks for a change to `mode` (by index).
    case modeChange(node: Int, round: UInt64, mode: Int)

    var round: UInt64 {
        switch self {
        case .crash(_, let r), .restart(_, let r), .sendOmission(_, let r), .asymmetric(_, let r, _), .twoFaced(_, let r, _),
             .receiveOmission(_, let r, _), .lateSend(_, let r, _), .babbling(_, let r, _), .partition(_, let r, _),
             .clockStep(_, let r, _), .modeChange(_, let r, _):
            return r
        }
    }
}

public enum SimulationStart: Sendable, Equatable {
    /// Every node runs from true time 0, synchronized within ±initialOffsetSpread, full membership.
    case synchronized
    /// Every node powers on listening at a uniform random instant in [0, spread]: the cluster must
    /// start itself (cold start), within the worst-case startup bound (Docs/protocol.md).
    case coldStart(powerOnSpread: Interval)
    /// Node i powers on listening at `powerOn[i]` (a missing entry: at 0), e.g. to make two listen
    /// timeouts expire together (cold-start contention).
    case coldStartAt(powerOn: [Interval])
}

public struct SimulationConfiguration: Sendable {
    public var seed: UInt64
    public var rounds: UInt64
    public var start: SimulationStart = .synchronized
    /// Oscillator drift of each node, uniform in ±`driftSpread` (a correct one stays within ρ).
    public var driftSpread: DriftRate
    /// Wander: every round each oscillator's rate moves by a uniform step in ±`wander`, clamped to
    /// ±driftSpread (zero: constant rates).
    public var wander: DriftRate = .zero
    /// Initial disagreement of the cluster clocks, uniform in ±`initialOffsetSpread`.
    public var initialOffsetSpread: Interval
    /// Receive timestamp error, uniform in ±readingError/2: the spread of one frame's readings at
    /// different receivers is then ≤ ε (REFERENCE.md §2's definition), with no systematic bias.
    public var readingError: Interval
    /// Dispatch lateness of a send, uniform in [0, maximumLateness] (measured and compensated).
    /// A frame that arrives after its slot has ended at a receiver is lost there, as on a real bus.
    public var maximumLateness: Interval
    /// Bus faults, per frame, in parts per million: the frame is lost for every receiver, or
    /// corrupted (one bit flipped, the same for every receiver). Either is a fault of that frame.
    public var busLossPerMillion: UInt32 = 0
    public var busCorruptionPerMillion: UInt32 = 0
    /// Rate correction in every controller (ControllerConfiguration.rateCorrection).
    public var rateCorrection = false
    /// Every controller's `maximumRoundsWithoutQuorumInMajority`; nil: the controller's default.
    public var maximumRoundsWithoutQuorumInMajority: Int?
    /// The host restarts a frozen node (a new controller, listening) this long after it froze; nil: never.
    public var restartAfterFreeze: Interval?
    public var faults: [SimulatedFault]

    public init(seed: UInt64, rounds: UInt64, schedule: Schedule, faults: [SimulatedFault] = []) {
        self.seed = seed
        self.rounds = rounds
        driftSpread = schedule.cluster.drift
        initialOffsetSpread = schedule.cluster.readingError / 2
        readingError = schedule.cluster.readingError
        // Dispatch lateness eats into the slot: a quarter of the shortest slot's time after
        // propagation and reading error, and at most 50 us (a loaded general-purpose host).
        let shortest = schedule.modes.flatMap(\.slots).map(\.length).min() ?? .microseconds(200)
        let room = shortest - schedule.cluster.propagation - schedule.cluster.readingError
        maximumLateness = min(.microseconds(50), max(.zero, room / 4))
        restartAfterFreeze = schedule.cluster.round * 2
        self.faults = faults
    }
}

public struct SimulationViolation: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case precision, monotonicity, membershipAgreement, membershipValidity, detectionLatency, correctNodeFrozen
        case broadcastValidity, broadcastAgreement, broadcastIntegrity, broadcastOrder, broadcastTermination
        case startupTime, twoCliques, modeAgreement, noRecovery
    }
    public var kind: Kind
    public var round: UInt64
    public var slot: Int
    /// True time of the check that found it (ns).
    public var time: Int64 = 0
    public var detail: String
    public var description: String {
        "\(kind.rawValue) at round \(round) slot \(slot) (t = \(Interval(nanoseconds: time))): \(detail)"
    }
}

public struct SimulationReport: Sendable {
    public var seed: UInt64
    public var rounds: UInt64
    public var precisionBound: Interval
    public var lowerBound: Interval
    public var precisionMax: Interval
    public var precisionP99: Interval
    /// Rounds from a fault to the end of the slot in which every correct node had removed the node.
    public var detectionRoundsMax: Double?
    /// Rounds from a restart until every correct node has the node back in its membership.
    public var reintegrationRoundsMax: Double?
    /// Restarted nodes that never rejoined before the run ended.
    public var reintegrationsPending: Int
    /// Cold start: from the last power-on until every node was active in everyone's membership,
    /// and the worst case Docs/protocol.md derives (nil when the run did not cold start).
    public var startupTime: Interval?
    public var startupBound: Interval?
    public var framesSent: Int
    public var framesAccepted: Int
    /// Datagrams receivers dropped because they named another sender than the slot's.
    public var foreignFrames: Int
    /// Message instances delivered, summed over nodes.
    public var deliveries: Int
    /// Mode changes that took effect (counted once per cluster-wide change).
    public var modeChanges: Int
    /// Host restarts of frozen nodes.
    public var freezeRestarts: Int
    /// Cold-start frames that met another node's cold-start frame (both nodes listened again).
    public var coldStartContentions: Int
    /// At the end: every powered node active, all views equal and holding every powered node.
    public var recovered: Bool
    public var violations: [SimulationViolation]
    /// FNV-1a over every node's final state and every frame byte sent: same seed, same hash.
    public var stateHash: UInt64
}

/// An application running on the simulated nodes — the same code a real node runs (TaktControl's
/// NodeApplication, through an adapter). The simulator calls it at the instants the real executive
/// does: just before a node's frame is built, at each atomic-broadcast delivery instant, at each
/// round's end, and when a node loses or regains power. `now` is the node's own cluster time;
/// for a transmission it is the slot's start, for a delivery the delivery instant (slot end + Π),
/// both the same at every node.
/// With an application attached, message values are the application's: the pattern values and
/// their integrity check are off (the application checks its own values end to end); every other
/// checker runs as usual.
public protocol SimulatedApplication: AnyObject {
    func transmitting(node: Int, round: UInt64, slot: Int, at now: ClusterInstant, controller: inout NodeController)
    func delivered(node: Int, _ delivery: Delivery, at now: ClusterInstant)
    func roundEnded(node: Int, round: UInt64, at now: ClusterInstant, controller: borrowing NodeController)
    /// Power lost (a crash: the node's volatile state is gone) or restored (a restart).
    func powerChanged(node: Int, on: Bool, at now: ClusterInstant)
    /// The node's next task release (cluster time), or nil; the simulator wakes the node for it.
    func nextRelease(node: Int) -> ClusterInstant?
    func released(node: Int, at now: ClusterInstant)
}

public enum Simulator {
    public static func run(schedule: Schedule, derived: DerivedResults, configuration: SimulationConfiguration,
                           trace: SimulationTrace? = nil, application: SimulatedApplication? = nil,
                           progress: ((UInt64) -> Void)? = nil) -> SimulationReport {
        var run = SimulationRun(schedule: schedule, derived: derived, configuration: configuration, trace: trace, progress: progress)
        run.application = application
        defer { run.tearDown() }
        return run.execute()
    }
}

/// FNV-1a 64: a stable hash for "same seed, same run" (never Swift's per-process seeded Hasher).
struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }  // &*: FNV's modular multiply
    }
    mutating func add(_ word: UInt64) {
        var w = word.littleEndian
        withUnsafeBytes(of: &w) { add($0) }
    }
}

/// One simulation run: the event loop and the checkers' state.
struct SimulationRun {
    var application: SimulatedApplication?
    /// The scheduled check's true time and the delivery instant (cluster time) it processes.
    var checkAt: Int64 = .min
    var checkDelivery = ClusterInstant(nanoseconds: .max)
    /// Per node, the true time of the release event queued last (.min: none).
    var releaseScheduled: [Int64] = []
    enum Event {
        case wake(node: Int, generation: UInt32)
        /// The application's next task release on `node` (scheduled with the node's wake-ups).
        case release(node: Int, generation: UInt32)  // generation: the node's incarnation
        case arrival(node: Int, frame: Int, generation: UInt32)
        case fault(Int)
        case restartFrozen(node: Int, generation: UInt32)
        case check
        case startupDeadline
    }

    let schedule: Schedule
    let derived: DerivedResults
    let configuration: SimulationConfiguration
    let trace: SimulationTrace?
    let progress: ((UInt64) -> Void)?
    let n: Int
    let roundNs: Int64
    let precision: Interval
    let codec: FrameCodec
    var random: SimulationRandom
    let endTime: Int64

    var oscillators: [SimulatedOscillator] = []
    var controllers: [NodeController] = []
    let configurations: [ControllerConfiguration]
    // Per mode, flat copies for the hot path (no struct-of-arrays copies per slot).
    let plans: [BroadcastPlan]
    let slotOffsets: [[Int64]]
    let slotEnds: [[Int64]]
    let slotSenders: [[Int]]
    /// Per node, the messages it sends.
    let sentMessages: [[Int]]
    var powered: [Bool]
    var generation: [UInt32]
    /// Bumped at every power-off and power-on: frames in flight to a previous incarnation are lost.
    var incarnation: [UInt32]
    /// True time of each node's scheduled wake (Int64.max: none).
    var nextWake: [Int64]
    var queue: EventQueue<Event>
    /// The true time of the next scheduled fault event (arrivals after it are queued, not handed over).
    var nextFaultTime = Int64.max
    var now: Int64 = 0

    // Frames in flight: fixed buffers, reference-counted by pending arrivals.
    var frameBuffers: [UnsafeMutableRawBufferPointer] = []
    var frameLengths: [Int] = []
    var frameReferences: [Int] = []
    var freeFrames: [Int] = []
    let sendBuffer: UnsafeMutableRawBufferPointer
    let valueBuffer: UnsafeMutableRawBufferPointer
    let lastFrames: UnsafeMutableRawBufferPointer
    var lastFrameLengths: [Int]

    // Fault bookkeeping, all in true time.
    struct Window { var node: Int; var from: Int64; var until: Int64 }
    var windows: [Window] = []
    /// Intervals outside the fault hypothesis (partitions, asymmetric reception, two faults at once).
    var outside: [(from: Int64, until: Int64)] = []
    var faultTime: [Int64?]
    var restartTime: [Int64?]
    var lastBabble: [Int64]

    // Checkers.
    var violations: [SimulationViolation] = []
    var samples: [Int64] = []
    var lastClusterTime: [Int64]
    var detectionRounds: Double?
    var reintegrationRounds: Double?
    var framesSent = 0, framesAccepted = 0, deliveries = 0, modeChanges = 0, freezeRestarts = 0
    /// Counters of controllers replaced by a restart.
    var retiredContentions = 0, retiredForeignFrames = 0
    var hash = FNV1a()
    var deliveryLog: [[UInt64]]
    var delivered: [Set<UInt64>]
    var epoch: UInt64 = 0
    var wasFrozen: [Bool]
    var timekeeper: Int?
    var checkRound: UInt64 = 0
    var checkSlot = 0
    var checkScheduled = false
    var lastProgress: UInt64 = 0
    var splitChecks = 0
    /// checkDeliveries' per-slot outcome table, reused.
    var outcomes: [Int8] = []
    var deliveredKeys: [UInt64] = []
    /// Per mode and message, Δ (the schedule's delivery bound).
    let deliveryBounds: [[Interval]]
    /// The last time a node became active or stopped being active.
    var lastStatusChange: Int64?
    var lastModeChangeRound: UInt64?
    // Cold start.
    var lastPowerOn: Int64?
    var startupTime: Interval?
    let startupBound: Interval?
    var startupReported = false

    init(schedule: Schedule, derived: DerivedResults, configuration: SimulationConfiguration,
         trace: SimulationTrace?, progress: ((UInt64) -> Void)?) {
        self.schedule = schedule
        self.derived = derived
        self.configuration = configuration
        self.trace = trace
        self.progress = progress
        n = schedule.nodes.count
        roundNs = schedule.cluster.round.nanoseconds
        precision = derived.precision ?? .zero
        guard let codec = try? FrameCodec(schedule: schedule) else { preconditionFailure("validated schedules fit the frame layout") }
        self.codec = codec
        random = SimulationRandom(seed: configuration.seed)
        endTime = Int64(min(configuration.rounds, UInt64(Int64.max / 4) / UInt64(roundNs))) * roundNs
        configurations = ControllerConfiguration.all(schedule: schedule, derived: derived).map {
            var c = $0
            c.rateCorrection = configuration.rateCorrection
            if let rounds = configuration.maximumRoundsWithoutQuorumInMajority { c.maximumRoundsWithoutQuorumInMajority = rounds }
            return c
        }
        plans = configurations[0].modes.map(\.plan)
        slotOffsets = schedule.modes.map { $0.slots.map(\.offset.nanoseconds) }
        slotEnds = schedule.modes.map { $0.slots.map(\.end.nanoseconds) }
        slotSenders = schedule.modes.map { $0.slots.map(\.sender) }
        deliveryBounds = derived.modes.map { $0.messages.map(\.deliveryBound) }
        sentMessages = schedule.nodes.indices.map { node in schedule.messages.indices.filter { schedule.messages[$0].sender == node } }
        powered = [Bool](repeating: false, count: n)
        generation = [UInt32](repeating: 0, count: n)
        incarnation = [UInt32](repeating: 0, count: n)
        nextWake = [Int64](repeating: .max, count: n)
        releaseScheduled = [Int64](repeating: .min, count: n)
        // Wakes (n), arrivals in flight (a few frames × n receivers), babbling, faults, checks.
        queue = EventQueue(capacity: 64 * n + 4 * n * n + configuration.faults.count + 64)
        sendBuffer = .allocate(byteCount: codec.maximumFrameBytes, alignment: 8)
        valueBuffer = .allocate(byteCount: 65_536, alignment: 8)
        lastFrames = .allocate(byteCount: codec.maximumFrameBytes * n, alignment: 8)
        lastFrameLengths = [Int](repeating: 0, count: n)
        faultTime = [Int64?](repeating: nil, count: n)
        restartTime = [Int64?](repeating: nil, count: n)
        lastBabble = [Int64](repeating: .min, count: n)
        lastClusterTime = [Int64](repeating: .min, count: n)
        deliveryLog = [[UInt64]](repeating: [], count: n)
        delivered = [Set<UInt64>](repeating: [], count: n)
        wasFrozen = [Bool](repeating: false, count: n)
        startupBound = configuration.start == .synchronized ? nil : StartupBound.worstCase(schedule: schedule)
    }

    mutating func tearDown() {
        for i in controllers.indices { controllers[i].deallocate() }
        for buffer in frameBuffers { buffer.deallocate() }
        sendBuffer.deallocate()
        valueBuffer.deallocate()
        lastFrames.deallocate()
    }

    func name(_ node: Int) -> String { schedule.nodes[node].name }

    // MARK: Set-up

    mutating func execute() -> SimulationReport {
        samples.reserveCapacity(Int(min(configuration.rounds, 1_000_000)) * max(1, schedule.modes[schedule.initialMode].slots.count))
        if let trace { for node in 0..<n { trace.nodeName(node, name(node)) } }
        let everyone = MembershipVector(capacity: n, members: 0..<n)
        switch configuration.start {
        case .synchronized:
            for node in 0..<n {
                let drift = DriftRate(partsPerBillion: random.uniform(-configuration.driftSpread.partsPerBillion...configuration.driftSpread.partsPerBillion))
                let offset = Interval(nanoseconds: random.uniform(-configuration.initialOffsetSpread.nanoseconds...configuration.initialOffsetSpread.nanoseconds))
                let oscillator = SimulatedOscillator(offset: .zero, rate: drift)
                oscillators.append(oscillator)
                controllers.append(NodeController(configuration: configurations[node], codec: codec, anchor: oscillator.local(atTrueTime: 0),
                                                  cluster: ClusterInstant(nanoseconds: offset.nanoseconds), members: everyone))
                powered[node] = true
            }
            for node in 0..<n { scheduleWake(node) }
            timekeeper = 0
            scheduleCheck(round: 0, slot: 0)
        case .coldStart, .coldStartAt:
            var latest: Int64 = 0
            for node in 0..<n {
                let drift = DriftRate(partsPerBillion: random.uniform(-configuration.driftSpread.partsPerBillion...configuration.driftSpread.partsPerBillion))
                // Local clocks start anywhere: the cluster's time base is set by its cold start.
                let oscillator = SimulatedOscillator(offset: .nanoseconds(random.uniform(0...1_000_000_000)), rate: drift)
                oscillators.append(oscillator)
                let on: Int64
                switch configuration.start {
                case .coldStart(let spread): on = random.uniform(0...max(0, spread.nanoseconds))
                case .coldStartAt(let times): on = node < times.count ? max(0, times[node].nanoseconds) : 0
                case .synchronized: on = 0
                }
                latest = max(latest, on)
                controllers.append(NodeController(configuration: configurations[node], codec: codec,
                                                  listeningAt: oscillator.local(atTrueTime: on)))
                powered[node] = false
                queue.push(.fault(-1 - node), at: on)  // power-on events are encoded as negative indices
            }
            lastPowerOn = latest
            if let startupBound { queue.push(.startupDeadline, at: latest + startupBound.nanoseconds + 1) }
        }
        classifyFaults()
        for (i, fault) in configuration.faults.enumerated() {
            let at = Int64(fault.round) * roundNs
            switch fault {
            case .crash, .restart, .clockStep, .modeChange, .partition, .receiveOmission, .babbling:
                queue.push(.fault(i), at: at)
            default: break
            }
        }
        refreshNextFaultTime()
        loop()
        return finish()
    }

    /// Fault windows (when each node counts as faulty) and the intervals outside the hypothesis.
    mutating func classifyFaults() {
        let r = roundNs
        let recovery = (configuration.restartAfterFreeze?.nanoseconds ?? 0) + 6 * r
        for fault in configuration.faults {
            let at = Int64(fault.round) * r
            switch fault {
            case .crash(let node, let round):
                let restart = configuration.faults.compactMap { f -> UInt64? in
                    if case .restart(node, let back) = f, back > round { return back } else { return nil }
                }.min()
                windows.append(Window(node: node, from: at, until: restart.map { Int64($0) * r + 4 * r } ?? .max))
            case .sendOmission(let node, _):
                windows.append(Window(node: node, from: at, until: at + 5 * r))
            case .lateSend(let node, _, let delay):
                windows.append(Window(node: node, from: at, until: at + 5 * r))
                // Late by less than 2(Π + ε), a frame can fall inside some receivers' windows and
                // outside others' (slightly off specification): in effect asymmetric.
                if delay < (precision + configuration.readingError) * 2 { outside.append((at, at + 5 * r)) }
            case .asymmetric(let node, _, _):
                windows.append(Window(node: node, from: at, until: at + 5 * r))
                outside.append((at, at + 5 * r))
            case .twoFaced(let node, _, let skew):
                windows.append(Window(node: node, from: at, until: .max))
                // Beyond Π + ε the skewed frames fall outside some receivers' windows: in effect
                // asymmetric, outside the hypothesis.
                if skew > precision + configuration.readingError { outside.append((at, .max)) }
            case .receiveOmission(let node, _, let rounds):
                windows.append(Window(node: node, from: at, until: at + Int64(rounds) * r + recovery))
            case .babbling(let node, _, let rounds):
                windows.append(Window(node: node, from: at, until: at + Int64(rounds) * r + r))
            case .clockStep(let node, _, _):
                windows.append(Window(node: node, from: at, until: at + recovery))
            case .partition(let groups, _, let rounds):
                // Every node may end up frozen and restarted; the cluster may need a cold start.
                let until = at + Int64(rounds) * r + recovery + (startupBoundNs ?? 10 * r)
                outside.append((at, until))
                _ = groups
                for node in 0..<n { windows.append(Window(node: node, from: at, until: until)) }
            case .restart, .modeChange:
                break
            }
        }
    }

    var startupBoundNs: Int64? { StartupBound.worstCase(schedule: schedule).nanoseconds }

    mutating func faulty(_ node: Int, at t: Int64) -> Bool {
        for w in windows where w.node == node && w.from <= t && t <= w.until { return true }
        return false
    }

    /// Within 2 rounds of a fault's start or end, while the cluster starts, or within 3 rounds of a
    /// node joining or leaving (integration, cold start, freeze), views may differ.
    mutating func disturbed(_ t: Int64) -> Bool {
        if let change = lastStatusChange, t <= change + 3 * roundNs { return true }
        if let last = lastPowerOn, startupTime == nil || t <= last + (startupTime?.nanoseconds ?? 0) + 2 * roundNs { return true }
        for w in windows where w.from <= t && t <= (w.until == .max ? w.from : w.until) + 2 * roundNs { return true }
        return false
    }

    /// At most max(1, k) faulty nodes, and no fault outside the hypothesis (asymmetric, partition).
    mutating func withinHypothesis(_ t: Int64) -> Bool {
        for o in outside where o.from <= t && t <= o.until { return false }
        var count = 0
        for node in 0..<n where faulty(node, at: t) { count += 1 }
        return count <= max(1, schedule.cluster.faultTolerance)
    }

    mutating func correct(_ node: Int) -> Bool { powered[node] && controllers[node].isActive && !faulty(node, at: now) }

    mutating func refreshNextFaultTime() {
        // Fault events are in the queue; this bound only gates hand-over of arrivals.
        nextFaultTime = .max
        for fault in configuration.faults {
            let at = Int64(fault.round) * roundNs
            if at >= now && at < nextFaultTime { nextFaultTime = at }
        }
    }

    // MARK: The loop

    mutating func loop() {
        while let entry = queue.pop() {
            if entry.time > endTime { break }
            now = entry.time
            let elapsedRounds = UInt64(now / roundNs)
            if let progress, elapsedRounds >= lastProgress + 1_000 {
                lastProgress = elapsedRounds - elapsedRounds % 1_000
                progress(lastProgress)
            }
            switch entry.payload {
            case .wake(let node, let g):
                guard g == generation[node], powered[node] else { continue }
                nextWake[node] = .max
                wake(node)
            case .release(let node, let g):
                guard g == incarnation[node], powered[node], let application else { continue }
                guard releaseScheduled[node] == now else { continue }  // superseded by an earlier release
                let clusterNow = controllers[node].clock.clusterTime(at: oscillators[node].local(atTrueTime: now))
                // Deliveries are made for every node at once, at the timekeeper's delivery instant;
                // a node whose clock is ahead reaches a release after its own delivery instant
                // before that. A task reads what was delivered by its release: run it after.
                if checkScheduled && checkDelivery <= clusterNow && checkAt >= now {
                    releaseScheduled[node] = checkAt + 1
                    queue.push(.release(node: node, generation: g), at: checkAt + 1)
                    continue
                }
                releaseScheduled[node] = .min
                application.released(node: node, at: clusterNow)
                scheduleRelease(node)
            case .arrival(let node, let frame, let g):
                if g == incarnation[node] && powered[node] && !receiveOmitted(node, at: now) {
                    handOver(frame, to: node, arrival: now)
                }
                releaseFrame(frame)
            case .fault(let index):
                applyFault(index)
                refreshNextFaultTime()
            case .restartFrozen(let node, let g):
                guard g == generation[node], powered[node], case .frozen = controllers[node].status else { continue }
                freezeRestarts += 1
                trace?.instant("host restarts " + name(node), node: node, at: now)
                powerOn(node)
            case .check:
                checkScheduled = false
                check()
            case .startupDeadline:
                if startupTime == nil && !startupReported {
                    startupReported = true
                    record(.startupTime, round: 0, slot: 0, "the cluster had not started \(startupBound ?? .zero) after the last power-on (the worst-case bound)")
                }
            }
            if violations.count > 1_000 { break }
            if !checkScheduled { resumeChecks() }
        }
    }

    mutating func scheduleWake(_ node: Int) {
        guard powered[node], let (at, _) = controllers[node].nextAction() else {
            nextWake[node] = .max
            return
        }
        let t = max(now, oscillators[node].trueTime(atLocal: at))
        nextWake[node] = t
        queue.push(.wake(node: node, generation: generation[node]), at: t)
        scheduleRelease(node)
    }

    /// Schedules the application's next task release on `node` (once per distinct instant).
    mutating func scheduleRelease(_ node: Int) {
        guard let application, powered[node], let release = application.nextRelease(node: node) else { return }
        let t = max(now, oscillators[node].trueTime(atLocal: controllers[node].clock.localTime(at: release)))
        guard t != releaseScheduled[node] else { return }
        releaseScheduled[node] = t
        queue.push(.release(node: node, generation: incarnation[node]), at: t)
    }

    /// A frame reaches `node` at true time `arrival` (now, or later for a hand-over ahead of time).
    mutating func handOver(_ frame: Int, to node: Int, arrival: Int64) {
        let before = controllers[node].status
        let local = oscillators[node].local(atTrueTime: arrival)
        controllers[node].frameArrived(UnsafeRawBufferPointer(rebasing: frameBuffers[frame][0..<frameLengths[frame]]), at: local)
        // A listening node may have integrated or restarted its timeout; a cold-starting one may
        // have met another cold-start frame (contention).
        switch before {
        case .listening, .coldStarting:
            if controllers[node].status != before { lastStatusChange = arrival }
            rescheduleWake(node)
        case .integrating, .active, .frozen: break
        }
    }

    mutating func rescheduleWake(_ node: Int) {
        generation[node] &+= 1
        scheduleWake(node)
    }

    mutating func wake(_ node: Int) {
        let wasActive = controllers[node].isActive
        defer { if controllers[node].isActive != wasActive { lastStatusChange = now } }
        guard let (at, action) = controllers[node].nextAction() else { return }
        let local = oscillators[node].local(atTrueTime: now)
        switch action {
        case .transmit(let round, let slot):
            transmit(node, round: round, slot: slot, planned: at)
        case .closeWindow(let round, let slot):
            let before = trace == nil ? nil : controllers[node].cState.membership
            let outcome = controllers[node].windowClosed(round: round, slot: slot)
            if case .correct = outcome { framesAccepted += 1 }
            if let trace { traceOutcome(trace, outcome, node: node, membershipBefore: before) }
            if isBabbling(node, at: now) { babble(node, round: round, slot: slot) }
        case .endRound(let round):
            let outcome = controllers[node].roundEnded(round: round, at: local)
            application?.roundEnded(node: node, round: round, at: controllers[node].clock.clusterTime(at: local), controller: controllers[node])
            if let trace, let correction = outcome.correction { trace.counter("correction", node: node, at: now, value: correction.nanoseconds) }
            if let mode = outcome.modeChanged, lastModeChangeRound != round {
                lastModeChangeRound = round
                modeChanges += 1
                trace?.instant("mode → " + schedule.modes[mode].name, node: nil, at: now)
            }
            if configuration.wander.partsPerBillion > 0 {
                let spread = configuration.driftSpread.partsPerBillion
                let step = random.uniform(-configuration.wander.partsPerBillion...configuration.wander.partsPerBillion)
                let rate = min(spread, max(-spread, oscillators[node].ratePartsPerBillion + step))
                oscillators[node].setRate(DriftRate(partsPerBillion: rate), atTrueTime: now)
            }
        case .listenTimeout:
            controllers[node].listenTimedOut(at: local)
            if controllers[node].status == .coldStarting { trace?.instant("cold start", node: node, at: now) }
        }
        if case .frozen(let reason) = controllers[node].status, !wasFrozen[node] {
            trace?.instant("frozen", node: node, at: now, detail: "\(reason)")
            frozeNow(node, reason: "\(reason)")
        }
        scheduleWake(node)
    }

    mutating func frozeNow(_ node: Int, reason: String) {
        guard !wasFrozen[node] else { return }
        wasFrozen[node] = true
        if let delay = configuration.restartAfterFreeze {
            queue.push(.restartFrozen(node: node, generation: generation[node]), at: now + delay.nanoseconds)
        }
        if !faulty(node, at: now) && withinHypothesis(now) && !disturbedByStartup(now) {
            record(.correctNodeFrozen, round: controllers[node].cState.round, slot: controllers[node].cState.slot, "correct node \(name(node)) froze: \(reason)")
        }
    }

    mutating func disturbedByStartup(_ t: Int64) -> Bool {
        guard let last = lastPowerOn else { return false }
        return startupTime == nil || t <= last + startupTime!.nanoseconds + 2 * roundNs
    }

    mutating func powerOn(_ node: Int) {
        retiredContentions += controllers[node].contentions
        retiredForeignFrames += controllers[node].foreignFrames
        controllers[node].deallocate()
        controllers[node] = NodeController(configuration: configurations[node], codec: codec, listeningAt: oscillators[node].local(atTrueTime: now))
        powered[node] = true
        releaseScheduled[node] = .min
        application?.powerChanged(node: node, on: true, at: controllers[node].clock.clusterTime(at: oscillators[node].local(atTrueTime: now)))
        incarnation[node] &+= 1
        wasFrozen[node] = false
        lastClusterTime[node] = .min
        rescheduleWake(node)
    }

    // MARK: Sending

    /// The value of instance (m, first round): a pattern the checkers can recompute.
    static func pattern(message m: Int, round: UInt64, size: Int, into buffer: UnsafeMutableRawBufferPointer) {
        var word = (round &* 1_000_003) ^ UInt64(m)  // &*: a hash, wrap intended
        for i in 0..<size {
            buffer[i] = UInt8(truncatingIfNeeded: word)
            word = (word >> 8) | (word << 56)
        }
    }

    mutating func transmit(_ node: Int, round: UInt64, slot: Int, planned: LocalInstant) {
        let lateness = random.uniform(0...configuration.maximumLateness.nanoseconds)
        var sendTime = now + lateness
        let measured = oscillators[node].local(atTrueTime: sendTime) - planned
        if let application {
            // `now` for the application: the slot's start, as the executive gives it.
            let start = controllers[node].slotStart(round: round, slot: slot)
            application.transmitting(node: node, round: round, slot: slot, at: start, controller: &controllers[node])
        } else {
            let plan = plans[controllers[node].cState.mode]
            for m in sentMessages[node] {
                let size = plan.size(of: m)
                SimulationRun.pattern(message: m, round: round, size: size, into: valueBuffer)
                controllers[node].write(message: m, UnsafeRawBufferPointer(rebasing: valueBuffer[0..<size]))
            }
        }
        let length = controllers[node].transmit(round: round, slot: slot, lateness: measured, into: sendBuffer)
        if let trace {
            let mode = controllers[node].mode(ofRound: round)
            let info = schedule.modes[mode].slots[slot]
            trace.slot(info.name, node: node, start: sendTime, duration: info.length.nanoseconds, round: round, sent: length != nil)
        }
        guard let length else { return }
        framesSent += 1
        hash.add(UnsafeRawBufferPointer(rebasing: sendBuffer[0..<length]))
        if !babblers.isEmpty {  // keep the frame: a babbling node repeats it in foreign slots
            (lastFrames.baseAddress! + node * codec.maximumFrameBytes).copyMemory(from: sendBuffer.baseAddress!, byteCount: length)
            lastFrameLengths[node] = length
        }
        for f in lateSends where f.node == node && f.from <= sendTime && sendTime < f.until { sendTime += f.delay }
        broadcast(from: node, length: length, at: sendTime)
    }

    // Frame-affecting faults, precomputed as true-time intervals.
    struct NodeInterval { var node: Int; var from: Int64; var until: Int64 }
    lazy var sendOmissions: [NodeInterval] = configuration.faults.compactMap {
        if case .sendOmission(let node, let r) = $0 { return NodeInterval(node: node, from: Int64(r) * roundNs, until: Int64(r + 1) * roundNs) }
        return nil
    }
    lazy var asymmetries: [(node: Int, from: Int64, until: Int64, receivers: [Int])] = configuration.faults.compactMap {
        if case .asymmetric(let node, let r, let to) = $0 { return (node, Int64(r) * roundNs, Int64(r + 1) * roundNs, to) }
        return nil
    }
    lazy var twoFacedClocks: [(node: Int, from: Int64, skew: Int64)] = configuration.faults.compactMap {
        if case .twoFaced(let node, let r, let skew) = $0 { return (node, Int64(r) * roundNs, skew.nanoseconds) }
        return nil
    }
    lazy var lateSends: [(node: Int, from: Int64, until: Int64, delay: Int64)] = configuration.faults.compactMap {
        if case .lateSend(let node, let r, let delay) = $0 { return (node, Int64(r) * roundNs, Int64(r + 1) * roundNs, delay.nanoseconds) }
        return nil
    }
    lazy var receiveOmissions: [NodeInterval] = configuration.faults.compactMap {
        if case .receiveOmission(let node, let r, let k) = $0 { return NodeInterval(node: node, from: Int64(r) * roundNs, until: Int64(r + k) * roundNs) }
        return nil
    }
    lazy var babblers: [NodeInterval] = configuration.faults.compactMap {
        if case .babbling(let node, let r, let k) = $0 { return NodeInterval(node: node, from: Int64(r) * roundNs, until: Int64(r + k) * roundNs) }
        return nil
    }
    /// Per partition: the interval and each node's group.
    lazy var partitions: [(from: Int64, until: Int64, group: [Int])] = configuration.faults.compactMap {
        guard case .partition(let groups, let r, let k) = $0 else { return nil }
        var group = [Int](repeating: groups.count, count: n)
        for (g, members) in groups.enumerated() { for node in members where node >= 0 && node < n { group[node] = g } }
        return (Int64(r) * roundNs, Int64(r + k) * roundNs, group)
    }

    mutating func receiveOmitted(_ node: Int, at t: Int64) -> Bool {
        for f in receiveOmissions where f.node == node && f.from <= t && t < f.until { return true }
        return false
    }

    mutating func isBabbling(_ node: Int, at t: Int64) -> Bool {
        for f in babblers where f.node == node && f.from <= t && t < f.until { return true }
        return false
    }

    /// A frame fault of the bus or the sender: the sender counts as faulty for 5 rounds.
    mutating func frameFault(_ sender: Int, at t: Int64) {
        if faultTime[sender] == nil { faultTime[sender] = t }
        windows.append(Window(node: sender, from: t, until: t + 5 * roundNs))
    }

    mutating func allocateFrame(copying bytes: UnsafeRawBufferPointer) -> Int {
        let index: Int
        if let free = freeFrames.popLast() {
            index = free
        } else {
            index = frameBuffers.count
            frameBuffers.append(.allocate(byteCount: codec.maximumFrameBytes, alignment: 8))
            frameLengths.append(0)
            frameReferences.append(0)
        }
        frameBuffers[index].baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        frameLengths[index] = bytes.count
        frameReferences[index] = 1  // held by the broadcast until it has scheduled every arrival
        return index
    }

    mutating func releaseFrame(_ frame: Int) {
        frameReferences[frame] -= 1
        if frameReferences[frame] == 0 { freeFrames.append(frame) }
    }

    /// The frame in `sendBuffer[0..<length]` leaves `sender` at true time `sendTime`.
    mutating func broadcast(from sender: Int, length: Int, at sendTime: Int64) {
        var lost = false
        for f in sendOmissions where f.node == sender && f.from <= sendTime && sendTime < f.until { lost = true }
        if configuration.busLossPerMillion > 0 && random.chance(partsPerMillion: configuration.busLossPerMillion) { lost = true }
        if lost {
            frameFault(sender, at: sendTime)
            trace?.instant("frame lost", node: sender, at: sendTime)
            return
        }
        let frame = allocateFrame(copying: UnsafeRawBufferPointer(rebasing: sendBuffer[0..<length]))
        if configuration.busCorruptionPerMillion > 0 && random.chance(partsPerMillion: configuration.busCorruptionPerMillion) {
            let bit = Int(random.below(UInt64(length * 8)))
            frameBuffers[frame][bit / 8] ^= UInt8(1) << UInt8(bit % 8)
            frameFault(sender, at: sendTime)
            trace?.instant("frame corrupted", node: sender, at: sendTime)
        }
        var receivers: [Int]? = nil
        for f in asymmetries where f.node == sender && f.from <= sendTime && sendTime < f.until {
            receivers = f.receivers
            frameFault(sender, at: sendTime)
        }
        var skew: Int64 = 0
        for f in twoFacedClocks where f.node == sender && f.from <= sendTime { skew = f.skew }
        let propagation = schedule.cluster.propagation.nanoseconds
        let halfError = configuration.readingError.nanoseconds / 2
        for j in 0..<n where j != sender && powered[j] {
            if let receivers, !receivers.contains(j) { continue }
            if !receiveOmissions.isEmpty && receiveOmitted(j, at: sendTime + propagation) { continue }
            var cut = false
            for p in partitions where p.from <= sendTime && sendTime < p.until && p.group[j] != p.group[sender] { cut = true }
            if cut { continue }
            let error = halfError > 0 ? random.uniform(-halfError...halfError) : 0
            let arrival = max(now, sendTime + propagation + error + (j % 2 == 0 ? -skew : skew))
            if arrival < nextWake[j] && arrival < nextFaultTime && !controllers[j].isListening {
                handOver(frame, to: j, arrival: arrival)
            } else {
                frameReferences[frame] += 1
                queue.push(.arrival(node: j, frame: frame, generation: incarnation[j]), at: arrival)
            }
        }
        releaseFrame(frame)
    }

    /// A babbling node sends its last frame again in the middle of the next slot (another node's).
    mutating func babble(_ node: Int, round: UInt64, slot: Int) {
        let table = configurations[node].modes[controllers[node].cState.mode]
        let next = (slot + 1) % max(1, table.slotLengths.count)
        guard table.slotSenders[next] != node else { return }
        let length = lastFrameLengths[node]
        guard length > 0 else { return }
        // In the middle of the foreign slot — but, when the babbler's own slot follows it, no later
        // than 2(Π + ε) + propagation before that slot: every receiver must see the frame outside
        // the babbler's acceptance window (which opens Π + ε early), whatever their clocks'
        // disagreement (≤ Π). Closer, it is a slightly-off-specification send, which some receivers
        // accept and others reject — outside the fault hypothesis (a bus guardian prevents it).
        var offset = table.slotLengths[next].nanoseconds / 2
        let after = (next + 1) % max(1, table.slotLengths.count)
        if table.slotSenders[after] == node {
            let margin = 2 * (precision + configuration.readingError).nanoseconds
            offset = min(offset, table.slotLengths[next].nanoseconds - margin - schedule.cluster.propagation.nanoseconds)
            guard offset > 0 else { return }
        }
        sendBuffer.baseAddress!.copyMemory(from: lastFrames.baseAddress! + node * codec.maximumFrameBytes, byteCount: length)
        broadcast(from: node, length: length, at: now + offset)
        trace?.instant("babble", node: node, at: now + offset)
    }

    // MARK: Faults

    mutating func applyFault(_ index: Int) {
        if index < 0 {  // cold start: power-on
            let node = -1 - index
            trace?.instant("power on " + name(node), node: nil, at: now)
            powerOn(node)
            return
        }
        switch configuration.faults[index] {
        case .crash(let node, _):
            guard powered[node] else { return }
            trace?.instant("crash " + name(node), node: nil, at: now)
            lastStatusChange = now
            powered[node] = false
            application?.powerChanged(node: node, on: false, at: controllers[node].clock.clusterTime(at: oscillators[node].local(atTrueTime: now)))
            incarnation[node] &+= 1
            generation[node] &+= 1
            nextWake[node] = .max
            faultTime[node] = now
        case .restart(let node, _):
            guard !powered[node] else { return }
            trace?.instant("restart " + name(node), node: nil, at: now)
            restartTime[node] = now
            powerOn(node)
        case .clockStep(let node, _, let step):
            trace?.instant("clock step " + name(node), node: nil, at: now, detail: "\(step)")
            oscillators[node].step(by: step, atTrueTime: now)
            if powered[node] { rescheduleWake(node) }
        case .modeChange(let node, _, let mode):
            let accepted = powered[node] && controllers[node].requestModeChange(to: mode)
            trace?.instant("mode change to " + schedule.modes[mode].name + " requested by " + name(node), node: nil, at: now,
                           detail: accepted ? "accepted" : "refused")
        case .partition(let groups, _, let rounds):
            trace?.instant("partition for \(rounds) rounds", node: nil, at: now, detail: groups.map { $0.map(name).joined(separator: ",") }.joined(separator: " | "))
        case .receiveOmission(let node, _, let rounds):
            trace?.instant("receive fault of " + name(node) + " for \(rounds) rounds", node: nil, at: now)
        case .babbling(let node, _, let rounds):
            trace?.instant(name(node) + " babbles for \(rounds) rounds", node: nil, at: now)
        default:
            break
        }
    }

    mutating func traceOutcome(_ trace: SimulationTrace, _ outcome: SlotOutcome, node: Int, membershipBefore before: MembershipVector?) {
        switch outcome {
        case .correct, .notJudged: break
        case .missing(let s): trace.instant("missing frame of " + name(s), node: node, at: now)
        case .rejected(let s, let reason): trace.instant("rejected frame of " + name(s), node: node, at: now, detail: "\(reason)")
        case .outsideWindow(let s, let deviation): trace.instant("frame of " + name(s) + " outside the window", node: node, at: now, detail: "\(deviation)")
        case .selfDiagnosedSendFault: trace.instant("send fault diagnosed: re-integrating", node: node, at: now)
        case .coldStartContention(let s): trace.instant("cold-start contention with " + name(s), node: node, at: now)
        }
        if let before, before != controllers[node].cState.membership {
            trace.instant("membership", node: node, at: now, detail: "\(controllers[node].cState.membership)")
        }
    }

    mutating func record(_ kind: SimulationViolation.Kind, round: UInt64, slot: Int, _ detail: String) {
        violations.append(SimulationViolation(kind: kind, round: round, slot: slot, time: now, detail: detail))
    }

    // MARK: Checkers

    /// The lowest-index correct active node, whose clock paces the checks.
    mutating func pickTimekeeper() -> Int? {
        for node in 0..<n where correct(node) { return node }
        for node in 0..<n where powered[node] && controllers[node].isActive { return node }
        return nil
    }

    mutating func resumeChecks() {
        guard let tk = pickTimekeeper(), let (_, action) = controllers[tk].nextAction() else { return }
        splitChecks = 0
        timekeeper = tk
        var round: UInt64, slot: Int
        switch action {
        case .transmit(let r, let s), .closeWindow(let r, let s): (round, slot) = (r, s)
        case .endRound(let r): (round, slot) = (r + 1, 0)
        case .listenTimeout: return
        }
        if round < checkRound { epoch += 1 }  // a new cluster (cold start): round numbers restart
        // The slot before the cursor may still be pending at other nodes: check from there.
        if slot > 0 { slot -= 1 } else if round > 0 {
            round -= 1
            slot = slotEnds[controllers[tk].mode(ofRound: round)].count - 1
        }
        scheduleCheck(round: round, slot: slot)
    }

    mutating func scheduleCheck(round: UInt64, slot: Int) {
        guard let tk = timekeeper else { return }
        let ends = slotEnds[controllers[tk].mode(ofRound: round)]
        guard slot < ends.count else { return }
        let end = ClusterInstant(nanoseconds: Int64(round) * roundNs + ends[slot]) + precision
        let t = oscillators[tk].trueTime(atLocal: controllers[tk].clock.localTime(at: end))
        checkRound = round
        checkSlot = slot
        checkScheduled = true
        checkAt = max(now, t)
        checkDelivery = end
        queue.push(.check, at: checkAt)
    }

    mutating func check() {
        timekeeper = pickTimekeeper()
        guard let tk = timekeeper else {
            splitChecks = 0  // no active node: the cliques of before are gone
            return
        }
        let r = checkRound, s = checkSlot
        let mode = controllers[tk].mode(ofRound: r)
        let senders = slotSenders[mode]
        guard s < senders.count else { return }
        let sender = senders[s]
        let lastSlot = s == senders.count - 1

        // Precision and monotonicity among the correct nodes, at this instant. Monotonicity holds
        // within a node's active period: adopting a C-state (integration, cold start) sets the
        // clock, which may go back (a node that diagnosed itself and then cold started a cluster
        // every other node had left starts at round 0), so a node that is not correct now starts
        // a new period.
        var lo = Int64.max, hi = Int64.min
        for node in 0..<n {
            guard correct(node) else {
                lastClusterTime[node] = .min
                continue
            }
            let c = controllers[node].clock.clusterTime(at: oscillators[node].local(atTrueTime: now)).nanoseconds
            lo = min(lo, c); hi = max(hi, c)
            if c < lastClusterTime[node] {
                record(.monotonicity, round: r, slot: s, "node \(name(node))'s cluster clock went back")
            }
            lastClusterTime[node] = c
        }
        if hi > lo || (hi == lo && hi != .min) {
            samples.append(hi - lo)
            if hi - lo > precision.nanoseconds && withinHypothesis(now) {
                record(.precision, round: r, slot: s, "clocks \(Interval(nanoseconds: hi - lo)) apart, bound Π = \(precision)")
            }
        }

        // The agreed view of the correct nodes, when they agree (for detection and reintegration).
        var agreed: MembershipVector?
        if faultTime[sender] != nil || restartTime.contains(where: { $0 != nil }) {
            for node in 0..<n where correct(node) {
                if agreed == nil { agreed = controllers[node].cState.membership }
                else if agreed != controllers[node].cState.membership { agreed = nil; break }
            }
        }
        let slotEnd = now - precision.nanoseconds
        if let since = faultTime[sender], let agreed, !agreed.contains(sender) {
            // A fault injected while a cold start is still forming the cluster meets no membership
            // to leave: its latency counts from the instant the cluster was up (a slot end already
            // checked, so never after this one).
            let up = lastPowerOn.flatMap { last in startupTime.map { last + $0.nanoseconds } } ?? since
            let latency = Double(slotEnd - max(since, up)) / Double(roundNs)
            detectionRounds = max(detectionRounds ?? 0, latency)
            if latency > 2 {
                record(.detectionLatency, round: r, slot: s, "\(name(sender)) removed \(latency) rounds after its fault")
            }
            faultTime[sender] = nil
        }
        for node in 0..<n {
            guard let since = restartTime[node] else { continue }
            let back = (0..<n).allSatisfy { $0 == node || !correct($0) || controllers[$0].cState.membership.contains(node) }
            if back && controllers[node].isActive && (0..<n).contains(where: { $0 != node && correct($0) }) {
                reintegrationRounds = max(reintegrationRounds ?? 0, Double(slotEnd - since) / Double(roundNs))
                restartTime[node] = nil
            }
        }

        checkDeliveries(round: r, slot: s, mode: mode)

        if lastSlot {
            checkViews(round: r, slot: s)
        }
        if let last = lastPowerOn, startupTime == nil, now >= last { checkStartup(round: r, slot: s, lastPowerOn: last) }

        // Next slot.
        if s + 1 < senders.count { scheduleCheck(round: r, slot: s + 1) } else { scheduleCheck(round: r + 1, slot: 0) }
    }

    /// End of a round: membership agreement and validity, mode agreement, and at most one clique.
    mutating func checkViews(round r: UInt64, slot s: Int) {
        var reference: MembershipVector?
        var referenceMode = 0
        let quiet = !disturbed(now)
        for node in 0..<n where correct(node) && quiet {
            let view = controllers[node].cState.membership
            if let reference {
                if reference != view {
                    record(.membershipAgreement, round: r, slot: s, "node \(name(node)) holds \(view), another correct node \(reference)")
                }
                if controllers[node].cState.mode != referenceMode {
                    record(.modeAgreement, round: r, slot: s, "node \(name(node)) runs mode \(schedule.modes[controllers[node].cState.mode].name), another correct node \(schedule.modes[referenceMode].name)")
                }
            } else {
                reference = view
                referenceMode = controllers[node].cState.mode
                for other in 0..<n where correct(other) && !view.contains(other) {
                    record(.membershipValidity, round: r, slot: s, "correct node \(name(other)) is not in \(name(node))'s view")
                }
            }
        }
        // Cliques: active nodes holding different views, for 3 round ends in a row.
        var first: MembershipVector?
        var split = false
        for node in 0..<n where powered[node] && controllers[node].isActive {
            let view = controllers[node].cState.membership
            if first == nil { first = view } else if first != view { split = true; break }
        }
        splitChecks = split ? splitChecks + 1 : 0
        if splitChecks == 3 {
            let groups = (0..<n).filter { powered[$0] && controllers[$0].isActive }
                .map { "\(name($0)): \(controllers[$0].cState.membership)" }.joined(separator: "; ")
            record(.twoCliques, round: r, slot: s, "active nodes have held different views for 3 rounds: \(groups)")
        }
    }

    mutating func checkStartup(round r: UInt64, slot s: Int, lastPowerOn: Int64) {
        var view: MembershipVector?
        for node in 0..<n where powered[node] && !faulty(node, at: now) {
            guard controllers[node].isActive else { return }
            let v = controllers[node].cState.membership
            if view == nil { view = v } else if view != v { return }
        }
        guard let view, (0..<n).allSatisfy({ !powered[$0] || faulty($0, at: now) || view.contains($0) }) else { return }
        let elapsed = Interval(nanoseconds: now - precision.nanoseconds - lastPowerOn)
        startupTime = elapsed
        trace?.instant("cluster started", node: nil, at: now, detail: "\(elapsed) after the last power-on")
        if let bound = startupBound, elapsed > bound, !startupReported {
            startupReported = true
            record(.startupTime, round: r, slot: s, "the cluster started \(elapsed) after the last power-on, worst-case bound \(bound)")
        }
    }

    mutating func checkDeliveries(round r: UInt64, slot s: Int, mode: Int) {
        let plan = plans[mode]
        let completing = plan.completionIndices(round: r, slot: s)
        guard !completing.isEmpty else { return }
        // Δ: the delivery instant (slot end + Π) minus the first copy's start is the schedule's bound.
        for k in completing {
            let m = plan.completion(k)
            let firstRound = plan.firstRound(ofInstanceCompletingIn: r, message: m)
            let delta = Interval(nanoseconds: (Int64(r) - Int64(firstRound)) * roundNs + slotEnds[mode][s] - slotOffsets[mode][plan.firstCopySlot(of: m)]) + precision
            let bound = deliveryBounds[mode][m]
            if delta != bound {
                record(.broadcastTermination, round: r, slot: s, "message \(schedule.messages[m].name) delivered \(delta) after its first send, Δ = \(bound)")
            }
        }
        // outcome[i·n + node]: -1 not asked, 0 discarded, 1 delivered (a reused buffer). The
        // callback touches only locals (the controller is being accessed); findings are recorded after.
        let cells = completing.count * n
        if outcomes.count < cells { outcomes = [Int8](repeating: -1, count: cells) }
        for i in 0..<cells { outcomes[i] = -1 }
        var outcome = outcomes
        outcomes = []
        defer { outcomes = outcome }
        var findings: [(SimulationViolation.Kind, String)] = []
        var keys = deliveredKeys
        deliveredKeys = []
        let values = valueBuffer
        let currentEpoch = epoch
        let app = application
        // The delivery instant every node delivers at (cluster time): the slot's end + Π.
        let deliveryInstant = ClusterInstant(nanoseconds: Int64(r) * roundNs + slotEnds[mode][s]) + precision
        for node in 0..<n where powered[node] && !controllers[node].isListening {
            var i = 0
            keys.removeAll(keepingCapacity: true)
            controllers[node].deliver(round: r, slot: s) { d in
                defer { i += 1 }
                app?.delivered(node: node, d, at: deliveryInstant)
                guard i < completing.count else { return }
                outcome[i * n + node] = d.delivered ? 1 : 0
                guard d.delivered else { return }
                let m = d.message
                keys.append(currentEpoch << 56 | UInt64(m) << 40 | d.instance)
                guard app == nil else { return }  // the application's values: it checks them itself
                // The sender's application wrote pattern(m, x) before its frame of round x; the
                // instance carries the value of its first copy's round, or — from a sender that
                // joined after that copy — of the round of the first copy it sent.
                let size = plan.size(of: m)
                var written = false
                var x = plan.firstRound(ofInstanceCompletingIn: r, message: m)
                while !written && x <= r {
                    SimulationRun.pattern(message: m, round: x, size: size, into: values)
                    written = d.value.elementsEqual(UnsafeRawBufferPointer(rebasing: values[0..<size]))
                    x += 1
                }
                if !written {
                    findings.append((.broadcastIntegrity, "node \(node) delivered a value of message \(m) #\(d.instance) that was never sent"))
                }
            }
            deliveries += keys.count
            for key in keys {
                if !delivered[node].insert(key).inserted {
                    findings.append((.broadcastIntegrity, "node \(node) delivered message \(key >> 40 & 0xFFFF) #\(key & 0xFF_FFFF_FFFF) twice"))
                }
                deliveryLog[node].append(key)
            }
        }
        deliveredKeys = keys
        for (kind, detail) in findings { record(kind, round: r, slot: s, detail) }
        let hypothesis = withinHypothesis(now), quiet = !disturbed(now)
        for (i, k) in completing.enumerated() {
            let m = plan.completion(k)
            let sender = plan.sender(of: m)
            let firstRound = plan.firstRound(ofInstanceCompletingIn: r, message: m)
            let originTime = now - Int64(r - min(r, firstRound)) * roundNs - roundNs
            var destinations = 0, yes = 0, allDestinationsCorrect = true
            for node in 0..<n where plan.isDestination(node, of: m) {
                let ok = correct(node)
                if ok {
                    destinations += 1
                    if outcome[i * n + node] == 1 { yes += 1 }
                }
                if !ok || faulty(node, at: originTime) { allDestinationsCorrect = false }
            }
            if yes > 0 && yes != destinations && hypothesis {
                let at = (0..<n).filter { plan.isDestination($0, of: m) && correct($0) && outcome[i * n + $0] == 1 }.map(name)
                record(.broadcastAgreement, round: r, slot: s, "\(schedule.messages[m].name) delivered at \(at) but not at every correct destination")
            }
            // Validity (MARS): a correct sender's instance whose whole destination set was correct
            // at origination is delivered at every destination.
            let senderCorrect = correct(sender) && !faulty(sender, at: originTime)
            if senderCorrect && allDestinationsCorrect && yes != destinations && quiet && !disturbed(originTime) {
                record(.broadcastValidity, round: r, slot: s, "\(schedule.messages[m].name) of correct \(name(sender)) not delivered at every correct destination")
            }
        }
    }

    // MARK: Report

    mutating func finish() -> SimulationReport {
        now = max(now, endTime)
        // Total order: any two nodes deliver the instances they both delivered in the same order
        // (every node against node 0's log beyond 16 nodes, to stay linear).
        for a in 0..<n {
            for b in (a + 1)..<n where (n <= 16 || a == 0) && !deliveryLog[a].isEmpty && !deliveryLog[b].isEmpty {
                let common = delivered[a].intersection(delivered[b])
                if deliveryLog[a].filter(common.contains) != deliveryLog[b].filter(common.contains) {
                    record(.broadcastOrder, round: configuration.rounds, slot: 0, "\(name(a)) and \(name(b)) delivered in different orders")
                }
            }
            hash.add(UInt64(deliveryLog[a].count))
        }
        for node in 0..<n {
            hash.add(UInt64(bitPattern: controllers[node].clock.clusterTime(at: oscillators[node].local(atTrueTime: 0)).nanoseconds))
            hash.add(UInt64(controllers[node].isActive ? 1 : 0))
        }
        // Recovery: every powered node active, one view, holding every powered node.
        var view: MembershipVector?
        var recovered = true
        for node in 0..<n where powered[node] {
            guard controllers[node].isActive else { recovered = false; break }
            let v = controllers[node].cState.membership
            if view == nil { view = v } else if view != v { recovered = false; break }
        }
        if recovered, let view { recovered = (0..<n).allSatisfy { !powered[$0] || view.contains($0) } }
        // A run that ends quiet (no fault window, no start-up, no node joining in the last rounds)
        // must end recovered: every running node active in one full view.
        if !recovered && !disturbed(endTime) && withinHypothesis(endTime) && powered.contains(true) {
            record(.noRecovery, round: configuration.rounds, slot: 0, "at the end not every running node was active in one common view, with no fault or start-up in progress")
        }
        if let trace {
            for v in violations.prefix(1_000) { trace.instant("violation: \(v.kind.rawValue)", node: nil, at: v.time, detail: v.detail) }
        }
        samples.sort()
        let p99 = samples.isEmpty ? 0 : samples[min(samples.count - 1, samples.count * 99 / 100)]
        let foreign = controllers.reduce(0) { $0 + $1.foreignFrames } + retiredForeignFrames
        return SimulationReport(
            seed: configuration.seed, rounds: configuration.rounds, precisionBound: precision,
            lowerBound: derived.lowerBound, precisionMax: Interval(nanoseconds: samples.last ?? 0), precisionP99: Interval(nanoseconds: p99),
            detectionRoundsMax: detectionRounds, reintegrationRoundsMax: reintegrationRounds,
            reintegrationsPending: restartTime.reduce(0) { $0 + ($1 == nil ? 0 : 1) },
            startupTime: startupTime, startupBound: startupBound,
            framesSent: framesSent, framesAccepted: framesAccepted, foreignFrames: foreign, deliveries: deliveries,
            modeChanges: modeChanges, freezeRestarts: freezeRestarts,
            coldStartContentions: controllers.reduce(0) { $0 + $1.contentions } + retiredContentions, recovered: recovered,
            violations: violations, stateHash: hash.value)
    }
}
