// The schedule validator: every rule of REFERENCE.md §5 that applies to Takt, each with a stable
// code (Diagnostic.swift), a note at the other party of a conflict and a concrete `help:` fix.
//
// Rules run per mode (each mode has its own slot and task tables) after the cluster-wide ones.
// Every check that has a margin records it as a `Slack`, so the report can name the tightest
// constraint of a valid schedule too. The timing checks are exact over the periodic extension of
// the schedule (see Analysis.swift), so wrap-around at the hyperperiod needs no special case.

import TaktTime

struct Validator {
    let schedule: Schedule
    var diagnostics: [Diagnostic] = []
    var slacks: [Slack] = []
    let precision: Interval?
    let precisionBound: Interval?

    init(schedule: Schedule) {
        self.schedule = schedule
        precisionBound = Analysis.precisionBound(cluster: schedule.cluster, nodes: schedule.nodes)
        precision = Analysis.precisionInUse(cluster: schedule.cluster, nodes: schedule.nodes)
    }

    var cluster: Cluster { schedule.cluster }

    mutating func report(_ code: DiagnosticCode, at location: SourceLocation, _ message: String,
                         notes: [DiagnosticNote] = [], help: String? = nil) {
        diagnostics.append(Diagnostic(code, at: location, message, notes: notes, help: help))
    }

    mutating func slack(_ kind: ConstraintKind, mode: Int, _ subject: String, _ value: Interval, at location: SourceLocation) {
        slacks.append(Slack(kind: kind, mode: mode, subject: subject, slack: value, location: location))
    }

    mutating func run() -> DerivedResults {
        checkCluster()
        var modes: [ModeAnalysis] = []
        for m in schedule.modes.indices { modes.append(checkMode(m)) }
        checkModes()
        return DerivedResults(
            precisionBound: precisionBound, precision: precision,
            lowerBound: PrecisionBound.lowerBound(readingError: cluster.readingError, clocks: max(schedule.syncNodeCount, 1)),
            driftOffset: PrecisionBound.driftOffset(drift: cluster.drift, resynchronizationInterval: cluster.round),
            syncNodes: schedule.syncNodeCount, modes: modes, slacks: slacks)
    }

    // MARK: Cluster and time base

    mutating func requireMacrotickMultiple(_ value: Interval, _ what: String, at location: SourceLocation) {
        guard !cluster.unresolved.contains(.macrotick) else { return }
        let g = cluster.macrotick
        guard value.nanoseconds % g.nanoseconds != 0 else { return }
        let below = g * IntegerMath.floorDivide(value.nanoseconds, g.nanoseconds)
        report(.notMacrotickMultiple, at: location, "\(what) \(value) is not a multiple of the macrotick \(g)",
               notes: [DiagnosticNote(cluster.spans[.macrotick], "macrotick declared here")],
               help: "use \(below) or \(below + g)")
    }

    mutating func checkCluster() {
        let k = cluster.faultTolerance
        let n = schedule.syncNodeCount
        requireMacrotickMultiple(cluster.round, "the round", at: cluster.spans[.round])
        if n < 3 * k + 1 && !cluster.unresolved.contains(.faultTolerance) {
            report(.tooFewSyncNodes, at: cluster.spans[.faultTolerance],
                   "fault_tolerance = \(k) needs at least \(3 * k + 1) sync nodes (N ≥ 3k+1), but the cluster has \(n)",
                   help: n >= 1 ? "lower fault_tolerance to \(max(0, (n - 1) / 3)) or declare \(3 * k + 1 - n) more sync nodes"
                                : "declare at least one node with 'sync = yes'")
        }
        if let declared = cluster.declaredPrecision, let bound = precisionBound {
            slack(.declaredPrecision, mode: 0, "cluster \(cluster.name)", declared - bound, at: cluster.spans[.precision])
            if declared < bound {
                report(.precisionBelowBound, at: cluster.spans[.precision],
                       "declared precision \(declared) is below the achievable bound Π = (ε + 2ρR)·(N−2k)/(N−3k) = \(bound)",
                       help: "declare 'precision = \(bound)' or 'precision = derived', or lower reading_error, drift or the round")
            }
        }
        if let precision, !cluster.unresolved.contains(.macrotick) {
            slack(.granularity, mode: 0, "cluster \(cluster.name)", cluster.macrotick - precision, at: cluster.spans[.macrotick])
            if cluster.macrotick <= precision {
                let suggestion = Analysis.roundUp(precision + .nanoseconds(1), to: .microseconds(1))
                report(.granularityTooFine, at: cluster.spans[.macrotick],
                       "the macrotick \(cluster.macrotick) does not exceed the precision Π = \(precision): timestamps of one event at two nodes could differ by more than one tick",
                       help: "use a macrotick of at least \(suggestion) (reasonableness condition g > Π)")
            }
        }
    }

    // MARK: Per mode

    mutating func checkMode(_ m: Int) -> ModeAnalysis {
        let mode = schedule.modes[m]
        let hyperperiod = computeHyperperiod(m)
        let slotResults = checkSlots(m)
        let messageResults = checkMessages(m)
        checkTasks(m, hyperperiod: hyperperiod)
        let chains = checkChains(m, messages: messageResults)
        var utilization: [NodeUtilization] = []
        var perNode = [Double](repeating: 0, count: schedule.nodes.count)
        var hasTasks = [Bool](repeating: false, count: schedule.nodes.count)
        for t in mode.tasks {
            perNode[t.node] += Double(t.wcet.nanoseconds) / Double(t.period.nanoseconds)
            hasTasks[t.node] = true
        }
        for i in schedule.nodes.indices where hasTasks[i] {
            utilization.append(NodeUtilization(node: i, utilization: perNode[i]))
        }
        return ModeAnalysis(mode: m, hyperperiod: hyperperiod, slots: slotResults, messages: messageResults,
                            chains: chains, utilization: utilization)
    }

