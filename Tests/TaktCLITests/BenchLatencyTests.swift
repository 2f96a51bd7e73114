// `takt bench latency`: bad input refused before any process starts (in-process), the analysis
// and its text and JSON on known inputs, and one short real run on loopback.takt (a test of the
// real-cluster suite: it runs alone on this host, see TaktTestSupport's HostGate).

import Foundation
import Glibc
import Testing
import TaktTestSupport
@testable import TaktCLI
import TaktRuntime
import TaktSchedule
import TaktTime

@Suite("takt bench latency", .hostShared)
struct BenchLatencyTests {
    let schedule = packageRoot + "/Schedules/loopback.takt"

    @Test func badInputExitsTwoBeforeAnyProcessStarts() throws {
        let narrow = temporaryFile("narrow.takt", try String(contentsOfFile: schedule, encoding: .utf8)
            .replacingOccurrences(of: "message state_c { sender = c; size = 16 bytes", with: "message state_c { sender = c; size = 4 bytes"))
        let unwritable = "/nonexistent-takt-dir/out"
        let cases: [([String], String)] = [
            (["bench", "latency"], "takes a schedule file"),
            (["bench", "latency", schedule, schedule], "one schedule file"),
            (["bench", "latency", "/nonexistent.takt"], "no such file"),
            (["bench", "latency", schedule, "--loops", "5"], "--loops does not apply to bench latency"),
            (["bench", "latency", schedule, "--allowance", "lots"], "--allowance takes"),
            (["bench", "latency", schedule, "--duration", "0s"], "--duration takes"),
            (["bench", "latency", schedule, "--drift-spread", "-3"], "--drift-spread takes"),
            (["bench", "latency", schedule, "--medium", "carrier-pigeon"], "--medium takes"),
            (["bench", "latency", schedule, "--port", "80"], "--port takes"),
            (["bench", "latency", narrow], "'state_c' (4 bytes) is shorter"),
            (["bench", "latency", schedule, "--json", unwritable + ".json"], "cannot write --json"),
            (["bench", "latency", schedule, "--svg", unwritable + ".svg"], "cannot write --svg"),
            (["node", schedule, "--node", "a", "--latency-records"], "give --records too"),
            (["node", narrow, "--node", "a", "--records", "--latency-records"], "needs messages of at least 8 bytes"),
        ]
        for (arguments, expected) in cases {
            let out = StringSink(), err = StringSink()
            var console = Console(out: out, err: err, interactive: false)
            let status = TaktCommand.run(arguments, console: &console)
            #expect(status == 2, "\(arguments): \(err.text.prefix(300))")
            #expect(err.text.contains(expected), "\(arguments): \(err.text.prefix(300))")
            #expect(out.text.isEmpty)
        }
        // An invalid schedule is read but invalid: 1, as for every subcommand.
        let invalid = temporaryFile("invalid.takt", "cluster x { round = 1 ms }\n")
        #expect(takt("bench", "latency", invalid).0 == 1)
    }

