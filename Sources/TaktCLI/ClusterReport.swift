// The analysis behind `takt cluster`'s report: from every node's records (its cluster time at
// known host instants, its membership, its clock readings) to the guarantees measured against the
// host clock. Nodes are left out of the precision figures while a fault touches them: from the
// fault until they are active again plus 2 rounds.

import Foundation
import TaktPlatform
import TaktRuntime
import TaktSchedule
import TaktTime

/// An instant of the run (from its start) as seconds to the millisecond: "3.001 s".
func secondsText(_ i: Interval) -> String { String(format: "%.3f s", Double(i.nanoseconds) / 1e9) }

struct ClusterReport {
    var startup: Interval?
    var precisionMax: Interval?
    var precisionP99: Interval?
    var precisionSamples = 0
    var measuredReadingError: Interval?
    /// Every reading's error (ns; see below), by the sender whose frame was read.
    var readingErrors: [[Int64]] = []
    var precisionBound: Interval?
    var lowerBound: Interval?
    /// Each kill or stop: when every other node had removed it, in rounds after the fault, as
    /// the host ran them (`rounds`) and on their schedules (`scheduled`: the instant the detecting
    /// action was due). The two differ by how late this host ran the detecting process; the
    /// protocol's bound applies to the schedule.
    var detections: [(node: Int, at: Interval, rounds: Double?, scheduled: Double?, witnessed: Bool)] = []
    var reintegrations: [(node: Int, at: Interval, rounds: Double?)] = []
    var timeline: [(at: Interval, text: String)] = []
    var lateness: [(node: Int, p50: Interval, p99: Interval, max: Interval)] = []
    var foreign: UInt64 = 0
    /// Nodes left out of a membership (or not active) without an injected fault: timing faults of
    /// this host (a stalled process), with the instant first seen.
    var unplannedFaults: [(node: Int, at: Interval)] = []
    /// Faults whose detection or reintegration had no witness (every other node touched by a fault).
    var unmeasured: [String] = []
    var violations: [String] = []

