// `takt bench latency SCHEDULE`: end-to-end latency of atomic-broadcast messages over a real UDP
// cluster on this host, against the schedule's Δ. The cluster is `takt cluster`'s (ClusterRun: every
// node a `takt node --records` process, injected drifts and offsets), with `--latency-records`: each
// sender stamps its host send instant into every message instance it originates, each receiver
// records host delivery instant − stamp (TaktRuntime.LatencyProbe). Every process reads the same
// CLOCK_MONOTONIC, so the difference is a true duration.
//
// What the host-clock latency L of one delivery must satisfy. Δ is in cluster time: from the start
// of the first copy's slot S to the delivery instant D = S + Δ (last copy's slot end + Π). The sender
// stamps at host instant t1 when its clock shows S, plus its dispatch lateness l_s ≥ 0; the receiver
// delivers at host instant t2 when its clock shows D, plus its lateness l_r ≥ 0. At t1 the
// receiver's clock reads within Π of S (precision), so between t1 and t2 it advances by Δ ± Π. How
// much host time that takes depends on the rate of the receiver's cluster clock against the host
// clock, which differs from 1 by at most σ = ρ (its oscillator; the injected drift, if larger) + s
// (the slew at which corrections are amortized, 1 %) + the rate correction's limit when that is on.
// The corrections matter: on loopback every reading shares one bias (the schedule's propagation is
// larger than loopback's), every clock corrects by about that bias each round, and cluster time runs
// faster than host time by bias/R — 0.44 % for loopback.takt, far beyond ρ (Docs/benchmarks.md). So
//     (Δ − Π)/(1 + σ) − l_s  ≤  L  ≤  (Δ + Π)/(1 − σ) + l_r.
// The lateness is bounded by nothing but the host. The allowance A (`--allowance`, default the
// guardian: a quarter of the shortest slot, the lateness a node tolerates before it stays silent in
// its own slot) stands for it: a delivery later than (Δ + Π)/(1 − σ) + A is reported as late (the
// receiver woke more than A late: a stalled process); one earlier than (Δ − Π)/(1 + σ) − A cannot
// happen (a sender more than the guardian late does not send) and means the measurement is wrong.
// Exit 0 when every delivery lies within both, 1 otherwise, 2 bad input.
//
// Also reported: per sender, the distribution of the reading error of its frames — each
// receiver's arrival deviation corrected by both clocks' offsets from the host, exactly as
// `takt cluster` computes ε (ClusterReport) — whose spread is the measured ε.

import Foundation
import Glibc
import TaktProtocol
import TaktRuntime
import TaktSchedule
import TaktTime

/// Whether every message of a schedule can carry the latency stamp.
enum LatencyStampCheck {
    /// A usage message naming the messages shorter than the stamp, or nil.
    static func refusal(schedule: Schedule, configuration: ControllerConfiguration) -> String? {
        let short = LatencyProbe.tooShort(configuration)
        guard !short.isEmpty else { return nil }
        let list = short.map { "'\(schedule.messages[$0.message].name)' (\($0.size) byte\($0.size == 1 ? "" : "s"))" }.joined(separator: ", ")
        return "the latency stamp (the sender's host send instant) needs messages of at least \(LatencyProbe.stampBytes) bytes; "
            + "\(list) \(short.count == 1 ? "is" : "are") shorter\n  help: give \(short.count == 1 ? "it" : "each") size = \(LatencyProbe.stampBytes) bytes or more in a copy of the schedule, and measure that"
    }
}

enum LatencyBench {
    /// bench options that belong to the other benchmarks.
    static let otherBenchmarksOptions = ["--interval", "--loops", "--nodes", "--tasks", "--policy", "--cpu", "--histogram", "--load", "--compare-cyclictest", "--concurrent"]