    /// loopback.takt's report from made-up entries: state_a at b gets latencies Δ − 500 us + k us for
    /// k = 1 … 1000, plus one 50 ms delivery (a stalled receiver) and one of 1 ms (impossible).
    func knownReport() throws -> (LatencyReport, ClusterSetup, Schedule) {
        let (loaded, failure) = { var c = Console(out: StringSink(), err: StringSink(), interactive: false); return loadValidSchedule(schedule, console: &c) }()
        #expect(failure == nil)
        let s = try #require(loaded.schedule), derived = try #require(loaded.derived)
        let allowance = Interval.microseconds(625)
        let rateError = LatencyReport.rateError(schedule: s, derived: derived, driftSpread: 100)
        #expect(rateError == .partsPerMillion(10_150), "ρ = 150 ppm (above the 100 ppm spread) + the 1 % slew")
        #expect(LatencyReport.rateError(schedule: s, derived: derived, driftSpread: 400) == .partsPerMillion(10_400))
        let bounds = LatencyReport.bounds(schedule: s, derived: derived, rateError: rateError, latenessAllowance: allowance)
        let delta = bounds[0].delta
        var entries = [[LatencyEntry]](repeating: [], count: 4)
        let sent = LocalInstant(nanoseconds: 1_000_000_000)
        for k in 1...1_000 {
            entries[1].append(LatencyEntry(message: 0, outcome: .delivered, instance: UInt32(k), sent: sent, delivered: sent + delta - .microseconds(500) + .microseconds(Int64(k))))
        }
        entries[1].append(LatencyEntry(message: 0, outcome: .delivered, instance: 1_001, sent: sent, delivered: sent + .milliseconds(50)))
        entries[1].append(LatencyEntry(message: 0, outcome: .delivered, instance: 1_002, sent: sent, delivered: sent + .milliseconds(1)))
        entries[1].append(LatencyEntry(message: 0, outcome: .discarded, instance: 1_003, sent: .zero, delivered: sent))
        entries[1].append(LatencyEntry(message: 0, outcome: .unstamped, instance: 1_004, sent: .zero, delivered: sent))
        // Every other message at every other receiver: one delivery exactly at Δ.
        for m in 0..<4 {
            for r in s.messages[m].destinations where !(m == 0 && r == 1) {
                entries[r].append(LatencyEntry(message: m, outcome: .delivered, instance: 7, sent: sent, delivered: sent + delta))
            }
        }
        // Reading errors of a's frames: −10 us … +10 us in 1 us steps; the others' none.
        let readings: [[Int64]] = [(-10...10).map { Int64($0) * 1_000 }, [], [], []]
        let report = LatencyReport.analyze(entries: entries, readingErrors: readings, bounds: bounds, schedule: s, derived: derived,
                                           rateError: rateError, latenessAllowance: allowance)
        let setup = try ClusterSetup(ParsedArguments(), path: schedule, schedule: s)
        return (report, setup, s)
    }

    @Test func percentilesCountsAndBoundsOfKnownInputs() throws {
        let (report, _, s) = try knownReport()
        let bound = report.bounds[0]
        // Δ of loopback.takt: one 2.5 ms slot + Π (506 us); the window [(Δ − Π)/(1 + σ) − A, (Δ + Π)/(1 − σ) + A]
        // with σ = 1.015 %: ⌈3512 us / 0.98985⌉ + 625 us and ⌊2500 us / 1.01015⌋ − 625 us.
        #expect(bound.delta == .microseconds(3_006))
        #expect(bound.latest == .nanoseconds(4_173_013) && bound.earliest == .nanoseconds(1_849_879))
        #expect(report.bounds.count == 4 && report.pairs.count == 12, "4 messages to 3 receivers each")
        let pair = try #require(report.pairs.first { $0.message == 0 && $0.receiver == 1 })
        #expect(pair.latencies.count == 1_002 && pair.discarded == 1 && pair.unstamped == 1)
        let st = pair.statistics
        // Nearest rank over 1,002 sorted samples: 1 ms, then Δ − 499 us … Δ + 500 us, then 50 ms.
        #expect(st.min == .milliseconds(1) && st.max == .milliseconds(50))
        #expect(st.p50 == bound.delta - .microseconds(500) + .microseconds(500))   // rank 501: k = 500
        #expect(st.p99 == bound.delta - .microseconds(500) + .microseconds(991))   // rank ⌈991.98⌉ = 992: k = 991
        #expect(pair.overDelta == 501, "k = 501 … 1000 and the 50 ms one")
        #expect(pair.overLatest == 1 && pair.underEarliest == 1)
        // The stalled and the impossible delivery are violations; the other 11 pairs are clean.
        #expect(report.violations.count == 2, "\(report.violations)")
        #expect(report.violations.contains { $0.contains("1 of 1002 deliveries of 'state_a' at b came later than") })
        #expect(report.violations.contains { $0.contains("1 of 1002 deliveries of 'state_a' at b came earlier than") })
        for other in report.pairs where !(other.message == 0 && other.receiver == 1) {
            #expect(other.latencies == [bound.delta] && other.overDelta == 0, "\(s.messages[other.message].name) at \(other.receiver)")
        }
        // Reading errors: 21 readings of a, spread 20 us; 40 bins would be 500 ns wide, from −10 us.
        let a = report.deviations[0]
        #expect(a.sorted.count == 21 && a.spread == .microseconds(20) && a.statistics.p50 == .zero)
        let h = LatencyReport.histogram(a.sorted)
        #expect(h.from == -10_000 && h.width == 500 && h.counts.count == 41 && h.counts.enumerated().allSatisfy { $0.element == ($0.offset % 2 == 0 ? 1 : 0) })
        let skewed = LatencyReport.histogram([.nanoseconds(-7), .nanoseconds(-7), .nanoseconds(95)], bins: 10)
        #expect(skewed.width == 20 && skewed.from == -20 && skewed.counts == [2, 0, 0, 0, 0, 1])
        #expect(LatencyReport.sparkline([0, 1, 10, 100]) == " ▁▄█")
        #expect(HistogramPanel.niceStep(1) == 1 && HistogramPanel.niceStep(3) == 5 && HistogramPanel.niceStep(101) == 200 && HistogramPanel.niceStep(2_000) == 2_000)
        // A receiver that measured nothing is a violation too.
        let empty = LatencyReport.analyze(entries: [[], [], [], []], readingErrors: [[], [], [], []], bounds: report.bounds, schedule: s,
                                          derived: try #require(ScheduleChecker.check(try String(contentsOfFile: schedule, encoding: .utf8)).derived),
                                          rateError: report.rateError, latenessAllowance: .microseconds(625))
        #expect(empty.violations.count == 12 && empty.violations.allSatisfy { $0.hasPrefix("no delivery of") })
    }