    static func analyze(collector: RecordCollector, schedule: Schedule, derived: DerivedResults, start: LocalInstant,
                        duration: Interval, driftSpread: Double, faults: [(Int, Interval, ClusterCommand.FaultAction)]) -> ClusterReport {
        var report = ClusterReport()
        let n = schedule.nodes.count
        let round = schedule.cluster.round
        let records = collector.snapshot().map { $0.sorted { $0.host < $1.host } }
        let end = start + duration

        // When each node is touched by a fault: [fault, active again + 2 rounds).
        var excluded = [[(LocalInstant, LocalInstant)]](repeating: [], count: n)
        for (node, at, action) in faults {
            let from = start + at
            var recoverFrom = from
            switch action {
            case .kill:
                let restart = faults.filter { $0.0 == node && $0.1 > at }.compactMap { f -> Interval? in
                    if case .restart = f.2 { return f.1 } else { return nil }
                }.min()
                guard let restart else { excluded[node].append((from, end + .seconds(3600))); continue }
                recoverFrom = start + restart
            case .restart: continue
            case .stop(let length): recoverFrom = from + length
            }
            // Active again: its first round end as an active node written on time — a process
            // resumed after SIGSTOP first writes the record that was due while it was stopped.
            let back = records[node].first { r in
                r.host >= recoverFrom && r.status == 3 && r.kind == .roundEnd && (r.planned.map { r.host - $0 < round / 4 } ?? true)
            }?.host
            excluded[node].append((from, (back ?? end + .seconds(3600)) + round * 2))
        }
        func touched(_ node: Int, _ t: LocalInstant) -> Bool { excluded[node].contains { $0.0 <= t && t < $0.1 } }

        // Start-up: every node active with everyone in its view.
        var latest = [NodeRecord?](repeating: nil, count: n)
        let merged = records.flatMap { $0 }.filter { $0.kind != .summary }.sorted { $0.host < $1.host }
        for r in merged {
            latest[r.node] = r
            if report.startup == nil, latest.allSatisfy({ l in l.map { $0.status == 3 && (0..<n).allSatisfy($0.isMember) } ?? false }) {
                report.startup = r.host - start
            }
        }
        let upAt = report.startup.map { start + $0 } ?? end

        // Faults nobody injected (a process stalled by the host, a late send suppressed by the
        // guardian): a node another active node left out of its membership, or that was not active
        // itself, is not correct around that instant; it is left out of the precision figures.
        var lastUnplanned = [LocalInstant?](repeating: nil, count: n)
        for r in merged where r.host >= upAt && !touched(r.node, r.host) {
            // (A node an injected fault touches says nothing about the others: a process resumed
            // after SIGSTOP reports its stale view before it notices it is late.)
            var out: [Int] = r.status == 3 ? (0..<n).filter { !r.isMember($0) } : [r.node]
            out.removeAll { node in touched(node, r.host) }
            for node in out {
                if lastUnplanned[node].map({ r.host - $0 > round * 3 }) ?? true { report.unplannedFaults.append((node, r.host - start)) }
                lastUnplanned[node] = r.host
                excluded[node].append((r.host - round * 2, r.host + round * 3))
            }
        }

        // Precision: per round, the spread of (cluster − host) over the untouched active nodes.
        var byRound: [UInt64: [(node: Int, offset: Int64, record: NodeRecord)]] = [:]
        for list in records {
            for r in list where r.kind == .roundEnd && r.status == 3 && r.host >= upAt && !touched(r.node, r.host) {
                byRound[r.round, default: []].append((r.node, r.cluster - r.host.nanoseconds, r))
            }
        }
        var spreads: [Int64] = []
        var readingErrors = [[Int64]](repeating: [], count: n)
        // A round number names one round only within one cluster epoch (a cold start restarts the
        // count): split each round's entries into groups whose host instants lie within a round.
        var groups: [[(node: Int, offset: Int64, record: NodeRecord)]] = []
        for (_, list) in byRound {
            var current: [(node: Int, offset: Int64, record: NodeRecord)] = []
            for e in list.sorted(by: { $0.record.host < $1.record.host }) {
                if let first = current.first, e.record.host - first.record.host > round {
                    groups.append(current)
                    current = []
                }
                current.append(e)
            }
            groups.append(current)
        }
        for entries in groups where entries.count >= 2 {
            let offsets = entries.map(\.offset)
            spreads.append(offsets.max()! - offsets.min()!)
            // Reading error. A receiver j reads sender s's frame as dev = C_j(arrival) − expected; with
            // each clock's offset from the host (off = cluster − host, from the records) removed,
            //     dev_j − off_j + off_s = (delay_j − propagation) + (actual send − claimed send),
            // the error of that reading, send-side delay included. ε is the spread of these errors
            // over every reading of the run (a bias shared by all readings does not matter).
            for e in entries {
                for sender in 0..<min(n, e.record.deviations.count) where sender != e.node {
                    guard let d = e.record.deviations[sender], let s = entries.first(where: { $0.node == sender }) else { continue }
                    readingErrors[sender].append(Int64(d) - e.offset + s.offset)
                }
            }
        }
        spreads.sort()
        report.precisionSamples = spreads.count
        if let last = spreads.last {
            report.precisionMax = Interval(nanoseconds: last)
            report.precisionP99 = Interval(nanoseconds: spreads[min(spreads.count - 1, spreads.count * 99 / 100)])
        }
        report.readingErrors = readingErrors
        if let high = readingErrors.compactMap({ $0.max() }).max(), let low = readingErrors.compactMap({ $0.min() }).min() {
            let measured = Interval(nanoseconds: max(high - low, 1))
            report.measuredReadingError = measured
            let drift = DriftRate(partsPerBillion: Int64(driftSpread * 1_000))
            report.precisionBound = PrecisionBound.precision(readingError: measured, drift: drift, resynchronizationInterval: round,
                                                             clocks: schedule.syncNodeCount, faulty: schedule.cluster.faultTolerance)
            report.lowerBound = PrecisionBound.lowerBound(readingError: measured, clocks: schedule.syncNodeCount)
        }

        // Detection and reintegration, from the records of every other node no fault touched at the
        // fault's instant (its witnesses): when the last of them had seen `matches`, counted from
        // `from`, as the host ran it and on its schedule; .never when a witness never saw it.
        enum Seen { case noWitness, never, after(Double, scheduled: Double) }
        func everyWitness(of node: Int, at t0: LocalInstant, from: LocalInstant, _ matches: (NodeRecord) -> Bool) -> Seen {
            var worst = Interval.zero, worstScheduled = Interval.zero, witnesses = 0
            for other in 0..<n where other != node && !touched(other, t0) {
                witnesses += 1
                guard let seen = records[other].first(where: { $0.host >= from && $0.kind != .summary && matches($0) }) else { return .never }
                worst = max(worst, seen.host - from)
                worstScheduled = max(worstScheduled, max(seen.planned ?? seen.host, from) - from)
            }
            let r = Double(round.nanoseconds)
            return witnesses == 0 ? .noWitness : .after(Double(worst.nanoseconds) / r, scheduled: Double(worstScheduled.nanoseconds) / r)
        }
        let name = { (node: Int) in schedule.nodes[node].name }
        for (node, at, action) in faults {
            let t0 = start + at
            switch action {
            case .kill, .stop:
                let detected = everyWitness(of: node, at: t0, from: t0) { !$0.isMember(node) }
                switch detected {
                case .noWitness:
                    report.detections.append((node, at, nil, nil, false))
                    report.unmeasured.append("\(name(node))'s fault at \(secondsText(at)): every other node was itself touched by a fault then")
                case .never:
                    report.detections.append((node, at, nil, nil, true))
                    report.violations.append("\(name(node))'s fault at \(secondsText(at)) was never detected by every other node")
                case .after(let rounds, let scheduled):
                    report.detections.append((node, at, rounds, scheduled, true))
                    if scheduled > 2 {
                        report.violations.append("\(name(node))'s fault at \(secondsText(at)) was detected after \(String(format: "%.2f", scheduled)) rounds on the detecting nodes' schedules (bound 2)")
                    }
                }
                if case .stop(let length) = action {
                    // After SIGCONT the node finds itself late, stays silent (guardian), freezes or
                    // re-integrates: when is it back in every other node's membership?
                    let cont = t0 + length
                    switch everyWitness(of: node, at: t0, from: cont, { $0.isMember(node) && $0.status == 3 }) {
                    case .after(let rounds, _): report.reintegrations.append((node, at + length, rounds))
                    case .noWitness: report.reintegrations.append((node, at + length, nil))
                    case .never:
                        report.reintegrations.append((node, at + length, nil))
                        if end - cont > round * 30 { report.violations.append("\(name(node)), stopped at \(secondsText(at)), never rejoined after SIGCONT") }
                    }
                }
            case .restart:
                switch everyWitness(of: node, at: t0, from: t0, { $0.isMember(node) && $0.status == 3 }) {
                case .after(let rounds, _): report.reintegrations.append((node, at, rounds))
                case .noWitness:
                    report.reintegrations.append((node, at, nil))
                    report.unmeasured.append("\(name(node))'s restart at \(secondsText(at)): every other node was itself touched by a fault then")
                case .never:
                    report.reintegrations.append((node, at, nil))
                    if end - t0 > round * 30 {
                        report.violations.append("\(name(node)) restarted at \(secondsText(at)) but never rejoined every other node's membership")
                    }
                }
            }
        }

        // Membership timeline: each change a node reported.
        for r in merged where r.kind == .membershipChange {
            let members = (0..<n).filter { r.isMember($0) }.map { schedule.nodes[$0].name }.joined(separator: ", ")
            let status = ["listening", "integrating", "cold starting", "active", "frozen"][Int(min(r.status, 4))]
            report.timeline.append((r.host - start, "\(schedule.nodes[r.node].name): \(status), {\(members)}"))
        }
        for node in 0..<n {
            if let s = records[node].last(where: { $0.kind == .summary }) {
                report.lateness.append((node, s.latenessA, s.latenessB, s.latenessC))
                report.foreign += UInt64(s.counters.foreign)
            }
        }

        // The guarantees.
        if report.startup == nil { report.violations.append("the cluster never had every node active in one full membership") }
        if let max = report.precisionMax, let bound = report.precisionBound, max > bound {
            report.violations.append("precision \(max) exceeded the bound Π = \(bound) (from the measured reading error)")
        }
        if report.startup != nil && report.precisionSamples == 0 { report.violations.append("no round had two untouched active nodes to compare") }
        return report
    }