    static func run(_ arguments: ParsedArguments, _ console: inout Console) -> Int32 {
        func usage(_ message: String) -> Int32 { TaktCommand.usageError(message, subcommand: "bench", console: &console) }
        guard arguments.positionals.count == 2 else {
            return usage(arguments.positionals.count < 2 ? "bench latency takes a schedule file" : "bench latency takes one schedule file")
        }
        if let option = otherBenchmarksOptions.first(where: { arguments.has($0) }) { return usage("\(option) does not apply to bench latency") }
        let path = arguments.positionals[1]
        let (result, failure) = loadValidSchedule(path, console: &console)
        if let failure { return failure }
        let schedule = result.schedule!, derived = result.derived!
        if let refusal = LatencyStampCheck.refusal(schedule: schedule, configuration: ControllerConfiguration(schedule: schedule, derived: derived, node: 0)) {
            return usage(refusal)
        }
        var allowance = NodeCommand.defaultGuardian(schedule)
        if let text = arguments.value("--allowance") {
            guard let a = SimCommand.parseInterval(text), a >= .zero, a <= .seconds(10) else { return usage("--allowance takes a time from 0 to 10s, e.g. 625us") }
            allowance = a
        }
        var setup: ClusterSetup
        do { setup = try ClusterSetup(arguments, path: path, schedule: schedule) } catch { return usage(error.message) }
        let rateError = LatencyReport.rateError(schedule: schedule, derived: derived, driftSpread: setup.driftSpread)
        let bounds = LatencyReport.bounds(schedule: schedule, derived: derived, rateError: rateError, latenessAllowance: allowance)
        guard !bounds.isEmpty else {
            return usage("\(path) has no message with a destination in its initial mode: there is no delivery to measure")
        }
        setup.extraNodeArguments = ["--latency-records"]
        // The output files are created now: a typo should not cost a whole run.
        for option in ["--json", "--svg"] {
            guard let file = arguments.value(option) else { continue }
            guard FileManager.default.createFile(atPath: file, contents: nil) else {
                console.err.write("error: cannot write \(option) \(file)\n")
                return ExitStatus.usage
            }
        }

        let run = ClusterRun.execute(setup, faults: [], err: console.err, interactive: console.interactive) { collector, elapsed, _ in
            let measured = collector.latencySnapshot().reduce(0) { $0 + $1.count { $0.outcome == .delivered } }
            return String(format: "latency: %.1f s of %@, %d deliveries measured | ", Double(elapsed.nanoseconds) / 1e9, setup.duration.description, measured)
                + collector.statusLine(schedule: schedule, elapsed: elapsed, lastEvent: nil)
        }
        guard run.launched else { return ExitStatus.usage }
        let cluster = ClusterReport.analyze(collector: run.collector, schedule: schedule, derived: derived, start: run.start,
                                            duration: setup.duration, driftSpread: setup.driftSpread, faults: [])
        let report = LatencyReport.analyze(entries: run.collector.latencySnapshot(), readingErrors: cluster.readingErrors, bounds: bounds,
                                           schedule: schedule, derived: derived, rateError: rateError, latenessAllowance: allowance)
        console.out.write(report.text(path: path, setup: setup, cluster: cluster))
        if !report.violations.isEmpty {
            for (i, log) in run.collector.logs.enumerated() where log.contains("error") { console.err.write("node \(schedule.nodes[i].name) said: \(log.suffix(300))\n") }
        }
        let outputs = [("--svg", { LatencyPlot.render(report, title: "\(path): \(setup.duration) on this host", schedule: schedule) }),
                       ("--json", { report.json(path: path, setup: setup, cluster: cluster).serialized(pretty: true) + "\n" })]
        for (option, make) in outputs {
            guard let file = arguments.value(option) else { continue }
            do { try make().write(toFile: file, atomically: true, encoding: .utf8) } catch {
                console.err.write("error: cannot write \(file): \(error.localizedDescription)\n")
                return ExitStatus.usage
            }
        }
        return report.violations.isEmpty ? ExitStatus.success : ExitStatus.failure
    }
}

/// The latencies of one run, per message and receiving node, against each message's bounds; the
/// reading error per sender.
struct LatencyReport {
    /// One message's Δ and the window its host-clock latencies must lie in (see the file's header).
    struct Bound {
        var message: Int
        var sender: Int
        var destinations: [Int]
        var delta: Interval
        var earliest: Interval
        var latest: Interval
    }