    func modeSuffix(_ m: Int) -> String {
        schedule.modesDeclared ? " in mode '\(schedule.modes[m].name)'" : ""
    }

    mutating func computeHyperperiod(_ m: Int) -> Interval? {
        var h = cluster.cycle.nanoseconds
        for t in schedule.modes[m].tasks {
            let (l, overflow) = IntegerMath.lcmReportingOverflow(h, t.period.nanoseconds)
            if overflow {
                report(.hyperperiodOverflow, at: t.spans[.period],
                       "the hyperperiod (lcm of the cluster cycle and the task periods) overflows 64-bit nanoseconds at task '\(t.name)'\(modeSuffix(m))",
                       help: "choose harmonic periods (each dividing the next), e.g. a power-of-two multiple of the round")
                return nil
            }
            h = l
        }
        return Interval(nanoseconds: h)
    }

    mutating func checkSlots(_ m: Int) -> [SlotAnalysis] {
        let mode = schedule.modes[m]
        let slots = mode.slots
        let payloads = Analysis.slotPayloads(slots: slots, messages: schedule.messages, cluster: cluster)
        var results: [SlotAnalysis] = []
        var maxEndIndex: Int?
        for (i, slot) in slots.enumerated() {
            if !slot.offsetDerived { requireMacrotickMultiple(slot.offset, "slot '\(slot.name)' offset", at: slot.spans[.offset]) }
            if !slot.lengthDerived { requireMacrotickMultiple(slot.length, "slot '\(slot.name)' length", at: slot.spans[.length]) }
            if i > 0, slot.offset < slots[i - 1].offset {
                report(.slotOutOfOrder, at: slot.spans[.offset],
                       "slot '\(slot.name)' starts at \(slot.offset), before the slot declared above it ('\(slots[i - 1].name)' at \(slots[i - 1].offset))",
                       notes: [DiagnosticNote(slots[i - 1].spans.name, "'\(slots[i - 1].name)' declared here")],
                       help: "declare the slots of a round in the order they are sent")
            } else if let j = maxEndIndex, slot.offset < slots[j].end {
                let other = slots[j]
                report(.slotOverlap, at: slot.spans[.offset],
                       "slot '\(slot.name)' [\(slot.offset), \(slot.end)) overlaps slot '\(other.name)' [\(other.offset), \(other.end))\(modeSuffix(m))",
                       notes: [DiagnosticNote(other.spans.name, "'\(other.name)' declared here")],
                       help: "start '\(slot.name)' at \(other.end) or later, or shorten '\(other.name)' by \(other.end - slot.offset)")
            }
            if maxEndIndex == nil || slot.end > slots[maxEndIndex!].end { maxEndIndex = i }
            if slot.end > cluster.round {
                report(.slotOutsideRound, at: slot.spans.name,
                       "slot '\(slot.name)' ends at \(slot.end), after the end of the round (\(cluster.round))\(modeSuffix(m))",
                       notes: [DiagnosticNote(cluster.spans[.round], "round declared here")],
                       help: "shorten the slot by \(slot.end - cluster.round) or lengthen the round to \(Analysis.roundUp(slot.end, to: cluster.macrotick))")
            }
            if payloads[i] > FrameLayout.maximumPayloadBytes {
                report(.payloadTooLarge, at: slot.spans.name,
                       "slot '\(slot.name)' would carry \(payloads[i]) bytes of messages in one frame; a frame's payload is at most \(FrameLayout.maximumPayloadBytes) bytes (a 16-bit length)\(modeSuffix(m))",
                       help: "give '\(schedule.nodes[slot.sender].name)' another slot, bind messages to different slots with 'slot =', or stagger their phases")
            }
            let frameBytes = FrameLayout.frameBytes(nodeCount: schedule.nodes.count, payloadBytes: payloads[i])
            let frameTime = cluster.bitrate.transmissionTime(bits: frameBytes * 8) ?? .max
            let occupied = frameTime.saturatingAdd(cluster.propagation)
            let guardTime = slot.length - occupied
            if cluster.unresolved.contains(.bitrate) {
                // The frame time is unknown; the slot's fit is checked once the bitrate is valid.
            } else if occupied > slot.length {
                report(.frameDoesNotFit, at: slot.spans[.length],
                       "the largest frame of slot '\(slot.name)' (\(frameBytes) bytes: \(FrameLayout.headerBytes + FrameLayout.trailerBytes) header and CRC, \(FrameLayout.membershipBytes(nodeCount: schedule.nodes.count)) membership, \(payloads[i]) payload) takes \(frameTime) at \(cluster.bitrate), plus \(cluster.propagation) propagation: more than the slot's \(slot.length)",
                       help: "lengthen the slot to at least \(Analysis.roundUp(occupied + (precision ?? .zero) * 2, to: cluster.macrotick)), raise the bitrate, or move messages to another slot")
            } else if let precision {
                slack(.slotGuard, mode: m, "slot \(slot.name)", guardTime - precision * 2, at: slot.spans[.length])
                if guardTime < precision * 2 {
                    report(.guardTooShort, at: slot.spans[.length],
                           "slot '\(slot.name)' leaves a guard of \(guardTime) after its frame, less than 2Π = \(precision * 2)",
                           help: "lengthen the slot to \(Analysis.roundUp(occupied + precision * 2, to: cluster.macrotick)); the guard must cover the worst disagreement of two clocks")
                }
            }
            // Acceptance window: two correct clocks differ by ≤ Π and one reading errs by ≤ ε.
            let expected = slot.offset + cluster.propagation
            let window = (precision ?? .zero) + cluster.readingError
            results.append(SlotAnalysis(slot: i, frameBytes: frameBytes, frameTime: frameTime, guardTime: guardTime,
                                        receiveWindowStart: expected - window, receiveWindowEnd: expected + window))
        }
        // Rules about what is absent are skipped when a declaration of the mode failed to model.
        if mode.incomplete { return results }
        if !slots.isEmpty, !slots.contains(where: \.carriesCState) {
            report(.noFullCStateFrame, at: slots[0].spans.name,
                   "no slot\(modeSuffix(m)) sends a frame with the full C-state; a (re)starting node could never integrate",
                   help: "set 'cstate = yes' on at least one slot (a full C-state frame is needed at least every 2 rounds)")
        }
        // Idle time: the parts of the round no slot covers.
        var covered = Interval.zero
        var cursor = Interval.zero
        for slot in slots.sorted(by: { $0.offset < $1.offset }) {
            let start = max(cursor, slot.offset)
            let end = min(slot.end, cluster.round)
            if end > start { covered = covered + (end - start) }
            cursor = max(cursor, slot.end)
        }
        if !slots.isEmpty, covered < cluster.round {
            report(.idleRoundTime, at: slots[slots.count - 1].spans.name,
                   "the slots\(modeSuffix(m)) leave \(cluster.round - covered) of the \(cluster.round) round unused",
                   help: "lengthen slots to fill the round, or shorten the round (every unused microsecond adds to latency)")
        }
        // Nodes without a slot.
        var hasSlot = [Bool](repeating: false, count: schedule.nodes.count)
        for s in slots { hasSlot[s.sender] = true }
        for (i, node) in schedule.nodes.enumerated() where !hasSlot[i] {
            if node.sync {
                report(.syncNodeWithoutSlot, at: node.spans.name,
                       "sync node '\(node.name)' has no sending slot\(modeSuffix(m)); its clock cannot take part in synchronization",
                       help: "add 'slot NAME { sender = \(node.name) }' or declare the node with 'sync = no'")
            } else if !schedule.messages.contains(where: { $0.sender == i }) {
                report(.nodeWithoutSlot, at: node.spans.name,
                       "node '\(node.name)' has no sending slot\(modeSuffix(m)): it only listens, and no other node can tell whether it is alive",
                       help: "give it a slot if the cluster should track its membership")
            }
        }
        return results
    }

