// ClusterReport on hand-made records: what `takt cluster` concludes from its nodes' records about
// detection — on the host and on the nodes' schedules — without running a cluster.

import Testing
import TaktTestSupport
@testable import TaktCLI
import TaktRuntime
import TaktTime

@Suite("Cluster report: detection on the host and on the schedule", .hostShared)
struct ClusterReportTests {
    /// Four nodes (loopback.takt: 10 ms rounds), clocks equal to the host's, one round-end record a
    /// node every round for 1 s. c stops at 500 ms for 30 ms; every other node leaves it out of
    /// its membership at `detectedAt(node)` (due at `dueAt(node)`) and takes it back 60 ms later.
    func report(detectedAt: (Int) -> Interval, dueAt: (Int) -> Interval,
                faults extra: [(Int, Interval, ClusterCommand.FaultAction)] = []) throws -> ClusterReport {
        let (schedule, derived) = try loadSchedule("loopback.takt")
        let collector = RecordCollector(nodes: 4)
        let c = 2, t0 = Interval.milliseconds(500), back = Interval.milliseconds(590)
        func record(_ kind: RecordKind, _ node: Int, _ at: Interval, due: Interval? = nil, members: [Int]) -> NodeRecord {
            let word = members.reduce(UInt64(0)) { $0 | 1 << UInt64($1) }
            return NodeRecord(kind: kind, status: 3, node: node, mode: 0, round: UInt64(at.nanoseconds / 10_000_000),
                              host: LocalInstant(nanoseconds: at.nanoseconds), cluster: at.nanoseconds, membership: (word, 0, 0, 0),
                              counters: NodeCounters(), planned: LocalInstant(nanoseconds: (due ?? at).nanoseconds))
        }
        for node in 0..<4 {
            var list: [NodeRecord] = []
            for k in 1...100 {
                let at = Interval.milliseconds(Int64(k * 10)) + .microseconds(Int64(node))
                if node == c && at > t0 && at < t0 + .milliseconds(30) { continue }  // stopped
                let out = node != c && at >= detectedAt(node) && at < back
                list.append(record(.roundEnd, node, at, members: out ? [0, 1, 3] : [0, 1, 2, 3]))
            }
            if node != c {
                list.append(record(.membershipChange, node, detectedAt(node), due: dueAt(node), members: [0, 1, 3]))
                list.sort { $0.host < $1.host }
            }
            collector.add(list, node: node)
        }
        return ClusterReport.analyze(collector: collector, schedule: schedule, derived: derived, start: .zero, duration: .seconds(1),
                                     driftSpread: 100, faults: [(c, t0, .stop(.milliseconds(30)))] + extra)
    }

    @Test func aDetectingNodeTheHostRanLateIsJudgedOnItsSchedule() throws {
        // b decided on time (1.2 rounds after the stop) but ran 23 ms late.
        let r = try report(detectedAt: { $0 == 1 ? .milliseconds(535) : .milliseconds(512) }, dueAt: { _ in .milliseconds(512) })
        let d = try #require(r.detections.first)
        #expect(abs((d.rounds ?? 0) - 3.5) < 0.01 && abs((d.scheduled ?? 0) - 1.2) < 0.01)
        #expect(!r.violations.contains { $0.contains("detected") }, "\(r.violations)")
        let out = StringSink()
        var console = Console(out: out, err: StringSink(), interactive: false)
        r.print(json: false, path: "x", schedule: try loadSchedule("loopback.takt").0, events: [], drifts: [0, 0, 0, 0], logs: [], console: &console)
        #expect(out.text.contains("after 3.50 rounds (1.20 on their schedules; the other 23.0 ms: this host ran them late)"))
    }

    @Test func aDetectionLateOnTheScheduleIsAViolation() throws {
        let r = try report(detectedAt: { $0 == 1 ? .milliseconds(535) : .milliseconds(512) },
                           dueAt: { $0 == 1 ? .milliseconds(535) : .milliseconds(512) })
        #expect(abs((r.detections.first?.scheduled ?? 0) - 3.5) < 0.01)
        #expect(r.violations.contains { $0.contains("detected after 3.50 rounds on the detecting nodes' schedules") }, "\(r.violations)")
    }

    @Test func aFaultWithoutWitnessesIsNotMeasuredRatherThanZero() throws {
        // a, b and d are themselves stopped at the same instant: nobody is left to witness c's fault.
        let r = try report(detectedAt: { _ in .milliseconds(512) }, dueAt: { _ in .milliseconds(512) },
                           faults: [0, 1, 3].map { ($0, .milliseconds(500), .stop(.milliseconds(30))) })
        #expect(r.detections.allSatisfy { $0.rounds == nil && !$0.witnessed })
        #expect(r.unmeasured.count == 4)
        #expect(!r.violations.contains { $0.contains("detected") }, "\(r.violations)")
    }
}