    /// One message at one receiver.
    struct Pair {
        var message: Int
        var receiver: Int
        /// Latencies of the delivered instances, ascending.
        var latencies: [Interval] = []
        var discarded = 0
        var unstamped = 0
        var overDelta = 0
        var overLatest = 0
        var underEarliest = 0
        var statistics: LatencyStatistics { LatencyStatistics(sorted: latencies, overrunAbove: nil) }
    }

    /// The reading errors of one sender's frames (at every receiver), ascending.
    struct Deviations {
        var sender: Int
        var sorted: [Interval]
        var statistics: LatencyStatistics { LatencyStatistics(sorted: sorted, overrunAbove: nil) }
        var spread: Interval? { sorted.last.map { $0 - sorted[0] } }
    }

    var precision: Interval
    /// σ (`rateError`).
    var rateError: DriftRate
    var latenessAllowance: Interval
    var bounds: [Bound]
    var pairs: [Pair] = []
    var deviations: [Deviations] = []
    var violations: [String] = []

    /// σ: how far the rate of a node's cluster clock may differ from the host clock's — its
    /// oscillator's drift (the schedule's ρ, or the injected drift spread if larger), the slew of
    /// amortized corrections, and the rate correction's limit if the configuration has it on.
    static func rateError(schedule: Schedule, derived: DerivedResults, driftSpread: Double) -> DriftRate {
        let configuration = ControllerConfiguration(schedule: schedule, derived: derived, node: 0)
        let drift = max(schedule.cluster.drift.partsPerBillion, Int64((driftSpread * 1_000).rounded(.up)))
        let rate = configuration.rateCorrection ? ClusterClock.maximumRateAdjustment.partsPerBillion : 0
        return DriftRate(partsPerBillion: drift + configuration.maximumSlew.partsPerBillion + rate)
    }

    /// The messages of the initial mode that have destinations, with their Δ and latency window
    /// [(Δ − Π)/(1 + σ) − A, (Δ + Π)/(1 − σ) + A] (the file's header).
    static func bounds(schedule: Schedule, derived: DerivedResults, rateError: DriftRate, latenessAllowance: Interval) -> [Bound] {
        let precision = derived.precision ?? .zero
        let sigma = Double(rateError.partsPerBillion) / 1e9
        return derived.modes[schedule.initialMode].messages.compactMap { a in
            let message = schedule.messages[a.message]
            guard a.sent, !message.destinations.isEmpty else { return nil }
            // Rounded outwards to whole nanoseconds.
            let longest = Double((a.deliveryBound + precision).nanoseconds) / (1 - sigma)
            let shortest = Double((a.deliveryBound - precision).nanoseconds) / (1 + sigma)
            return Bound(message: a.message, sender: message.sender, destinations: message.destinations, delta: a.deliveryBound,
                         earliest: Interval(nanoseconds: Int64(shortest.rounded(.down))) - latenessAllowance,
                         latest: Interval(nanoseconds: Int64(longest.rounded(.up))) + latenessAllowance)
        }
    }