    mutating func checkMessages(_ m: Int) -> [MessageAnalysis] {
        let mode = schedule.modes[m]
        let slots = mode.slots
        let cycle = cluster.cycleRounds
        var writers = [[Int]](repeating: [], count: schedule.messages.count)
        var readers = [[Int]](repeating: [], count: schedule.messages.count)
        for (t, task) in mode.tasks.enumerated() {
            for w in task.writes { writers[w].append(t) }
            for r in task.reads { readers[r].append(t) }
        }
        let anyTaskAnywhere = schedule.modes.contains { !$0.tasks.isEmpty }
        var results: [MessageAnalysis] = []
        for (i, message) in schedule.messages.enumerated() {
            let periodInterval = cluster.round * message.periodRounds
            var result = MessageAnalysis(message: i, sent: false, firstSendOffset: .zero, deliveryBound: .zero, periodInterval: periodInterval)
            defer { results.append(result) }
            if m == 0 {
                // Mode-independent properties are reported once.
                if cycle % message.periodRounds != 0 && !cluster.unresolved.contains(.cycle) {
                    report(.messagePeriodNotDividingCycle, at: message.spans[.period],
                           "message '\(message.name)' has a period of \(message.periodRounds) rounds, which does not divide the cluster cycle of \(cycle) rounds",
                           notes: [DiagnosticNote(cluster.spans[.cycle], "cluster cycle declared here")],
                           help: "use a period that divides \(cycle) (\(divisors(of: cycle).map(String.init).joined(separator: ", "))) or change the cycle to \(IntegerMath.lcmReportingOverflow(cycle, message.periodRounds).0) rounds")
                }
                if message.phaseRounds < 0 || message.phaseRounds >= message.periodRounds {
                    report(.messagePhaseOutOfRange, at: message.spans[.phase],
                           "message '\(message.name)' has phase \(message.phaseRounds) rounds; it must be less than its period (\(message.periodRounds) rounds)",
                           help: "use a phase from 0 to \(message.periodRounds - 1) rounds")
                }
            }
            let used = !writers[i].isEmpty || !readers[i].isEmpty || !anyTaskAnywhere
            if let name = message.slotName {
                if let s = slots.firstIndex(where: { $0.name == name }) {
                    if slots[s].sender != message.sender {
                        report(.slotNotOfSender, at: message.spans[.slot],
                               "message '\(message.name)' is bound to slot '\(name)'\(modeSuffix(m)), which belongs to '\(schedule.nodes[slots[s].sender].name)', not to its sender '\(schedule.nodes[message.sender].name)'",
                               notes: [DiagnosticNote(slots[s].spans.name, "slot '\(name)' declared here")],
                               help: "bind it to a slot whose sender is '\(schedule.nodes[message.sender].name)'")
                        continue
                    }
                } else if used {
                    report(.unknownName, at: message.spans[.slot], "no slot named '\(name)'\(modeSuffix(m))",
                           help: suggestion(for: name[...], among: slots.map(\.name)).map { "did you mean '\($0)'?" })
                    continue
                }
            }
            let copySlots = Analysis.copySlots(of: message, in: slots)
            if copySlots.isEmpty {
                if used && message.slotName == nil && !mode.incomplete {
                    report(.messageSenderWithoutSlot, at: message.spans[.sender],
                           "message '\(message.name)' is sent by '\(schedule.nodes[message.sender].name)', which has no slot\(modeSuffix(m))",
                           help: "add a slot with 'sender = \(schedule.nodes[message.sender].name)'\(modeSuffix(m))")
                }
                continue
            }
            let (lastRoundOffset, _) = Analysis.copyPosition(message.copies - 1, slots: copySlots)
            if lastRoundOffset >= message.periodRounds {
                report(.messageCopiesDoNotFit, at: message.spans[.copies],
                       "message '\(message.name)' needs \(message.copies) copies but its sender has \(copySlots.count) slot\(copySlots.count == 1 ? "" : "s") per round and the period is \(message.periodRounds) round\(message.periodRounds == 1 ? "" : "s"): the copies of one instance would overlap the next",
                       help: "use at most \(Int64(copySlots.count) * message.periodRounds) copies, or a period of \(lastRoundOffset + 1) rounds")
                continue
            }
            let first = slots[copySlots[0]]
            let (roundOffset, lastSlot) = Analysis.copyPosition(message.copies - 1, slots: copySlots)
            let lastEnd = cluster.round * roundOffset + slots[lastSlot].end
            let phase = message.phaseRounds >= 0 && message.phaseRounds < message.periodRounds ? message.phaseRounds : 0
            result.sent = true
            result.firstSendOffset = cluster.round * phase + first.offset
            result.deliveryBound = lastEnd - first.offset + (precision ?? .zero)

            // Writers and readers.
            if writers[i].count > 1 {
                let a = mode.tasks[writers[i][0]], b = mode.tasks[writers[i][1]]
                report(.multipleWriters, at: b.spans[.writes],
                       "message '\(message.name)' is written by both '\(a.name)' and '\(b.name)'\(modeSuffix(m)); a state message has one producer",
                       notes: [DiagnosticNote(a.spans[.writes], "'\(a.name)' writes it here")],
                       help: "give each producer its own message (replicas of one function write one message each, and readers vote)")
            }
            if writers[i].isEmpty && !readers[i].isEmpty {
                report(.messageWithoutWriter, at: message.spans.name,
                       "no task writes message '\(message.name)'\(modeSuffix(m)); it will carry no fresh data",
                       help: "add 'writes = \(message.name)' to the producing task on '\(schedule.nodes[message.sender].name)'")
            }
            for w in writers[i] {
                let task = mode.tasks[w]
                if task.node != message.sender {
                    report(.writerNotOnSender, at: task.spans[.writes],
                           "task '\(task.name)' on '\(schedule.nodes[task.node].name)' writes message '\(message.name)', which is sent by '\(schedule.nodes[message.sender].name)'",
                           notes: [DiagnosticNote(message.spans[.sender], "sender declared here")],
                           help: "move the task to '\(schedule.nodes[message.sender].name)' or change the message's sender")
                    continue
                }
                checkProducer(task: task, message: message, result: result, mode: m)
            }
            for r in readers[i] {
                let task = mode.tasks[r]
                if !message.destinations.contains(task.node) {
                    report(.readerNotDestination, at: task.spans[.reads],
                           "task '\(task.name)' on '\(schedule.nodes[task.node].name)' reads message '\(message.name)', which is not sent to that node",
                           notes: [DiagnosticNote(message.spans[.to], "destinations of '\(message.name)'")],
                           help: "add '\(schedule.nodes[task.node].name)' to the message's 'to' list")
                    continue
                }
                checkConsumer(task: task, message: message, result: result, mode: m)
            }
        }
        return results
    }