    /// Each node's dispatch lateness (from its final record), one line a node.
    func latenessLines(_ schedule: Schedule) -> String {
        lateness.map { "  dispatch lateness \(schedule.nodes[$0.node].name): p50 ≤ \($0.p50), p99 ≤ \($0.p99), max \($0.max)\n" }.joined()
    }

    /// The same as JSON: {node: {p50, p99, max}} in ns.
    func latenessJSON(_ schedule: Schedule) -> JSON {
        .object(lateness.map { (schedule.nodes[$0.node].name, JSON.object([("p50", .int($0.p50.nanoseconds)), ("p99", .int($0.p99.nanoseconds)), ("max", .int($0.max.nanoseconds))])) })
    }

    func print(json: Bool, path: String, schedule: Schedule, events: [(at: Interval, text: String)], drifts: [Double],
               logs: [String], console: inout Console) {
        let detectionMax = detections.compactMap(\.rounds).max()
        let detectionScheduledMax = detections.compactMap(\.scheduled).max()
        let reintegrationMax = reintegrations.compactMap(\.rounds).max()
        if json {
            func ns(_ i: Interval?) -> JSON { i.map { .int($0.nanoseconds) } ?? .null }
            let object = JSON.object([
                ("schedule", .string(path)), ("nodes", .int(Int64(schedule.nodes.count))),
                ("violations", .int(Int64(violations.count))), ("violation_list", .array(violations.map(JSON.string))),
                ("startup_ns", ns(startup)),
                ("precision_ns_max", ns(precisionMax)), ("precision_ns_p99", ns(precisionP99)),
                ("precision_bound_ns", ns(precisionBound)), ("reading_error_ns", ns(measuredReadingError)), ("lower_bound_ns", ns(lowerBound)),
                ("precision_samples", .int(Int64(precisionSamples))),
                ("detection_rounds_max", detectionMax.map(JSON.double) ?? .null),
                ("detection_rounds_max_scheduled", detectionScheduledMax.map(JSON.double) ?? .null),
                ("reintegration_rounds_max", reintegrationMax.map(JSON.double) ?? .null),
                ("foreign_datagrams", .int(Int64(foreign))),
                ("unplanned_faults", .int(Int64(unplannedFaults.count))),
                ("unmeasured", .array(unmeasured.map(JSON.string))),
                ("lateness_ns", latenessJSON(schedule)),
                ("faults", .array(events.map { .string("\($0.at): \($0.text)") })),
            ])
            console.out.write(object.serialized(pretty: true) + "\n")
            return
        }
        var text = "\(path): \(schedule.nodes.count) nodes as processes on this host; injected drift " +
            drifts.enumerated().map { "\(schedule.nodes[$0.offset].name) \(String(format: "%+.1f", $0.element)) ppm" }.joined(separator: ", ") + "\n"
        text += "  start-up: " + (startup.map { "every node active in one membership \($0) after launch" } ?? "never complete") + "\n"
        if let max = precisionMax, let p99 = precisionP99 {
            text += "  precision: max \(max), p99 \(p99) over \(precisionSamples) rounds; bound Π = \(precisionBound?.description ?? "-") from the measured reading error ε = \(measuredReadingError?.description ?? "-"); lower bound ε(1−1/N) = \(lowerBound?.description ?? "-")\n"
        }
        for d in detections {
            text += "  fault of \(schedule.nodes[d.node].name) at \(secondsText(d.at)): detected by every other node after " + (d.rounds.map { String(format: "%.2f rounds", $0) } ?? (d.witnessed ? "— never" : "— not measured"))
            if let rounds = d.rounds, let scheduled = d.scheduled, rounds - scheduled >= 0.01 {
                text += String(format: " (%.2f on their schedules; the other %.1f ms: this host ran them late)", scheduled,
                               (rounds - scheduled) * Double(schedule.cluster.round.nanoseconds) / 1e6)
            }
            text += "\n"
        }
        for r in reintegrations { text += "  restart of \(schedule.nodes[r.node].name) at \(secondsText(r.at)): back in every membership after " + (r.rounds.map { String(format: "%.2f rounds", $0) } ?? "— never") + "\n" }
        for u in unmeasured { text += "  not measured: \(u)\n" }
        text += latenessLines(schedule)
        if foreign > 0 { text += "  datagrams dropped outside their sender's window or malformed: \(foreign)\n" }
        if !unplannedFaults.isEmpty {
            text += "  faults nobody injected (this host stalled a node; it left the membership and rejoined): \(unplannedFaults.count), e.g. "
                + unplannedFaults.prefix(4).map { "\(schedule.nodes[$0.node].name) at \(secondsText($0.at))" }.joined(separator: ", ") + "\n"
        }
        if !timeline.isEmpty {
            text += "  membership changes (\(timeline.count)):\n"
            for t in timeline.prefix(12) { text += "    \(t.at)  \(t.text)\n" }
            if timeline.count > 12 { text += "    … \(timeline.count - 12) more (--json has the counts)\n" }
        }
        if violations.isEmpty { text += "  every guarantee held\n" } else {
            for v in violations { text += "  VIOLATION: \(v)\n" }
            for (i, log) in logs.enumerated() where log.contains("error") { text += "  node \(schedule.nodes[i].name) said: \(log.suffix(300))\n" }
        }
        console.out.write(text)
    }
}