    /// `entries[node]`: what node recorded as a receiver; `readingErrors[sender]` in ns.
    static func analyze(entries: [[LatencyEntry]], readingErrors: [[Int64]], bounds: [Bound], schedule: Schedule,
                        derived: DerivedResults, rateError: DriftRate, latenessAllowance: Interval) -> LatencyReport {
        var report = LatencyReport(precision: derived.precision ?? .zero, rateError: rateError, latenessAllowance: latenessAllowance, bounds: bounds)
        for bound in bounds {
            let name = schedule.messages[bound.message].name
            for receiver in bound.destinations {
                var pair = Pair(message: bound.message, receiver: receiver)
                for e in receiver < entries.count ? entries[receiver] : [] where e.message == bound.message {
                    switch e.outcome {
                    case .delivered: pair.latencies.append(e.delivered - e.sent)
                    case .discarded: pair.discarded += 1
                    case .unstamped: pair.unstamped += 1
                    }
                }
                pair.latencies.sort()
                pair.overDelta = pair.latencies.count { $0 > bound.delta }
                pair.overLatest = pair.latencies.count { $0 > bound.latest }
                pair.underEarliest = pair.latencies.count { $0 < bound.earliest }
                let route = "'\(name)' at \(schedule.nodes[receiver].name)"
                if pair.latencies.isEmpty {
                    report.violations.append("no delivery of \(route) was measured")
                }
                if pair.overLatest > 0 {
                    report.violations.append("\(pair.overLatest) of \(pair.latencies.count) deliveries of \(route) came later than (Δ + Π)/(1 − σ) + \(latenessAllowance) = \(bound.latest) (the latest \(pair.latencies.last!)): the receiver woke more than \(latenessAllowance) late")
                }
                if pair.underEarliest > 0 {
                    report.violations.append("\(pair.underEarliest) of \(pair.latencies.count) deliveries of \(route) came earlier than (Δ − Π)/(1 + σ) − \(latenessAllowance) = \(bound.earliest) (the earliest \(pair.latencies[0])), which no correct send allows")
                }
                report.pairs.append(pair)
            }
        }
        report.deviations = readingErrors.enumerated().map { Deviations(sender: $0.offset, sorted: $0.element.sorted().map(Interval.init(nanoseconds:))) }
        return report
    }

    /// A histogram of ascending samples in bins of a 1-2-5 width, about `bins` of them.
    static func histogram(_ sorted: [Interval], bins: Int = 40) -> (from: Int64, width: Int64, counts: [Int]) {
        guard let first = sorted.first?.nanoseconds, let last = sorted.last?.nanoseconds else { return (0, 1, []) }
        let width = HistogramPanel.niceStep(max(1, (last - first + Int64(bins) - 1) / Int64(bins)))
        let from = first >= 0 ? first / width * width : -((-first + width - 1) / width) * width
        var counts = [Int](repeating: 0, count: Int((last - from) / width) + 1)
        for s in sorted { counts[Int((s.nanoseconds - from) / width)] += 1 }
        return (from, width, counts)
    }

    /// One line of eighth blocks: each bin's count on a log scale.
    static func sparkline(_ counts: [Int]) -> String {
        let levels = Array(" ▁▂▃▄▅▆▇█")
        let top = log10(Double(max(counts.max() ?? 1, 1)) + 1)
        return String(counts.map { c in c == 0 ? levels[0] : levels[max(1, Int((log10(Double(c) + 1) / top * 8).rounded()))] })
    }