    /// E507: no send instant of the message falls strictly inside a producer's execution
    /// (release, release + WCET).
    mutating func checkProducer(task: TaskSpec, message: Message, result: MessageAnalysis, mode m: Int) {
        let s0 = result.firstSendOffset.nanoseconds, pm = result.periodInterval.nanoseconds
        // The smallest positive distance from a release to a send instant. A release exactly at
        // a send instant is no conflict: at one instant the executive transmits before it releases.
        var gap = Analysis.minimumForwardGap(a0: task.offset.nanoseconds, a: task.period.nanoseconds, b0: s0, b: pm)
        if gap == 0 { gap = IntegerMath.gcd(task.period.nanoseconds, pm) }
        let margin = Interval(nanoseconds: gap) - task.wcet
        slack(.producerBeforeSlot, mode: m, "\(task.name) → \(message.name)", margin, at: task.spans[.offset])
        guard margin < .zero else { return }
        let when: String
        if let release = Analysis.firstCoincidence(a0: task.offset.nanoseconds, a: task.period.nanoseconds, b0: s0, b: pm, difference: gap) {
            when = "(released at \(Interval(nanoseconds: release)), WCET \(task.wcet)) may still be running when message '\(message.name)' is sent at \(Interval(nanoseconds: release + gap))"
        } else {
            when = "(WCET \(task.wcet)) may still be running when message '\(message.name)' is sent, \(Interval(nanoseconds: gap)) after one of its releases"
        }
        report(.producerLate, at: task.spans[.offset],
               "task '\(task.name)' \(when)\(modeSuffix(m))",
               notes: [DiagnosticNote(message.spans.name, "message '\(message.name)' declared here")],
               help: "release '\(task.name)' at least \(-margin) earlier, or send '\(message.name)' in a later slot")
    }

