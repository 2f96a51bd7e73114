// The deterministic simulator: N controllers, one simulated oscillator each, a broadcast bus,
// seeded faults, and checkers for the guarantees (REFERENCE.md §2–§3). Status: the first slice
// of issue #3 — synchronized operation with crash, omission, drift and jitter faults; checkers
// for precision, monotonic cluster clocks, membership agreement, validity and detection latency.
//
// Time: true time is Int64 ns of the simulation's reference clock. Each node's local time is its
// oscillator's reading; its cluster time is its controller's ClusterClock of that reading. The
// run proceeds slot by slot (the TDMA structure makes that an exact event order: windows of
// different slots are separated by guards ≥ 2Π): the sender transmits at the true instant its
// clock reaches the slot start (plus a random dispatch lateness, which it measures and puts in the
// frame); every other node timestamps the frame at arrival (+ propagation + a random reading
// error ≤ ε) and judges it when its window closes; at the end of each round every node applies
// its correction. One seeded PRNG drives every random choice, in a fixed order.

import TaktProtocol
import TaktSchedule
import TaktTime

public enum SimulatedFault: Sendable, Equatable {
    /// The node stops for good at the start of `round`.
    case crash(node: Int, round: UInt64)
    /// The node's frame in `round` reaches nobody.
    case sendOmission(node: Int, round: UInt64)
    /// The node's frame in `round` reaches only the nodes in `receivers` (asymmetric reception).
    case asymmetric(node: Int, round: UInt64, receivers: [Int])
    /// From `round` on, the node's clock is two-faced: its frames arrive `skew` early at the
    /// receivers with an even index and `skew` late at the others (a Byzantine clock; it still
    /// passes the acceptance window when skew ≤ Π + ε).
    case twoFaced(node: Int, round: UInt64, skew: Interval)
    /// A crashed node restarts at the start of `round`: it listens, integrates on a frame with
    /// full C-state, and rejoins the membership with its first accepted frame.
    case restart(node: Int, round: UInt64)
}

public struct SimulationConfiguration: Sendable {
    public var seed: UInt64
    public var rounds: UInt64
    /// Oscillator drift of each node, uniform in ±`driftSpread` (a correct one stays within ρ).
    public var driftSpread: DriftRate
    /// Initial disagreement of the cluster clocks, uniform in ±`initialOffsetSpread`.
    public var initialOffsetSpread: Interval
    /// Receive timestamp error, uniform in ±readingError/2: the spread of one frame's readings at
    /// different receivers is then ≤ ε (REFERENCE.md §2's definition), with no systematic bias.
    public var readingError: Interval
    /// Dispatch lateness of a send, uniform in [0, maximumLateness] (measured and compensated).
    public var maximumLateness: Interval
    public var faults: [SimulatedFault]

    public init(seed: UInt64, rounds: UInt64, schedule: Schedule, faults: [SimulatedFault] = []) {
        self.seed = seed
        self.rounds = rounds
        driftSpread = schedule.cluster.drift
        initialOffsetSpread = schedule.cluster.readingError / 2
        readingError = schedule.cluster.readingError
        maximumLateness = .microseconds(50)
        self.faults = faults
    }
}

public struct SimulationViolation: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case precision, monotonicity, membershipAgreement, membershipValidity, detectionLatency, correctNodeFrozen
        case broadcastValidity, broadcastAgreement, broadcastIntegrity, broadcastOrder, broadcastTermination
    }
    public var kind: Kind
    public var round: UInt64
    public var slot: Int
    public var detail: String
    public var description: String { "\(kind.rawValue) at round \(round) slot \(slot): \(detail)" }
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
    public var framesSent: Int
    public var framesAccepted: Int
    /// Message instances delivered, summed over nodes.
    public var deliveries: Int
    public var violations: [SimulationViolation]
    /// FNV-1a over every node's final state and every frame byte sent: same seed, same hash.
    public var stateHash: UInt64
}