    func text(path: String, setup: ClusterSetup, cluster: ClusterReport) -> String {
        let schedule = setup.schedule
        func name(_ node: Int) -> String { schedule.nodes[node].name }
        var text = "takt bench latency \(path): \(schedule.nodes.count) nodes as processes on this host for \(setup.duration); injected drift "
            + setup.drifts.enumerated().map { "\(name($0.offset)) \(String(format: "%+.1f", $0.element)) ppm" }.joined(separator: ", ") + "\n"
        text += "  latency: the receiver's host delivery instant − the host send instant the sender stamped into the message (CLOCK_MONOTONIC)\n"
        text += "  allowed: from (Δ − Π)/(1 + σ) − A (earliest) to (Δ + Π)/(1 − σ) + A (latest): Π = \(precision) (the schedule's), A = \(latenessAllowance) dispatch lateness, σ = \(rateError) (cluster time against host time: ρ and the correction slew)\n"
        text += "  clocks: " + (cluster.startup.map { "every node active \($0) after launch" } ?? "the cluster never had every node active")
        if let max = cluster.precisionMax, let p99 = cluster.precisionP99 {
            text += "; precision max \(max), p99 \(p99) over \(cluster.precisionSamples) rounds; measured ε = \(cluster.measuredReadingError?.description ?? "-")"
        }
        text += "\n" + cluster.latenessLines(schedule)
        var rows: [[String]] = []
        for pair in pairs {
            let bound = bounds.first { $0.message == pair.message }!
            let s = pair.statistics
            let measured = !pair.latencies.isEmpty
            rows.append([schedule.messages[pair.message].name, "\(name(bound.sender))→\(name(pair.receiver))", "\(pair.latencies.count)",
                         "\(pair.discarded + pair.unstamped)", measured ? "\(s.min)" : "-", measured ? "\(s.p50)" : "-", measured ? "\(s.p99)" : "-",
                         measured ? "\(s.max)" : "-", "\(bound.delta)", "\(bound.latest)", "\(pair.overDelta)", "\(pair.overLatest)", "\(pair.underEarliest)"])
        }
        text += ShowCommand.table(["message", "route", "delivered", "discarded", "min", "p50", "p99", "max", "Δ", "latest", "> Δ", "> latest", "< earliest"], rows)
        let all = deviations.flatMap(\.sorted)
        if let low = all.min(), let high = all.max() {
            let panel = HistogramPanel(axis: .linear(low: low.nanoseconds, high: high.nanoseconds), left: 0, top: 0, width: 1, height: 1, bins: 24)
            text += "  reading error of each sender's frames (arrival deviation − off_receiver + off_sender, every receiver; its spread is ε):\n"
            let rows = deviations.filter { !$0.sorted.isEmpty }.map { d -> [String] in
                let s = d.statistics
                return [name(d.sender), "\(d.sorted.count)", "\(s.min)", "\(s.p50)", "\(s.p99)", "\(s.max)", "\(d.spread!)",
                        "|" + LatencyReport.sparkline(panel.counts(d.sorted).counts) + "|"]
            }
            text += ShowCommand.table(["sender", "readings", "min", "p50", "p99", "max", "spread", "histogram \(low) … \(high), log counts"], rows)
        }
        if violations.isEmpty {
            text += "  every delivery between its earliest and latest\n"
        } else {
            for v in violations { text += "  VIOLATION: \(v)\n" }
        }
        return text
    }

    func json(path: String, setup: ClusterSetup, cluster: ClusterReport) -> JSON {
        let schedule = setup.schedule
        func ns(_ i: Interval?) -> JSON { i.map { .int($0.nanoseconds) } ?? .null }
        let messages = bounds.map { bound -> JSON in
            let receivers = pairs.filter { $0.message == bound.message }.map { pair -> JSON in
                .object([("node", .string(schedule.nodes[pair.receiver].name)), ("delivered", .int(Int64(pair.latencies.count))),
                         ("discarded", .int(Int64(pair.discarded))), ("unstamped", .int(Int64(pair.unstamped))),
                         ("latency_ns", pair.latencies.isEmpty ? .null : pair.statistics.json),
                         ("over_delta", .int(Int64(pair.overDelta))), ("over_latest", .int(Int64(pair.overLatest))),
                         ("under_earliest", .int(Int64(pair.underEarliest)))])
            }
            return .object([("message", .string(schedule.messages[bound.message].name)), ("sender", .string(schedule.nodes[bound.sender].name)),
                            ("delta_ns", .int(bound.delta.nanoseconds)), ("earliest_ns", .int(bound.earliest.nanoseconds)),
                            ("latest_ns", .int(bound.latest.nanoseconds)), ("receivers", .array(receivers))])
        }
        let senders = deviations.map { d -> JSON in
            let h = LatencyReport.histogram(d.sorted)
            return .object([("sender", .string(schedule.nodes[d.sender].name)), ("readings", .int(Int64(d.sorted.count))),
                            ("reading_error_ns", d.sorted.isEmpty ? .null : d.statistics.json), ("spread_ns", ns(d.spread)),
                            ("histogram", .object([("from_ns", .int(h.from)), ("bin_ns", .int(h.width)), ("counts", .array(h.counts.map { .int(Int64($0)) }))]))])
        }
        return .object([
            ("schedule", .string(path)), ("nodes", .int(Int64(schedule.nodes.count))), ("duration_ns", .int(setup.duration.nanoseconds)),
            ("injected_drift_ppm", .object(setup.drifts.enumerated().map { (schedule.nodes[$0.offset].name, JSON.double($0.element)) })),
            ("precision_bound_ns", .int(precision.nanoseconds)), ("rate_error_ppb", .int(rateError.partsPerBillion)),
            ("lateness_allowance_ns", .int(latenessAllowance.nanoseconds)),
            ("startup_ns", ns(cluster.startup)), ("precision_ns_max", ns(cluster.precisionMax)), ("precision_ns_p99", ns(cluster.precisionP99)),
            ("reading_error_ns", ns(cluster.measuredReadingError)), ("lateness_ns", cluster.latenessJSON(schedule)),
            ("messages", .array(messages)), ("reading_error_by_sender", .array(senders)),
            ("violations", .int(Int64(violations.count))), ("violation_list", .array(violations.map(JSON.string))),
        ])
    }
}