    /// E508: no release of a consumer falls while a message it reads is in flight [s_i, d_i).
    mutating func checkConsumer(task: TaskSpec, message: Message, result: MessageAnalysis, mode m: Int) {
        let s0 = result.firstSendOffset.nanoseconds, pm = result.periodInterval.nanoseconds
        let gap = Analysis.minimumForwardGap(a0: s0, a: pm, b0: task.offset.nanoseconds, b: task.period.nanoseconds)
        let margin = Interval(nanoseconds: gap) - result.deliveryBound
        slack(.consumerAfterDelivery, mode: m, "\(message.name) → \(task.name)", margin, at: task.spans[.offset])
        guard margin < .zero else { return }
        let when: String
        if let send = Analysis.firstCoincidence(a0: s0, a: pm, b0: task.offset.nanoseconds, b: task.period.nanoseconds, difference: gap) {
            when = "is released at \(Interval(nanoseconds: send + gap)), while message '\(message.name)' sent at \(Interval(nanoseconds: send)) is not delivered until \(Interval(nanoseconds: send) + result.deliveryBound)"
        } else {
            when = "is released \(Interval(nanoseconds: gap)) after a send of message '\(message.name)', before its delivery \(result.deliveryBound) after the send"
        }
        report(.consumerEarly, at: task.spans[.offset],
               "task '\(task.name)' \(when)\(modeSuffix(m))",
               notes: [DiagnosticNote(message.spans.name, "message '\(message.name)' declared here (Δ = \(result.deliveryBound))")],
               help: "release '\(task.name)' \(-margin) later, or send '\(message.name)' earlier; it will otherwise read the previous value")
    }

    mutating func checkTasks(_ m: Int, hyperperiod: Interval?) {
        let mode = schedule.modes[m]
        var byNode = [[Int]](repeating: [], count: schedule.nodes.count)
        for (i, task) in mode.tasks.enumerated() {
            byNode[task.node].append(i)
            requireMacrotickMultiple(task.period, "task '\(task.name)' period", at: task.spans[.period])
            if task.spans.has(.offset) { requireMacrotickMultiple(task.offset, "task '\(task.name)' offset", at: task.spans[.offset]) }
            if task.spans.has(.deadline) { requireMacrotickMultiple(task.deadline, "task '\(task.name)' deadline", at: task.spans[.deadline]) }
            slack(.taskDeadline, mode: m, "task \(task.name)", task.deadline - task.wcet, at: task.spans[.wcet])
            if task.wcet > task.deadline {
                report(.wcetExceedsDeadline, at: task.spans[.wcet],
                       "task '\(task.name)' has a WCET of \(task.wcet), longer than its deadline of \(task.deadline)",
                       notes: task.spans.has(.deadline) ? [DiagnosticNote(task.spans[.deadline], "deadline declared here")] : [],
                       help: task.wcet > task.period
                           ? "the WCET exceeds the period (\(task.period)) too: lengthen the period or split the task"
                           : "extend the deadline to at least \(task.wcet) or reduce the WCET")
            }
            if task.deadline > task.period {
                report(.deadlineExceedsPeriod, at: task.spans[.deadline],
                       "task '\(task.name)' has a deadline of \(task.deadline), longer than its period of \(task.period)",
                       help: "a table-driven task finishes within its period: use a deadline ≤ \(task.period)")
            }
            if task.offset >= task.period {
                report(.offsetOutOfPeriod, at: task.spans[.offset],
                       "task '\(task.name)' has an offset of \(task.offset), not less than its period of \(task.period)",
                       help: "use offset \(Interval(nanoseconds: IntegerMath.floorMod(task.offset.nanoseconds, task.period.nanoseconds))) (the same releases)")
            }
            if schedule.modesDeclared && schedule.modes.count > 1 && cluster.cycle.nanoseconds % task.period.nanoseconds != 0
                && !cluster.unresolved.contains(.cycle) {
                report(.modeTaskPeriodNotDividingCycle, at: task.spans[.period],
                       "task '\(task.name)' has a period of \(task.period), which does not divide the cluster cycle (\(cluster.cycle)); a mode change at a cycle boundary would cut its instances",
                       notes: [DiagnosticNote(cluster.spans[.cycle], "cluster cycle declared here")],
                       help: "use a period that divides \(cluster.cycle)")
            }
        }
        // E604 overlap and E605 utilization, per node. Pairwise and exact: O(n²) per node.
        for node in schedule.nodes.indices where !byNode[node].isEmpty {
            let tasks = byNode[node]
            var reported = 0
            outer: for x in 0..<tasks.count {
                for y in (x + 1)..<tasks.count {
                    let a = mode.tasks[tasks[x]], b = mode.tasks[tasks[y]]
                    guard let d = Analysis.overlapDifference(a0: a.offset.nanoseconds, a: a.period.nanoseconds, ca: a.wcet.nanoseconds,
                                                             b0: b.offset.nanoseconds, b: b.period.nanoseconds, cb: b.wcet.nanoseconds) else { continue }
                    let instances: String
                    if let ta = Analysis.firstCoincidence(a0: a.offset.nanoseconds, a: a.period.nanoseconds, b0: b.offset.nanoseconds, b: b.period.nanoseconds, difference: d) {
                        let tb = ta + d
                        instances = "task '\(b.name)' [\(Interval(nanoseconds: tb)), \(Interval(nanoseconds: tb) + b.wcet)) overlaps task '\(a.name)' [\(Interval(nanoseconds: ta)), \(Interval(nanoseconds: ta) + a.wcet))"
                    } else {
                        instances = "task '\(b.name)' overlaps task '\(a.name)' (instances \(Interval(nanoseconds: d)) apart)"
                    }
                    report(.taskOverlap, at: b.spans[.offset],
                           "\(instances) on node '\(schedule.nodes[node].name)'\(modeSuffix(m))",
                           notes: [DiagnosticNote(a.spans.name, "'\(a.name)' declared here")],
                           help: d >= 0 ? "release '\(b.name)' \(a.wcet - Interval(nanoseconds: d)) later, or move one task to another node"
                                        : "release '\(b.name)' \(b.wcet + Interval(nanoseconds: d)) earlier or '\(a.name)' as much later, or move one task to another node")
                    reported += 1
                    if reported >= 20 { break outer }
                }
            }
            checkUtilization(node: node, tasks: tasks, mode: m)
            if let frame = schedule.nodes[node].frame {
                checkFrame(node: node, frame: frame, tasks: tasks, mode: m, hyperperiod: hyperperiod)
            }
        }
        checkPrecedence(m)
    }