    @Test func textAndJSONShapes() throws {
        let (report, setup, _) = try knownReport()
        let text = report.text(path: "loopback.takt", setup: setup, cluster: ClusterReport())
        #expect(text.hasPrefix("takt bench latency loopback.takt: 4 nodes as processes on this host for 10 s; injected drift a "))
        #expect(text.contains("allowed: from (Δ − Π)/(1 + σ) − A (earliest) to (Δ + Π)/(1 − σ) + A (latest): Π = 506 us (the schedule's), A = 625 us dispatch lateness, σ = 10150 ppm"))
        #expect(text.contains("message  route  delivered  discarded  min"))
        let rowA = try #require(text.split(separator: "\n").first { $0.contains("state_a  a→b") })
        #expect(rowA.contains("1002") && rowA.contains("1 ms") && rowA.contains("50 ms") && rowA.contains("3.006 ms") && rowA.contains("4173.013 us") && rowA.hasSuffix("501  1         1"))
        #expect(text.contains("reading error of each sender's frames"))
        #expect(text.contains("  a       21        -10 us  0 ns  10 us  10 us  20 us   |"))
        #expect(text.contains("VIOLATION: 1 of 1002 deliveries of 'state_a' at b came later than"))

        let json = try jsonObject(report.json(path: "loopback.takt", setup: setup, cluster: ClusterReport()).serialized(pretty: true))
        #expect(json["precision_bound_ns"] as? Int == 506_000 && json["lateness_allowance_ns"] as? Int == 625_000 && json["rate_error_ppb"] as? Int == 10_150_000)
        #expect(json["violations"] as? Int == 2 && (json["violation_list"] as? [String])?.count == 2)
        let messages = try #require(json["messages"] as? [[String: Any]])
        #expect(messages.map { $0["message"] as? String } == ["state_a", "state_b", "state_c", "state_d"])
        #expect(messages[0]["delta_ns"] as? Int == 3_006_000 && messages[0]["sender"] as? String == "a")
        let receivers = try #require(messages[0]["receivers"] as? [[String: Any]])
        #expect(receivers.map { $0["node"] as? String } == ["b", "c", "d"])
        let b = receivers[0]
        #expect(b["delivered"] as? Int == 1_002 && b["discarded"] as? Int == 1 && b["unstamped"] as? Int == 1)
        #expect(b["over_delta"] as? Int == 501 && b["over_latest"] as? Int == 1 && b["under_earliest"] as? Int == 1)
        let latency = try #require(b["latency_ns"] as? [String: Int])
        #expect(latency["p50"] == 3_006_000 && latency["min"] == 1_000_000 && latency["max"] == 50_000_000)
        let senders = try #require(json["reading_error_by_sender"] as? [[String: Any]])
        #expect(senders.count == 4 && senders[0]["readings"] as? Int == 21 && senders[0]["spread_ns"] as? Int == 20_000)
        #expect(senders[1]["reading_error_ns"] is NSNull)
        let histogram = try #require(senders[0]["histogram"] as? [String: Any])
        #expect(histogram["bin_ns"] as? Int == 500 && (histogram["counts"] as? [Int])?.reduce(0, +) == 21)

        let svg = LatencyPlot.render(report, title: "known", schedule: setup.schedule)
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        for name in ["state_a (a → b, c, d)", "frames of a: reading error, 21 readings, spread 20 us", "p50", "latest", "Δ 3.006 ms"] { #expect(svg.contains(name), "\(name)") }
        #expect(svg.contains("1 deliveries above"), "the 50 ms delivery is in the overflow bar")
    }
}

extension ClusterCommandTests {
    /// A real cluster for 4 s (about 400 rounds), measured by `takt bench latency`. Exit 1 is
    /// allowed — a host stall makes a delivery late, which is the benchmark's finding, not a bug —
    /// but every message is measured at every receiver, no latency is impossible (earlier than
    /// Δ − Π − A), and the median of every pair lies in the allowed window. A run that measured
    /// too little (the host was too busy for the cluster to form: another build, the VM's neighbours) is
    /// repeated, up to three runs, as NamespaceTests does.
    @Test func benchLatencyMeasuresEveryMessageAtEveryReceiver() throws {
        let json = temporaryFile("latency.json", ""), svg = temporaryFile("latency.svg", "")
        let port = testPort(0) + 3_000
        func pairs(_ report: [String: Any]) -> [(message: [String: Any], receiver: [String: Any])] {
            ((report["messages"] as? [[String: Any]]) ?? []).flatMap { m in ((m["receivers"] as? [[String: Any]]) ?? []).map { (m, $0) } }
        }
        var status: Int32 = 0, out = "", err = "", report: [String: Any] = [:]
        for attempt in 1...3 {
            (status, out, err) = try taktProcess(["bench", "latency", schedule, "--duration", "4s", "--spin", "10us",
                                                  "--port", "\(port)", "--json", json, "--svg", svg] + realTimeNodes)
            report = (try? jsonObject(String(decoding: FileManager.default.contents(atPath: json) ?? Data(), as: UTF8.self))) ?? [:]
            let measured = pairs(report).map { $0.receiver["delivered"] as? Int ?? 0 }
            if measured.count == 12 && measured.allSatisfy({ $0 >= 40 }) { break }
            print("benchLatency: run \(attempt) measured \(measured) deliveries per pair (exit \(status)); the host was busy\n\(out)")
        }
        #expect(status == 0 || status == 1, "\(err.prefix(500))")
        #expect(out.contains("takt bench latency") && out.contains("message  route  delivered"), "\(out.prefix(500))")
        #expect(pairs(report).count == 12, "4 messages to 3 receivers each")
        for (message, r) in pairs(report) {
            let name = "\(message["message"] ?? "?") at \(r["node"] ?? "?")"
            let earliest = try #require(message["earliest_ns"] as? Int), latest = try #require(message["latest_ns"] as? Int)
            #expect((r["delivered"] as? Int ?? 0) >= 40, "\(name): \(r)\n\(out)")
            #expect(r["under_earliest"] as? Int == 0, "\(name): \(r)")
            let latency = try #require(r["latency_ns"] as? [String: Int], "\(name)")
            #expect((latency["min"] ?? 0) > 0, "\(name)")
            #expect((latency["p50"] ?? 0) >= earliest && (latency["p50"] ?? .max) <= latest, "\(name): p50 \(latency["p50"] ?? 0) outside [\(earliest), \(latest)]")
        }
        let senders = try #require(report["reading_error_by_sender"] as? [[String: Any]])
        #expect(senders.count == 4 && senders.allSatisfy { ($0["readings"] as? Int ?? 0) > 0 }, "\(out)")
        let picture = String(decoding: try #require(FileManager.default.contents(atPath: svg)), as: UTF8.self)
        #expect(picture.hasPrefix("<svg") && picture.contains("state_d (d → a, b, c)"))
        #expect(nodeProcesses(port: port) == 0, "no node outlives the run")
    }
}