/// The latency picture: per message, its latencies at every receiver (log counts, p50/p99/max, Δ
/// and the latest allowed marked; later than that in the overflow bar); per sender, the reading
/// errors of its frames.
enum LatencyPlot {
    static func render(_ report: LatencyReport, title: String, schedule: Schedule) -> String {
        let column = 600.0, left = 80.0, panelHeight = 140.0, pitch = 215.0, top = 70.0
        let rows = max(report.bounds.count, report.deviations.count)
        var svg = HistogramPanel.documentStart(width: column * 2, height: top + pitch * Double(rows), left: left / 2, title: title)
        func heading(_ x: Double, _ y: Double, _ text: String) {
            svg += "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" font-size=\"13\">\(SVGTimeline.escape(text))</text>\n"
        }
        for (i, bound) in report.bounds.enumerated() {
            let latencies = report.pairs.filter { $0.message == bound.message }.flatMap(\.latencies).sorted()
            let y = top + pitch * Double(i)
            let receivers = bound.destinations.map { schedule.nodes[$0].name }.joined(separator: ", ")
            heading(left, y - 8, "\(schedule.messages[bound.message].name) (\(schedule.nodes[bound.sender].name) → \(receivers)): \(latencies.count) deliveries")
            guard let first = latencies.first else { continue }
            let low = min(first, bound.delta).nanoseconds, high = bound.latest.nanoseconds
            let panel = HistogramPanel(axis: .linear(low: low - (high - low) / 50, high: high), left: left, top: y, width: column - left - 40, height: panelHeight)
            let s = LatencyStatistics(sorted: latencies, overrunAbove: nil)
            var markers = [HistogramPanel.Marker(label: "p50", value: s.p50, color: "#228833", row: 0),
                           HistogramPanel.Marker(label: "p99", value: s.p99, color: "#ccbb44", row: 1),
                           HistogramPanel.Marker(label: "Δ", value: bound.delta, color: "black", dashed: false, row: 3),
                           HistogramPanel.Marker(label: "latest", value: bound.latest, color: "#cc3311", dashed: false, row: 4, labelOnLeft: true)]
            if s.max <= bound.latest { markers.append(HistogramPanel.Marker(label: "max", value: s.max, color: "#aa3377", row: 2)) }
            svg += panel.render(latencies, markers: markers, noun: "deliveries")
        }
        for (i, d) in report.deviations.enumerated() {
            let y = top + pitch * Double(i), x = column + left
            heading(x, y - 8, "frames of \(schedule.nodes[d.sender].name): reading error, \(d.sorted.count) readings, spread \(d.spread?.description ?? "-")")
            guard let first = d.sorted.first, let last = d.sorted.last else { continue }
            let panel = HistogramPanel(axis: .linear(low: first.nanoseconds, high: last.nanoseconds), left: x, top: y, width: column - left - 40, height: panelHeight)
            let s = d.statistics
            let markers = [HistogramPanel.Marker(label: "p50", value: s.p50, color: "#228833", row: 0),
                           HistogramPanel.Marker(label: "p99", value: s.p99, color: "#ccbb44", row: 1)]
            svg += panel.render(d.sorted, markers: markers, noun: "readings")
        }
        return svg + "</svg>\n"
    }
}