    mutating func checkUtilization(node: Int, tasks: [Int], mode m: Int) {
        let mode = schedule.modes[m]
        // Exact when the lcm of the periods fits in 64 bits: Σ C·(L/T) ≤ L in 128-bit arithmetic.
        var l: Int64 = 1
        var exact = true
        for t in tasks {
            let (v, overflow) = IntegerMath.lcmReportingOverflow(l, mode.tasks[t].period.nanoseconds)
            if overflow { exact = false; break }
            l = v
        }
        var over: Bool
        var utilization = 0.0
        for t in tasks { utilization += Double(mode.tasks[t].wcet.nanoseconds) / Double(mode.tasks[t].period.nanoseconds) }
        if exact {
            var sum: Int128 = 0
            for t in tasks { sum += Int128(mode.tasks[t].wcet.nanoseconds) * Int128(l / mode.tasks[t].period.nanoseconds) }
            over = sum > Int128(l)
        } else {
            over = utilization > 1.0
        }
        guard over else { return }
        let heaviest = tasks.max { a, b in
            Double(mode.tasks[a].wcet.nanoseconds) / Double(mode.tasks[a].period.nanoseconds)
                < Double(mode.tasks[b].wcet.nanoseconds) / Double(mode.tasks[b].period.nanoseconds)
        }!
        report(.utilizationExceeded, at: schedule.nodes[node].spans.name,
               "node '\(schedule.nodes[node].name)' is loaded to \(percent(utilization))\(modeSuffix(m)): the WCETs of its tasks exceed the time available",
               notes: [DiagnosticNote(mode.tasks[heaviest].spans[.wcet], "the heaviest task, '\(mode.tasks[heaviest].name)', uses \(percent(Double(mode.tasks[heaviest].wcet.nanoseconds) / Double(mode.tasks[heaviest].period.nanoseconds)))")],
               help: "move tasks to another node or lengthen their periods until the utilization is at most 100 %")
    }

    mutating func checkFrame(node: Int, frame: Interval, tasks: [Int], mode m: Int, hyperperiod: Interval?) {
        let mode = schedule.modes[m]
        let n = schedule.nodes[node]
        requireMacrotickMultiple(frame, "node '\(n.name)' frame", at: n.spans[.frame])
        if let t = tasks.max(by: { mode.tasks[$0].wcet < mode.tasks[$1].wcet }), mode.tasks[t].wcet > frame {
            report(.frameShorterThanWCET, at: n.spans[.frame],
                   "node '\(n.name)' has a frame of \(frame), shorter than the WCET of task '\(mode.tasks[t].name)' (\(mode.tasks[t].wcet))",
                   notes: [DiagnosticNote(mode.tasks[t].spans[.wcet], "WCET declared here")],
                   help: "a cyclic-executive frame must hold the longest task: use f ≥ \(mode.tasks[t].wcet)")
        }
        var h: Int64 = 1
        for t in tasks { h = IntegerMath.lcmReportingOverflow(h, mode.tasks[t].period.nanoseconds).0 }
        if h % frame.nanoseconds != 0 {
            report(.frameNotDividingHyperperiod, at: n.spans[.frame],
                   "node '\(n.name)' has a frame of \(frame), which does not divide its hyperperiod \(Interval(nanoseconds: h))",
                   help: "use a frame that divides \(Interval(nanoseconds: h))")
        }
        for t in tasks {
            let task = mode.tasks[t]
            let g = IntegerMath.gcd(frame.nanoseconds, task.period.nanoseconds)
            let needed = frame * 2 - Interval(nanoseconds: g)
            if needed > task.deadline {
                report(.frameTooLongForDeadline, at: task.spans[.deadline],
                       "task '\(task.name)' has a deadline of \(task.deadline), less than 2f − gcd(f, T) = \(needed) for the frame f = \(frame) of node '\(n.name)'",
                       notes: [DiagnosticNote(n.spans[.frame], "frame declared here")],
                       help: "shorten the frame or extend the deadline to \(needed)")
            }
        }
    }

