// `takt demo` (issue #6): the simulated demo through the command line — report, JSON, plot,
// determinism, bad usage — and the demo over real processes (in the serialized cluster suite).

import Foundation
import Testing
import TaktTestSupport

@Suite("takt demo --simulated", .hostShared)
struct DemoCommandTests {
    @Test func theSimulatedDemoReportsJSONAndAPlotAndTheSameSeedGivesTheSameReport() throws {
        let svg = temporaryFile("demo.svg", "")
        let (status, out, err) = try taktProcess(["demo", "--simulated", "--json", "--svg", svg])
        #expect(status == 0, "\(err)")
        let report = try jsonObject(out)
        #expect(report["violations"] as? Int == 0)
        #expect(report["commands_masked"] as? Int == 1)
        #expect(report["state_repairs"] as? Int == 1)
        #expect(report["actuations_without_majority"] as? Int == 0)
        let rounds = try #require(report["reintegration_rounds"] as? Int)
        #expect(rounds >= 1 && rounds <= 3)
        #expect(try #require(report["control_error_rms_after"] as? Double) < 0.01)
        #expect((report["samples"] as? Int ?? 0) > 2_400)
        let picture = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(picture.hasPrefix("<svg") && picture.contains("kill -9 c2") && picture.contains("polyline"))
        let (_, again, _) = try taktProcess(["demo", "--simulated", "--json", "--svg", svg])
        #expect(again == out)
        let (_, other, _) = try taktProcess(["demo", "--simulated", "--json", "--svg", "-", "--seed", "2"])
        #expect(other != out)
    }

    @Test func theTextReportNamesEveryFaultAndItsHandling() throws {
        let (status, out, _) = try taktProcess(["demo", "--simulated", "--svg", "-"])
        #expect(status == 0)
        for phrase in ["kill -9 c2", "restart c2", "sensor value to c3 corrupted", "faults masked: 1 outvoted command",
                       "1 replica state repaired", "reintegration: the restarted replica's command counted again",
                       "every checked guarantee held"] {
            #expect(out.contains(phrase), "missing '\(phrase)' in:\n\(out)")
        }
    }

    @Test(arguments: [["demo", "extra"], ["demo", "--duration", "1s"], ["demo", "--seed", "x"], ["demo", "--schedule", "/nonexistent.takt"],
                      ["demo", "--simulated", "--schedule", packageRoot + "/Schedules/minimal.takt"], ["demo", "--simulated", "--priority", "50"],
                      ["demo", "--priority", "0"]])
    func badUsageExitsTwo(_ arguments: [String]) throws {
        let (status, _, err) = try taktProcess(arguments)
        #expect(status == 2, "\(arguments): \(err)")
        #expect(err.contains("error"))
    }
}

extension ClusterCommandTests {
    /// The demo over four real processes: a controller killed and restarted (the run stops before
    /// the sensor corruption: 13 s of control), every checked guarantee held, the restarted
    /// replica restored its checkpoint and counted again.
    /// A debug-built cluster on a shared two-core VM now and then loses most of a run to host
    /// stalls (every node frozen, cold starts that collide): up to three runs, each failed one
    /// printed, the last one judged — as NamespaceTests and the latency benchmark do.
    @Test func theDemoOverRealProcessesMasksAKilledControllerAndReintegratesIt() throws {
        var (status, out, err) = try taktProcess(["demo", "--duration", "13s", "--json", "--svg", "-"] + realTimeNodes)
        for attempt in 2...3 where status != 0 {
            print("DemoCommandTests: run \(attempt - 1) exited \(status): \(out.prefix(600))")
            (status, out, err) = try taktProcess(["demo", "--duration", "13s", "--json", "--svg", "-"] + realTimeNodes)
        }
        #expect(status == 0, "\(err)")
        let report = try jsonObject(out)
        #expect(report["violations"] as? Int == 0)
        #expect(report["reintegration_rounds"] as? Int != nil, "\(err)")
        #expect((report["missing_votes"] as? Int ?? 0) >= 250)  // c2 down for 3 s = 300 rounds
        #expect((report["samples"] as? Int ?? 0) > 500)  // of ~1,300: a host that stalls a process (debug build, shared VM) loses rounds
        let precision = try #require(report["precision_ns_max"] as? Int), bound = try #require(report["precision_bound_ns"] as? Int)
        #expect(precision > 0 && precision <= bound)
    }
}
