// Scenario files: parsing with positions, every fault kind, and the shipped examples.

import Foundation
import Testing
import TaktTestSupport
import TaktSchedule
import TaktSim
import TaktTime

@Suite("Scenario files", .hostShared)
struct ScenarioTests {
    @Test func everyFaultKindParses() throws {
        let (schedule, _) = try loadSchedule("tmr.takt")
        let text = """
        scenario s { seed = 9; rounds = 500 rounds; random_faults = yes }
        fault a { kind = crash; node = c1; at = 10 rounds }
        fault b { kind = restart; node = c1; at = 20 rounds }
        fault c { kind = omission; node = sensor; at = 30 rounds }
        fault d { kind = asymmetric; node = c2; at = 40 rounds; to = c3, actuator }
        fault e { kind = two_faced; node = c3; at = 50 rounds; skew = 5 us }
        """
        let (scenario, diagnostics) = ScenarioParser.parse(text, schedule: schedule)
        #expect(diagnostics.isEmpty, "\(diagnostics.map { $0.rendered(path: "s") })")
        let s = try #require(scenario)
        #expect(s.seed == 9 && s.rounds == 500 && s.randomFaults)
        #expect(s.faults == [.crash(node: 2, round: 10), .restart(node: 2, round: 20), .sendOmission(node: 0, round: 30),
                             .asymmetric(node: 3, round: 40, receivers: [4, 1]), .twoFaced(node: 4, round: 50, skew: .microseconds(5))])
    }

    @Test func theOtherFaultKindsAndStartSettingsParse() throws {
        let (schedule, _) = try loadSchedule("modes.takt")
        let text = """
        scenario s { rounds = 50 rounds; power_on = 3 ms; bus_loss = 250 ppm; bus_corruption = 10 ppm }
        fault a { kind = receive_omission; node = ctrl_a; at = 5 rounds; for = 2 rounds }
        fault b { kind = late_send; node = sensor; at = 6 rounds; delay = 30 us }
        fault c { kind = babbling; node = ctrl_b; at = 7 rounds; for = 3 rounds }
        fault d { kind = partition; at = 8 rounds; for = 4 rounds; side = sensor, ctrl_a }
        fault e { kind = clock_step; node = actuator; at = 9 rounds; step = 150 us; direction = behind }
        fault f { kind = mode_change; node = sensor; at = 10 rounds; mode = degraded }
        """
        let (scenario, diagnostics) = ScenarioParser.parse(text, schedule: schedule)
        #expect(diagnostics.isEmpty, "\(diagnostics.map { $0.rendered(path: "s") })")
        let s = try #require(scenario)
        #expect(s.start == .coldStart(powerOnSpread: .milliseconds(3)) && s.busLossPerMillion == 250 && s.busCorruptionPerMillion == 10)
        #expect(s.faults == [.receiveOmission(node: 1, round: 5, rounds: 2), .lateSend(node: 0, round: 6, delay: .microseconds(30)),
                             .babbling(node: 2, round: 7, rounds: 3), .partition(groups: [[0, 1]], round: 8, rounds: 4),
                             .clockStep(node: 3, round: 9, step: .microseconds(-150)), .modeChange(node: 0, round: 10, mode: 1)])
        let bad: [(String, DiagnosticCode)] = [
            ("fault a { kind = babbling; node = ctrl_a; at = 1 rounds }", .missingProperty),
            ("fault a { kind = partition; at = 1 rounds; for = 2 rounds }", .missingProperty),
            ("fault a { kind = mode_change; node = sensor; at = 1 rounds; mode = degradd }", .unknownName),
            ("fault a { kind = late_send; node = sensor; at = 1 rounds; delay = 0 us }", .outOfRange),
            ("fault a { kind = clock_step; node = sensor; at = 1 rounds; step = 1 us; direction = sideways }", .wrongValueKind),
        ]
        for (fault, code) in bad {
            let (parsed, d) = ScenarioParser.parse("scenario s { seed = 1 }\n" + fault, schedule: schedule)
            #expect(parsed == nil && d.contains { $0.code == code }, "\(fault): \(d.map { $0.code.rawValue })")
        }
    }

    @Test func errorsPointAtTheToken() throws {
        let (schedule, _) = try loadSchedule("tmr.takt")
        let cases: [(String, DiagnosticCode, Int, Int)] = [
            ("scenario s { seed = 1 }\nfault a { kind = crash; node = c9; at = 1 rounds }", .unknownName, 2, 32),
            ("scenario s { seed = 1 }\nfault a { kind = crsh; node = c1; at = 1 rounds }", .wrongValueKind, 2, 18),
            ("scenario s { seed = 1 }\nfault a { kind = crash; node = c1 }", .missingProperty, 2, 7),
            ("scenario s { rounds = 100 }", .missingUnit, 1, 23),
            ("scenario s { rounds = 100 ms }", .wrongValueKind, 1, 27),
            ("scenario s { colour = 1 }", .unknownProperty, 1, 14),
            ("fault a { kind = crash; node = c1; at = 1 rounds }", .missingCluster, 1, 1),
            ("scenario s { seed = 1 }\nfault a { kind = two_faced; node = c1; at = 1 rounds }", .missingProperty, 2, 7),
            ("scenario s { seed = 1 }\nfalut a { }", .unknownDeclaration, 2, 1),
        ]
        for (text, code, line, column) in cases {
            let (scenario, diagnostics) = ScenarioParser.parse(text, schedule: schedule)
            #expect(scenario == nil, "\(text)")
            #expect(diagnostics.contains { $0.code == code && $0.location == TaktSchedule.SourceLocation(line: line, column: column) },
                    "\(text): \(diagnostics.map { "\($0.code.rawValue)@\($0.location)" })")
        }
        let (_, typo) = ScenarioParser.parse("scenario s { seed = 1 }\nfault a { kind = crash; node = c9; at = 1 rounds }", schedule: schedule)
        #expect(typo.contains { $0.code == .unknownName && $0.help?.contains("did you mean 'c1'") == true })
        #expect(!typo.contains { $0.code == .missingProperty })  // no cascade: 'node' was written
    }

    @Test func shippedScenariosRunCleanly() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        for (scheduleName, scenarioName) in [("tmr.takt", "tmr-faults.scenario"), ("minimal.takt", "minimal-asymmetric.scenario"),
                                             ("minimal.takt", "minimal-coldstart.scenario"), ("modes.takt", "modes-change.scenario")] {
            let (schedule, derived) = try loadSchedule(scheduleName)
            let text = try String(contentsOfFile: url.path + "/Schedules/" + scenarioName, encoding: .utf8)
            let (parsed, diagnostics) = ScenarioParser.parse(text, schedule: schedule)
            #expect(diagnostics.isEmpty)
            let scenario = try #require(parsed)
            var configuration = SimulationConfiguration(seed: scenario.seed ?? 1, rounds: scenario.rounds ?? 1_000, schedule: schedule)
            configuration.apply(scenario)
            let report = Simulator.run(schedule: schedule, derived: derived, configuration: configuration)
            #expect(report.violations.isEmpty, "\(scenarioName): \(report.violations.prefix(2))")
            #expect(report.recovered, "\(scenarioName)")
        }
    }
}