    mutating func checkPrecedence(_ m: Int) {
        let tasks = schedule.modes[m].tasks
        // Cycle detection: iterative DFS with colors (0 white, 1 grey, 2 black).
        var color = [UInt8](repeating: 0, count: tasks.count)
        for start in tasks.indices where color[start] == 0 {
            var stack: [(Int, Int)] = [(start, 0)]
            color[start] = 1
            while let (v, next) = stack.last {
                if next < tasks[v].after.count {
                    stack[stack.count - 1].1 += 1
                    let w = tasks[v].after[next]
                    if color[w] == 1 {
                        let cycleNodes = stack.map(\.0).drop { $0 != w }
                        let names = cycleNodes.map { tasks[$0].name } + [tasks[w].name]
                        report(.precedenceCycle, at: tasks[v].spans[.after],
                               "precedence cycle: \(names.joined(separator: " after "))",
                               notes: cycleNodes.dropFirst().map { DiagnosticNote(tasks[$0].spans[.after], "'\(tasks[$0].name)' is after '\(tasks[tasks[$0].after.first ?? $0].name)' here") },
                               help: "remove one 'after' of the cycle; data that flows back should be read from the previous period")
                    } else if color[w] == 0 {
                        color[w] = 1
                        stack.append((w, 0))
                    }
                } else {
                    color[v] = 2
                    stack.removeLast()
                }
            }
        }
        for task in tasks {
            for p in task.after {
                let before = tasks[p]
                if before.period != task.period {
                    report(.precedenceViolated, at: task.spans[.after],
                           "task '\(task.name)' (period \(task.period)) is declared after '\(before.name)' (period \(before.period)); precedence needs equal periods",
                           notes: [DiagnosticNote(before.spans[.period], "'\(before.name)' period")],
                           help: "give both tasks the same period, or connect them with a message instead")
                } else if task.offset < before.offset + before.wcet {
                    report(.precedenceViolated, at: task.spans[.offset],
                           "task '\(task.name)' is released at \(task.offset), before '\(before.name)' (released at \(before.offset), WCET \(before.wcet)) completes",
                           notes: [DiagnosticNote(before.spans.name, "'\(before.name)' declared here")],
                           help: "release '\(task.name)' at \(Analysis.roundUp(before.offset + before.wcet, to: cluster.macrotick)) or later")
                }
            }
        }
    }

    // MARK: Chains

    mutating func checkChains(_ m: Int, messages: [MessageAnalysis]) -> [ChainAnalysis] {
        let mode = schedule.modes[m]
        var results: [ChainAnalysis] = []
        for (c, chain) in schedule.chains.enumerated() {
            let indices = chain.path.map { name in mode.tasks.firstIndex { $0.name == name } }
            guard indices.allSatisfy({ $0 != nil }) else { continue }
            let tasks = indices.map { $0! }
            if tasks.count < 2 {
                report(.chainMalformed, at: chain.spans[.path], "chain '\(chain.name)' has only one task",
                       help: "a chain joins at least two tasks: 'path = sensor -> actuator'")
                continue
            }
            var links: [Int] = []
            var ok = true
            for e in 0..<(tasks.count - 1) {
                let a = mode.tasks[tasks[e]], b = mode.tasks[tasks[e + 1]]
                if let link = a.writes.first(where: { b.reads.contains($0) }) {
                    links.append(link)
                } else {
                    ok = false
                    report(.chainLinkMissing, at: chain.pathLocations[e + 1],
                           "in chain '\(chain.name)', '\(b.name)' reads no message that '\(a.name)' writes\(modeSuffix(m))",
                           notes: [DiagnosticNote(a.spans.name, "'\(a.name)' declared here"), DiagnosticNote(b.spans.name, "'\(b.name)' declared here")],
                           help: a.writes.isEmpty ? "let '\(a.name)' write a message and '\(b.name)' read it"
                                                  : "add 'reads = \(schedule.messages[a.writes[0]].name)' to '\(b.name)'")
                }
            }
            guard ok, links.allSatisfy({ messages[$0].sent }) else {
                results.append(ChainAnalysis(chain: c, links: links, reactionTime: nil, dataAge: nil))
                continue
            }
            let timing = chainTiming(tasks: tasks.map { mode.tasks[$0] }, links: links.map { messages[$0] })
            if timing == nil {
                report(.chainNotAnalysed, at: chain.spans.name,
                       "chain '\(chain.name)' was not analysed: its hyperperiod holds more than \(Validator.chainInstanceLimit) instances of its first task",
                       help: "use harmonic periods to make the analysis (and the schedule) simpler")
            }
            let result = ChainAnalysis(chain: c, links: links, reactionTime: timing?.reaction, dataAge: timing?.age)
            if let deadline = chain.deadline, let reaction = result.reactionTime {
                slack(.chainReaction, mode: m, "chain \(chain.name)", deadline - reaction, at: chain.spans[.deadline])
                if reaction > deadline {
                    report(.chainReactionExceeded, at: chain.spans[.deadline],
                           "chain '\(chain.name)' has a worst-case reaction time of \(reaction), more than its deadline of \(deadline)\(modeSuffix(m))",
                           help: "shorten it by \(reaction - deadline): release each task soon after the delivery of the message it reads, or shorten the periods")
                }
            }
            if let maxAge = chain.maxAge, let age = result.dataAge {
                slack(.chainDataAge, mode: m, "chain \(chain.name)", maxAge - age, at: chain.spans[.maxAge])
                if age > maxAge {
                    report(.chainDataAgeExceeded, at: chain.spans[.maxAge],
                           "chain '\(chain.name)' has a worst-case data age of \(age), more than its max_age of \(maxAge)\(modeSuffix(m))",
                           help: "shorten it by \(age - maxAge): align the tasks' offsets with the slots that carry their messages")
                }
            }
            results.append(result)
        }
        return results
    }