public enum Simulator {
    public static func run(schedule: Schedule, derived: DerivedResults, configuration: SimulationConfiguration,
                           trace: SimulationTrace? = nil, progress: ((UInt64) -> Void)? = nil) -> SimulationReport {
        let n = schedule.nodes.count
        let mode = schedule.initialMode
        let slots = schedule.modes[mode].slots
        let round = schedule.cluster.round
        let precision = derived.precision ?? .zero
        var random = SimulationRandom(seed: configuration.seed)
        guard let codec = try? FrameCodec(schedule: schedule) else { preconditionFailure("validated schedules fit the frame layout") }

        // Oscillators and controllers, all synchronized at true time 0 within the offset spread.
        var oscillators: [SimulatedOscillator] = []
        var controllers: [NodeController] = []
        let everyone = MembershipVector(capacity: n, members: 0..<n)
        for node in 0..<n {
            let drift = DriftRate(partsPerBillion: random.uniform(-configuration.driftSpread.partsPerBillion...configuration.driftSpread.partsPerBillion))
            let offset = Interval(nanoseconds: random.uniform(-configuration.initialOffsetSpread.nanoseconds...configuration.initialOffsetSpread.nanoseconds))
            let oscillator = SimulatedOscillator(offset: .zero, rate: drift)
            oscillators.append(oscillator)
            let config = ControllerConfiguration(schedule: schedule, derived: derived, node: node, mode: mode)
            controllers.append(NodeController(configuration: config, codec: codec, anchor: oscillator.local(atTrueTime: 0),
                                              cluster: ClusterInstant(nanoseconds: offset.nanoseconds), members: everyone))
        }
        defer { for i in controllers.indices { controllers[i].deallocate() } }
        if let trace { for node in 0..<n { trace.nodeName(node, schedule.nodes[node].name) } }

        var crashed = [Bool](repeating: false, count: n)
        var faultRound = [UInt64?](repeating: nil, count: n)
        var restartRound = [UInt64?](repeating: nil, count: n)
        var reintegrationRounds: Double?
        // When each node counts as faulty: a crash until 3 rounds after its restart (or for good),
        // an omission or asymmetric frame for its round and the 4 after (self-diagnosis and
        // re-integration), a two-faced clock for good.
        var windows: [(node: Int, from: UInt64, until: UInt64)] = []
        for fault in configuration.faults {
            switch fault {
            case .crash(let node, let at):
                let restart = configuration.faults.compactMap { f -> UInt64? in
                    if case .restart(node, let r) = f, r > at { return r } else { return nil }
                }.min()
                windows.append((node, at, restart.map { $0 + 3 } ?? .max))
            case .sendOmission(let node, let at), .asymmetric(let node, let at, _):
                // The node diagnoses its send fault by implicit acknowledgment and re-integrates.
                windows.append((node, at, at + 4))
            case .twoFaced(let node, let at, _):
                windows.append((node, at, .max))
            case .restart:
                break  // part of the crash's window
            }
        }
        func faulty(_ node: Int, _ r: UInt64) -> Bool { windows.contains { $0.node == node && $0.from <= r && r <= $0.until } }
        /// Within 2 rounds of a fault's start or end, views may still differ (TTP/C's agreement bound).
        func disturbed(_ r: UInt64) -> Bool {
            windows.contains { w in w.from <= r && r <= (w.until == .max ? w.from : w.until) + 2 }
        }
        // The fault hypothesis: at most k nodes faulty at once, and no asymmetric reception (a
        // broadcast bus); outside it, correct nodes may legitimately freeze by clique avoidance.
        let hasAsymmetric = configuration.faults.contains { if case .asymmetric = $0 { return true } else { return false } }
        func withinHypothesis(_ r: UInt64) -> Bool {
            !hasAsymmetric && (0..<n).reduce(0) { $0 + (faulty($1, r) ? 1 : 0) } <= max(1, schedule.cluster.faultTolerance)
        }
        var currentRound: UInt64 = 0
        let frameBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: codec.maximumFrameBytes, alignment: 8)
        defer { frameBuffer.deallocate() }
        // Atomic broadcast bookkeeping: the value of instance n of message m is a pattern of
        // (m, its first round), written by the sender's application before each transmission.
        let plan = BroadcastPlan(schedule: schedule, mode: mode)
        let valueBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 8)
        defer { valueBuffer.deallocate() }
        func pattern(message m: Int, round: UInt64, into buffer: UnsafeMutableRawBufferPointer, size: Int) {
            var word = (round &* 1_000_003) ^ UInt64(m)
            for i in 0..<size {
                buffer[i] = UInt8(truncatingIfNeeded: word)
                word = (word >> 8) | (word << 56)
            }
        }
        let messageAnalysis = derived.modes[mode].messages
        var deliveryLog = [[UInt64]](repeating: [], count: n)
        var delivered = [Set<UInt64>](repeating: [], count: n)
        var deliveries = 0
        var hash = FNV1a()
        var samples: [Int64] = []
        samples.reserveCapacity(Int(configuration.rounds) * slots.count)
        var violations: [SimulationViolation] = []
        var lastClusterTime = [Int64](repeating: Int64.min, count: n)
        var detectionRounds: Double?
        var framesSent = 0, framesAccepted = 0
        var wasFrozen = [Bool](repeating: false, count: n)
        func correct(_ node: Int) -> Bool { !crashed[node] && !faulty(node, currentRound) && controllers[node].isActive }

        for r in 0..<configuration.rounds {
            currentRound = r
            if let progress, r % 1_000 == 0 { progress(r) }
            for fault in configuration.faults {
                switch fault {
                case .crash(let node, let at) where at == r && !crashed[node]:
                    trace?.instant("crash " + schedule.nodes[node].name, node: nil, at: Int64(r) * round.nanoseconds)
                    crashed[node] = true
                    faultRound[node] = r
                case .restart(let node, let at) where at == r && crashed[node]:
                    trace?.instant("restart " + schedule.nodes[node].name, node: nil, at: Int64(r) * round.nanoseconds)
                    crashed[node] = false
                    restartRound[node] = r
                    let now = oscillators[node].local(atTrueTime: Int64(r) * round.nanoseconds)  // about the round's start
                    controllers[node].deallocate()
                    controllers[node] = NodeController(configuration: ControllerConfiguration(schedule: schedule, derived: derived, node: node, mode: mode),
                                                       codec: codec, listeningAt: now)
                default: break
                }
            }
            for (s, slot) in slots.enumerated() {
                let sender = slot.sender
                let start = controllers[sender].slotStart(round: r, slot: s)
                // Precision and monotonicity, sampled at the true instant a correct node's clock (the
                // sender's if it is correct) reaches the slot start.
                let timekeeper = correct(sender) ? sender : ((0..<n).first(where: correct) ?? sender)
                let sampleTime = oscillators[timekeeper].trueTime(atLocal: controllers[timekeeper].clock.localTime(at: start))
                var lo = Int64.max, hi = Int64.min
                for node in 0..<n where correct(node) {
                    let c = controllers[node].clock.clusterTime(at: oscillators[node].local(atTrueTime: sampleTime)).nanoseconds
                    lo = min(lo, c); hi = max(hi, c)
                    if c < lastClusterTime[node] {
                        violations.append(SimulationViolation(kind: .monotonicity, round: r, slot: s, detail: "node \(schedule.nodes[node].name)'s cluster clock went back"))
                    }
                    lastClusterTime[node] = c
                }
                if hi >= lo {
                    samples.append(hi - lo)
                    if hi - lo > precision.nanoseconds {
                        violations.append(SimulationViolation(kind: .precision, round: r, slot: s,
                                                              detail: "clocks \(Interval(nanoseconds: hi - lo)) apart, bound Π = \(precision)"))
                    }
                }

                // The sender transmits (unless crashed or frozen).
                var length: Int?
                var sendTime = sampleTime
                if !crashed[sender] {
                    let lateness = Interval(nanoseconds: random.uniform(0...configuration.maximumLateness.nanoseconds))
                    let intended = oscillators[sender].trueTime(atLocal: controllers[sender].clock.localTime(at: start))
                    sendTime = intended + lateness.nanoseconds
                    let measured = oscillators[sender].local(atTrueTime: sendTime) - controllers[sender].clock.localTime(at: start)
                    for (m, info) in plan.messages.enumerated() where info.sender == sender {
                        pattern(message: m, round: r, into: valueBuffer, size: info.size)
                        controllers[sender].write(message: m, UnsafeRawBufferPointer(rebasing: valueBuffer[0..<info.size]))
                    }
                    length = controllers[sender].transmit(round: r, slot: s, lateness: measured, into: frameBuffer)
                }
                var reaches = [Bool](repeating: length != nil, count: n)
                for fault in configuration.faults {
                    switch fault {
                    case .sendOmission(let node, let at) where node == sender && at == r:
                        reaches = [Bool](repeating: false, count: n)
                        if faultRound[node] == nil { faultRound[node] = r }
                    case .asymmetric(let node, let at, let receivers) where node == sender && at == r:
                        for i in 0..<n where !receivers.contains(i) { reaches[i] = false }
                        if faultRound[node] == nil { faultRound[node] = r }
                    default: break
                    }
                }
                trace?.slot(slot.name, node: sender, start: sendTime, duration: slot.length.nanoseconds, round: r, sent: length != nil)
                if let length {
                    framesSent += 1
                    hash.add(UnsafeRawBufferPointer(rebasing: frameBuffer[0..<length]))
                }
                // Every other node receives (or not) and judges the slot when its window closes.
                for node in 0..<n where node != sender && !crashed[node] {
                    if reaches[node], let length {
                        let halfError = configuration.readingError.nanoseconds / 2
                        let error = random.uniform(-halfError...halfError)
                        var skew: Int64 = 0
                        for fault in configuration.faults {
                            if case .twoFaced(let faulty, let from, let amount) = fault, faulty == sender, r >= from {
                                skew = node % 2 == 0 ? -amount.nanoseconds : amount.nanoseconds
                            }
                        }
                        let arrival = oscillators[node].local(atTrueTime: sendTime + schedule.cluster.propagation.nanoseconds + error + skew)
                        controllers[node].frameArrived(UnsafeRawBufferPointer(rebasing: frameBuffer[0..<length]), at: arrival)
                    }
                    let before = trace == nil ? nil : controllers[node].cState.membership
                    let outcome = controllers[node].windowClosed(round: r, slot: s)
                    if case .correct = outcome { framesAccepted += 1 }
                    if let trace {
                        let at = sendTime + schedule.cluster.propagation.nanoseconds
                        switch outcome {
                        case .correct, .notJudged: break
                        case .missing: trace.instant("missing frame of " + schedule.nodes[sender].name, node: node, at: at)
                        case .rejected(_, let reason): trace.instant("rejected frame of " + schedule.nodes[sender].name, node: node, at: at, detail: "\(reason)")
                        case .outsideWindow(_, let deviation): trace.instant("frame of " + schedule.nodes[sender].name + " outside the window", node: node, at: at, detail: "\(deviation)")
                        case .selfDiagnosedSendFault: trace.instant("send fault diagnosed: re-integrating", node: node, at: at)
                        }
                        if let before, before != controllers[node].cState.membership {
                            trace.instant("membership", node: node, at: at, detail: "\(controllers[node].cState.membership)")
                        }
                    }
                }
                // The agreed view (for detection latency): the view of the correct nodes, if they agree.
                var reference: MembershipVector?
                for node in 0..<n where correct(node) {
                    if reference == nil { reference = controllers[node].cState.membership }
                    else if reference != controllers[node].cState.membership { reference = nil; break }
                }
                // Reintegration: every correct node has a restarted node back in its view.
                for node in 0..<n {
                    guard let since = restartRound[node] else { continue }
                    let back = (0..<n).allSatisfy { !correct($0) || controllers[$0].cState.membership.contains(node) }
                    if back && (0..<n).contains(where: correct) {
                        let latency = Double(r) + Double(slot.end.nanoseconds) / Double(round.nanoseconds) - Double(since)
                        reintegrationRounds = max(reintegrationRounds ?? 0, latency)
                        restartRound[node] = nil
                    }
                }
                // Detection latency of the faulty sender of this slot.
                if let since = faultRound[sender], reference.map({ !$0.contains(sender) }) ?? false {
                    let detectedAt = Double(r) + Double((slot.end).nanoseconds) / Double(round.nanoseconds)
                    let latency = detectedAt - Double(since)
                    if detectionRounds == nil || latency > detectionRounds! { detectionRounds = latency }
                    if latency > 2 {
                        violations.append(SimulationViolation(kind: .detectionLatency, round: r, slot: s,
                                                              detail: "\(schedule.nodes[sender].name) removed \(latency) rounds after its fault"))
                    }
                    faultRound[sender] = nil
                }
                // Deliveries at this slot's end + Π: integrity, agreement, validity, Δ.
                for m in plan.completions(round: r, slot: s) {
                    let info = plan.messages[m]
                    let firstRound = r &- UInt64(info.copyPositions[info.copies - 1].roundOffset)
                    let firstSlot = info.copyPositions[0].slot
                    let deliveryInstant = controllers[0].slotStart(round: r, slot: s) + slot.length + precision
                    let delta = deliveryInstant - controllers[0].slotStart(round: firstRound, slot: firstSlot)
                    if delta != messageAnalysis[m].deliveryBound {
                        violations.append(SimulationViolation(kind: .broadcastTermination, round: r, slot: s,
                                                              detail: "message \(schedule.messages[m].name) delivered \(delta) after its first send, Δ = \(messageAnalysis[m].deliveryBound)"))
                    }
                }
                let completing = plan.completions(round: r, slot: s)
                if !completing.isEmpty {
                    // outcome[i·n + node]: -1 not asked (crashed), 0 discarded, 1 delivered.
                    var outcome = [Int8](repeating: -1, count: completing.count * n)
                    for node in 0..<n where !crashed[node] {
                        var i = 0
                        controllers[node].deliver(round: r, slot: s) { d in
                            defer { i += 1 }
                            outcome[i * n + node] = d.delivered ? 1 : 0
                            guard d.delivered else { return }
                            deliveries += 1
                            let m = d.message, info = plan.messages[m]
                            let key = UInt64(m) << 40 | d.instance
                            if !delivered[node].insert(key).inserted {
                                violations.append(SimulationViolation(kind: .broadcastIntegrity, round: r, slot: s,
                                                                      detail: "\(schedule.nodes[node].name) delivered \(schedule.messages[m].name)#\(d.instance) twice"))
                            }
                            let firstRound = r &- UInt64(info.copyPositions[info.copies - 1].roundOffset)
                            pattern(message: m, round: firstRound, into: valueBuffer, size: info.size)
                            if !d.value.elementsEqual(UnsafeRawBufferPointer(rebasing: valueBuffer[0..<info.size])) {
                                violations.append(SimulationViolation(kind: .broadcastIntegrity, round: r, slot: s,
                                                                      detail: "\(schedule.nodes[node].name) delivered a value of \(schedule.messages[m].name)#\(d.instance) that was never sent"))
                            }
                            deliveryLog[node].append(key)
                        }
                    }
                    for (i, m) in completing.enumerated() {
                        let info = plan.messages[m]
                        let firstRound = r &- UInt64(info.copyPositions[info.copies - 1].roundOffset)
                        let destinations = (0..<n).filter { info.destinations.contains($0) && correct($0) }
                        let yes = destinations.filter { outcome[i * n + $0] == 1 }
                        if !yes.isEmpty && yes.count != destinations.count && withinHypothesis(r) {
                            violations.append(SimulationViolation(kind: .broadcastAgreement, round: r, slot: s,
                                                                  detail: "\(schedule.messages[m].name) delivered at \(yes.map { schedule.nodes[$0].name }) but not at every correct destination"))
                        }
                        // Validity (MARS): a correct sender's instance whose whole destination set was
                        // correct at origination is delivered at every destination.
                        let senderCorrect = !crashed[info.sender] && !faulty(info.sender, r) && !faulty(info.sender, firstRound) && controllers[info.sender].isActive
                        let allDestinationsCorrect = (0..<n).allSatisfy { !info.destinations.contains($0) || (correct($0) && !faulty($0, firstRound)) }
                        if senderCorrect && allDestinationsCorrect && yes.count != destinations.count && !disturbed(r) {
                            violations.append(SimulationViolation(kind: .broadcastValidity, round: r, slot: s,
                                                                  detail: "\(schedule.messages[m].name) of correct \(schedule.nodes[info.sender].name) not delivered at every correct destination"))
                        }
                    }
                }
                if violations.count > 1_000 { break }
            }
            // Membership agreement and validity, from the end of the 2nd round after the last fault on
            // (TTP/C: views are equal by then; clique avoidance resolves a disagreement before).
            if !disturbed(r) {
                var reference: MembershipVector?
                for node in 0..<n where correct(node) {
                    let view = controllers[node].cState.membership
                    if let reference, reference != view {
                        violations.append(SimulationViolation(kind: .membershipAgreement, round: r, slot: slots.count - 1,
                                                              detail: "node \(schedule.nodes[node].name) holds \(view), another correct node \(reference)"))
                    }
                    if reference == nil { reference = view }
                    for other in 0..<n where correct(other) && !view.contains(other) {
                        violations.append(SimulationViolation(kind: .membershipValidity, round: r, slot: slots.count - 1,
                                                              detail: "correct node \(schedule.nodes[other].name) is not in \(schedule.nodes[node].name)'s view"))
                    }
                }
            }
            // End of round: every running node applies its correction at its local round end.
            let roundEnd = ClusterInstant(nanoseconds: Int64(r + 1) * round.nanoseconds)
            for node in 0..<n where !crashed[node] {
                let local = controllers[node].clock.localTime(at: roundEnd)
                let wasActive = controllers[node].isActive
                let outcome = controllers[node].roundEnded(round: r, at: local)
                if let trace {
                    let at = oscillators[node].trueTime(atLocal: local)
                    if let correction = outcome.correction { trace.counter("correction", node: node, at: at, value: correction.nanoseconds) }
                    if wasActive, case .frozen(let reason) = controllers[node].status { trace.instant("frozen", node: node, at: at, detail: "\(reason)") }
                }
            }
            // Validity: a node that suffered no fault must never freeze while the fault hypothesis
            // holds (at most one faulty node here).
            for node in 0..<n where !faulty(node, r) && !wasFrozen[node] {
                if case .frozen(let reason) = controllers[node].status {
                    wasFrozen[node] = true
                    if withinHypothesis(r) {
                        violations.append(SimulationViolation(kind: .correctNodeFrozen, round: r, slot: slots.count - 1,
                                                              detail: "correct node \(schedule.nodes[node].name) froze: \(reason)"))
                    }
                }
            }
            if violations.count > 1_000 { break }
        }
        if let trace {
            for v in violations.prefix(1_000) {
                trace.instant("violation: \(v.kind.rawValue)", node: nil, at: Int64(v.round) * round.nanoseconds + slots[min(v.slot, slots.count - 1)].offset.nanoseconds, detail: v.detail)
            }
        }
        // Total order: any two nodes deliver the instances they both delivered in the same order.
        for a in 0..<n {
            for b in (a + 1)..<n where !deliveryLog[a].isEmpty && !deliveryLog[b].isEmpty {
                let common = delivered[a].intersection(delivered[b])
                if deliveryLog[a].filter(common.contains) != deliveryLog[b].filter(common.contains) {
                    violations.append(SimulationViolation(kind: .broadcastOrder, round: configuration.rounds, slot: 0,
                                                          detail: "\(schedule.nodes[a].name) and \(schedule.nodes[b].name) delivered in different orders"))
                }
            }
            hash.add(UInt64(deliveryLog[a].count))
        }
        for node in 0..<n {
            hash.add(UInt64(bitPattern: controllers[node].clock.clusterTime(at: oscillators[node].local(atTrueTime: 0)).nanoseconds))
            hash.add(UInt64(controllers[node].isActive ? 1 : 0))
        }
        samples.sort()
        let p99 = samples.isEmpty ? 0 : samples[min(samples.count - 1, samples.count * 99 / 100)]
        return SimulationReport(
            seed: configuration.seed, rounds: configuration.rounds, precisionBound: precision,
            lowerBound: derived.lowerBound, precisionMax: Interval(nanoseconds: samples.last ?? 0), precisionP99: Interval(nanoseconds: p99),
            detectionRoundsMax: detectionRounds, reintegrationRoundsMax: reintegrationRounds,
            reintegrationsPending: restartRound.reduce(0) { $0 + ($1 == nil ? 0 : 1) }, framesSent: framesSent, framesAccepted: framesAccepted, deliveries: deliveries,
            violations: violations, stateHash: hash.value)
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
