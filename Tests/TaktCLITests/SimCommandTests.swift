// `takt sim`: report shape, exit statuses, determinism.

import Foundation
import Testing
import TaktTestSupport
import TaktCLI

@Suite("takt sim", .hostShared)
struct SimCommandTests {
    func json(_ out: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
    }

    @Test func jsonReportHasTheDocumentedFieldsAndIsDeterministic() throws {
        let path = packageRoot + "/Schedules/minimal.takt"
        let (status, out, _) = takt("sim", path, "--rounds", "500", "--seed", "9", "--crash", "b@100", "--json")
        #expect(status == 0)
        let report = try json(out)
        for key in ["violations", "precision_ns_max", "precision_ns_p99", "precision_bound_ns", "detection_rounds_max", "state_hash"] {
            #expect(report[key] != nil, "missing \(key)")
        }
        #expect(report["violations"] as? Int == 0)
        #expect((report["precision_ns_max"] as? Int ?? .max) <= (report["precision_bound_ns"] as? Int ?? 0))
        #expect((report["detection_rounds_max"] as? Double ?? 9) <= 1.25)
        let (_, again, _) = takt("sim", path, "--rounds", "500", "--seed", "9", "--crash", "b@100", "--json")
        #expect(try json(again)["state_hash"] as? String == report["state_hash"] as? String)
        let (_, other, _) = takt("sim", path, "--rounds", "500", "--seed", "10", "--crash", "b@100", "--json")
        #expect(try json(other)["state_hash"] as? String != report["state_hash"] as? String)
    }

    @Test func coldStartReportsTheStartupTimeAgainstItsBound() throws {
        let path = packageRoot + "/Schedules/minimal.takt"
        let (status, out, err) = takt("sim", path, "--rounds", "200", "--cold-start", "3ms", "--json")
        #expect(status == 0, "\(err)")
        let report = try json(out)
        let startup = try #require(report["startup_ns"] as? Int), bound = try #require(report["startup_bound_ns"] as? Int)
        #expect(startup > 0 && startup <= bound)
        #expect(report["recovered"] as? Bool == true)
        let (_, text, _) = takt("sim", path, "--rounds", "200", "--cold-start", "3 ms")
        #expect(text.contains("cold start: cluster up") && text.contains("worst-case bound"))
        #expect(takt("sim", path, "--cold-start", "3 parsecs").0 == 2)
        #expect(takt("sim", path, "--cold-start", "soon").0 == 2)
    }

    @Test func textReportAndUsageErrors() {
        let path = packageRoot + "/Schedules/tmr.takt"
        let (status, out, _) = takt("sim", path, "--rounds", "200")
        #expect(status == 0)
        #expect(out.contains("no violation"))
        #expect(out.contains("bound Π = 16.5 us"))
        #expect(takt("sim").0 == 2)
        #expect(takt("sim", path, "--crash", "nobody@3").0 == 2)
        #expect(takt("sim", path, "--rounds", "zero").0 == 2)
        #expect(takt("sim", "/nonexistent.takt").0 == 2)
    }
}

@Suite("takt sim --scenario", .hostShared)
struct SimScenarioCommandTests {
    @Test func scenarioFileDrivesTheRunAndBadOnesExitTwo() {
        let schedule = packageRoot + "/Schedules/tmr.takt"
        let (status, out, err) = takt("sim", schedule, "--scenario", packageRoot + "/Schedules/tmr-faults.scenario", "--rounds", "600")
        #expect(status == 0, "\(err)")
        #expect(out.contains("600 rounds, seed 7"))
        #expect(out.contains("reintegration after restart"))
        let bad = temporaryFile("bad.scenario", "scenario s { seed = 1 }\nfault a { kind = crash; node = nobody; at = 1 rounds }\n")
        let (badStatus, _, badErr) = takt("sim", schedule, "--scenario", bad)
        #expect(badStatus == 2)
        #expect(badErr.contains("bad.scenario:2:32: error[E203]"))
        #expect(takt("sim", schedule, "--scenario", "/nonexistent.scenario").0 == 2)
    }
}

@Suite("takt sim --trace", .hostShared)
struct SimTraceCommandTests {
    @Test func traceIsTraceEventJSONAndDeterministic() throws {
        let schedule = packageRoot + "/Schedules/tmr.takt"
        let first = temporaryFile("trace1.json", ""), second = temporaryFile("trace2.json", "")
        for path in [first, second] {
            let (status, _, err) = takt("sim", schedule, "--rounds", "150", "--crash", "c2@20", "--restart", "c2@40", "--trace", path)
            #expect(status == 0, "\(err)")
        }
        let data = try #require(FileManager.default.contents(atPath: first))
        #expect(data == FileManager.default.contents(atPath: second))  // same seed, same trace
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let events = try #require(object["traceEvents"] as? [[String: Any]])
        let phases = Set(events.compactMap { $0["ph"] as? String })
        #expect(phases.isSuperset(of: ["M", "X", "C", "i"]))
        let names = events.compactMap { $0["name"] as? String }
        #expect(names.contains("crash c2") && names.contains("restart c2"))
        #expect(names.contains("missing frame of c2"))
        #expect(names.filter { $0 == "thread_name" }.count == 5)
        #expect(takt("sim", schedule, "--rounds", "10", "--trace", "/nonexistent/dir/t.json").0 == 2)
    }
}