    static let chainInstanceLimit: Int64 = 1_000_000

    /// Exact reaction time and data age of a chain (see Docs/schedule-format.md, "Chains").
    /// Message instance i carries the newest producer output completed by its send instant s_i;
    /// a consumer reads the newest instance delivered (d_i = s_i + Δ) by its release.
    func chainTiming(tasks: [TaskSpec], links: [MessageAnalysis]) -> (reaction: Interval, age: Interval)? {
        var h: Int64 = 1
        for t in tasks { let (v, o) = IntegerMath.lcmReportingOverflow(h, t.period.nanoseconds); if o { return nil }; h = v }
        for l in links { let (v, o) = IntegerMath.lcmReportingOverflow(h, l.periodInterval.nanoseconds); if o { return nil }; h = v }
        // Instants below stay under h plus a few periods: keep h well inside 64 bits.
        guard h <= Int64.max / 4 else { return nil }
        let first = tasks[0], last = tasks[tasks.count - 1]
        guard h / first.period.nanoseconds <= Validator.chainInstanceLimit, h / last.period.nanoseconds <= Validator.chainInstanceLimit else { return nil }

        // Forward: from a release of the first task to the first output that reflects it.
        var reaction: Int64 = 0
        for j in 0..<(h / first.period.nanoseconds) {
            let release = first.offset.nanoseconds + j * first.period.nanoseconds
            var t = release + first.wcet.nanoseconds  // completion of the stage
            for (e, link) in links.enumerated() {
                let s0 = link.firstSendOffset.nanoseconds, pm = link.periodInterval.nanoseconds
                let send = s0 + Analysis.firstIndex(atOrAfter: t, origin: s0, period: pm) * pm
                let delivery = send + link.deliveryBound.nanoseconds
                let next = tasks[e + 1]
                let r = next.offset.nanoseconds + Analysis.firstIndex(atOrAfter: delivery, origin: next.offset.nanoseconds, period: next.period.nanoseconds) * next.period.nanoseconds
                t = r + next.wcet.nanoseconds
            }
            // A stimulus just after the previous release is first sampled by this one.
            reaction = max(reaction, t - (release - first.period.nanoseconds))
        }
        // Backward: from each output to the release of the first task whose sample it uses.
        var age: Int64 = 0
        for j in 0..<(h / last.period.nanoseconds) {
            let release = last.offset.nanoseconds + j * last.period.nanoseconds
            let output = release + last.wcet.nanoseconds
            var r = release
            for e in stride(from: links.count - 1, through: 0, by: -1) {
                let link = links[e]
                let s0 = link.firstSendOffset.nanoseconds, pm = link.periodInterval.nanoseconds
                let send = s0 + Analysis.latestIndex(atOrBefore: r - link.deliveryBound.nanoseconds, origin: s0, period: pm) * pm
                let producer = tasks[e]
                r = producer.offset.nanoseconds + Analysis.latestIndex(atOrBefore: send - producer.wcet.nanoseconds, origin: producer.offset.nanoseconds, period: producer.period.nanoseconds) * producer.period.nanoseconds
            }
            age = max(age, output - r)
        }
        return (Interval(nanoseconds: reaction), Interval(nanoseconds: age))
    }

    // MARK: Modes

    mutating func checkModes() {
        guard schedule.modesDeclared else { return }
        var reachable = [Bool](repeating: false, count: schedule.modes.count)
        var queue = [schedule.initialMode]
        reachable[schedule.initialMode] = true
        while let m = queue.popLast() {
            for t in schedule.modes[m].transitions where !reachable[t] {
                reachable[t] = true
                queue.append(t)
            }
        }
        for (m, mode) in schedule.modes.enumerated() where !reachable[m] {
            report(.modeUnreachable, at: mode.spans.name,
                   "mode '\(mode.name)' cannot be reached from the initial mode '\(schedule.modes[schedule.initialMode].name)'",
                   help: "add '\(mode.name)' to the 'transitions' of a reachable mode, or remove it")
        }
    }
}

func divisors(of n: Int64) -> [Int64] {
    var result: [Int64] = []
    var d: Int64 = 1
    while d * d <= n {
        if n % d == 0 { result.append(d); if d != n / d { result.append(n / d) } }
        d += 1
    }
    return result.sorted()
}

func percent(_ value: Double) -> String {
    let tenths = Int((value * 1000).rounded())
    return "\(tenths / 10).\(tenths % 10) %"
}
