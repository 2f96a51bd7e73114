// `takt sim SCHEDULE`: the deterministic simulator (Docs/simulation.md). Exit 0 no violation,
// 1 a violation (reported with the seed and the first offending event), 2 bad input.

import Foundation
import TaktSchedule
import TaktSim
import TaktTime

enum SimCommand {
    static let options: [OptionSpec] = [
        OptionSpec(["--scenario"], value: "FILE", help: "seed, rounds and faults from a scenario file (options given here win)"),
        OptionSpec(["--seed"], value: "N", help: "the PRNG seed (default 1); the same seed gives the same run"),
        OptionSpec(["--rounds"], value: "R", help: "rounds to simulate (default 10000)"),
        OptionSpec(["--crash"], value: "NODE@ROUND", help: "crash NODE at the start of ROUND (repeatable)"),
        OptionSpec(["--omit"], value: "NODE@ROUND", help: "NODE's frame of ROUND reaches nobody (repeatable)"),
        OptionSpec(["--restart"], value: "NODE@ROUND", help: "restart a crashed NODE at ROUND; it integrates and rejoins (repeatable)"),
        OptionSpec(["--cold-start"], value: "SPREAD", help: "start from power-on instead of a running cluster: every node powers on within SPREAD (e.g. 5ms) and the cluster must start itself"),
        OptionSpec(["--random-faults"], help: "add a random in-hypothesis fault plan drawn from the seed (crash/restart, send and receive omissions, late sends, clock steps, babbling; one node at a time)"),
        OptionSpec(["--seeds"], value: "N", help: "run a campaign of N seeds, from --seed on, and report the worst (default 1)"),
        OptionSpec(["--trace"], value: "FILE", help: "write the run's timeline as Chrome/Perfetto trace-event JSON (first seed)"),
        OptionSpec(["--json"], help: "print the report as JSON on stdout"),
    ]

    static func run(_ arguments: ParsedArguments, _ console: inout Console) -> Int32 {
        guard arguments.positionals.count == 1 else {
            return TaktCommand.usageError(arguments.positionals.isEmpty ? "no schedule file given" : "sim takes one schedule", subcommand: "sim", console: &console)
        }
        let path = arguments.positionals[0]
        let (result, failure) = loadValidSchedule(path, console: &console)
        if let failure { return failure }
        let schedule = result.schedule!, derived = result.derived!
        var scenario: Scenario?
        if let scenarioPath = arguments.value("--scenario") {
            let text: String
            do {
                text = try readScheduleFile(scenarioPath)
            } catch {
                if case .unreadable(let message) = error { console.err.write("error: \(message)\n") }
                return ExitStatus.usage
            }
            let (parsed, diagnostics) = ScenarioParser.parse(text, schedule: schedule)
            for d in diagnostics { console.err.write(d.rendered(path: scenarioPath)) }
            guard let parsed else {
                console.err.write("error: \(scenarioPath) is not a valid scenario for \(path)\n")
                return ExitStatus.usage
            }
            scenario = parsed
        }
        guard let seed = UInt64(arguments.value("--seed") ?? scenario?.seed.map(String.init) ?? "1") else {
            return TaktCommand.usageError("--seed takes a whole number ≥ 0", subcommand: "sim", console: &console)
        }
        guard let rounds = UInt64(arguments.value("--rounds") ?? scenario?.rounds.map(String.init) ?? "10000"), rounds >= 1, rounds <= 100_000_000 else {
            return TaktCommand.usageError("--rounds takes a whole number from 1 to 100000000", subcommand: "sim", console: &console)
        }
        var configuration = SimulationConfiguration(seed: seed, rounds: rounds, schedule: schedule)
        if let scenario { configuration.apply(scenario) }
        if let spread = arguments.value("--cold-start") {
            guard let interval = parseInterval(spread), interval >= .zero else {
                return TaktCommand.usageError("--cold-start takes a time such as 5ms or 2.5 ms, not '\(spread)'", subcommand: "sim", console: &console)
            }
            configuration.start = .coldStart(powerOnSpread: interval)
        }
        let randomFaults = arguments.has("--random-faults") || scenario?.randomFaults == true
        for (option, make) in [("--crash", { (n: Int, r: UInt64) in SimulatedFault.crash(node: n, round: r) }),
                               ("--omit", { (n: Int, r: UInt64) in SimulatedFault.sendOmission(node: n, round: r) }),
                               ("--restart", { (n: Int, r: UInt64) in SimulatedFault.restart(node: n, round: r) })] {
            for spec in arguments.all(option) {
                let parts = spec.split(separator: "@")
                guard parts.count == 2, let round = UInt64(parts[1]),
                      let node = schedule.nodes.firstIndex(where: { $0.name == parts[0] }) else {
                    return TaktCommand.usageError("\(option) takes NODE@ROUND with a node of the schedule, not '\(spec)'", subcommand: "sim", console: &console)
                }
                configuration.faults.append(make(node, round))
            }
        }
        guard let seeds = UInt64(arguments.value("--seeds") ?? "1"), seeds >= 1, seeds <= 1_000_000 else {
            return TaktCommand.usageError("--seeds takes a whole number from 1 to 1000000", subcommand: "sim", console: &console)
        }
        let interactive = console.interactive && !arguments.has("--json")
        let err = console.err
        var combined: SimulationReport?
        var failingSeed: UInt64?
        var faultCount = 0
        for index in 0..<seeds {
            var run = configuration
            run.seed = seed &+ index
            if randomFaults {
                run.faults += RandomFaultPlan.generate(seed: run.seed, nodes: schedule.nodes.count, rounds: rounds, window: (derived.precision ?? .zero) + schedule.cluster.readingError)
            }
            faultCount += run.faults.count
            var lastShown: UInt64 = 0
            let trace = (index == 0 && arguments.value("--trace") != nil) ? SimulationTrace() : nil
            let one = Simulator.run(schedule: schedule, derived: derived, configuration: run, trace: trace) { round in
                guard interactive, round - lastShown >= 10_000 || round == 0 else { return }
                lastShown = round
                err.write("\rsimulating seed \(run.seed) (\(index + 1) of \(seeds)), round \(round) of \(rounds) …")
            }
            combined = merge(combined, one)
            if let trace, let tracePath = arguments.value("--trace") {
                do {
                    try trace.json().write(toFile: tracePath, atomically: true, encoding: .utf8)
                } catch {
                    console.err.write("error: cannot write \(tracePath): \(error.localizedDescription)\n")
                    return ExitStatus.usage
                }
            }
            if !one.violations.isEmpty && failingSeed == nil { failingSeed = run.seed }
        }
        if interactive { err.write("\r\u{1B}[K") }
        let report = combined!
        let failing: JSON = failingSeed.map { JSON.int(Int64(bitPattern: $0)) } ?? JSON.null
        if arguments.has("--json") {
            console.out.write(JSON.object([
                ("schedule", .string(path)), ("seed", .int(Int64(bitPattern: seed))), ("seeds", .int(Int64(seeds))), ("rounds", .int(Int64(rounds))),
                ("faults", .int(Int64(faultCount))), ("failing_seed", failing),
                ("violations", .int(Int64(report.violations.count))),
                ("first_violation", report.violations.first.map { .string($0.description) } ?? .null),
                ("precision_ns_max", .int(report.precisionMax.nanoseconds)),
                ("precision_ns_p99", .int(report.precisionP99.nanoseconds)),
                ("precision_bound_ns", .int(report.precisionBound.nanoseconds)),
                ("lower_bound_ns", .int(report.lowerBound.nanoseconds)),
                ("detection_rounds_max", report.detectionRoundsMax.map(JSON.double) ?? .null),
                ("reintegration_rounds_max", report.reintegrationRoundsMax.map(JSON.double) ?? .null),
                ("frames_sent", .int(Int64(report.framesSent))), ("frames_accepted", .int(Int64(report.framesAccepted))),
                ("deliveries", .int(Int64(report.deliveries))),
                ("foreign_frames", .int(Int64(report.foreignFrames))),
                ("startup_ns", report.startupTime.map { .int($0.nanoseconds) } ?? .null),
                ("startup_bound_ns", report.startupBound.map { .int($0.nanoseconds) } ?? .null),
                ("cold_start_contentions", .int(Int64(report.coldStartContentions))),
                ("mode_changes", .int(Int64(report.modeChanges))),
                ("freeze_restarts", .int(Int64(report.freezeRestarts))),
                ("recovered", .bool(report.recovered)),
                ("state_hash", .string(hex(report.stateHash))),
            ]).serialized(pretty: true) + "\n")
        } else {
            var text = seeds == 1 ? "\(path): \(rounds) rounds, seed \(seed)\n"
                                  : "\(path): \(seeds) seeds (\(seed)…\(seed &+ seeds &- 1)) × \(rounds) rounds, \(faultCount) faults injected\n"
            text += "  precision: max \(report.precisionMax), p99 \(report.precisionP99); bound Π = \(report.precisionBound), lower bound ε(1−1/N) = \(report.lowerBound)\n"
            text += "  frames: \(report.framesSent) sent, \(report.framesAccepted) accepted; atomic-broadcast deliveries: \(report.deliveries)\n"
            if let d = report.detectionRoundsMax { text += "  fault detection: at most \(String(format: "%.2f", d)) rounds\n" }
            if let d = report.reintegrationRoundsMax { text += "  reintegration after restart: at most \(String(format: "%.2f", d)) rounds\n" }
            if report.reintegrationsPending > 0 { text += "  \(report.reintegrationsPending) restarted node(s) had not rejoined when the run ended\n" }
            if let bound = report.startupBound {
                text += "  cold start: " + (report.startupTime.map { "cluster up \($0) after the last power-on" } ?? "never completed")
                text += "; worst-case bound \(bound)" + (report.coldStartContentions > 0 ? "; \(report.coldStartContentions) contention(s) resolved" : "") + "\n"
            }
            if report.modeChanges > 0 { text += "  mode changes: \(report.modeChanges)\n" }
            if report.freezeRestarts > 0 { text += "  frozen nodes restarted by their hosts: \(report.freezeRestarts)\n" }
            if report.foreignFrames > 0 { text += "  frames dropped outside their sender's slot: \(report.foreignFrames)\n" }
            if !report.recovered { text += "  at the end, not every running node was active in one common view\n" }
            text += "  state hash: \(hex(report.stateHash))\n"
            if report.violations.isEmpty {
                text += "  no violation\n"
            } else {
                text += "  \(report.violations.count) violation\(report.violations.count == 1 ? "" : "s"); first: \(report.violations[0])\n"
                let extra = (arguments.value("--scenario").map { " --scenario \($0)" } ?? "") + (arguments.has("--random-faults") ? " --random-faults" : "")
                    + arguments.all("--crash").map { " --crash \($0)" }.joined() + arguments.all("--restart").map { " --restart \($0)" }.joined()
                    + arguments.all("--omit").map { " --omit \($0)" }.joined()
                    + (arguments.value("--cold-start").map { " --cold-start \($0)" } ?? "")
                text += "  reproduce with: takt sim \(path) --seed \(failingSeed ?? seed) --rounds \(rounds)\(extra)\n"
            }
            console.out.write(text)
        }
        return report.violations.isEmpty ? ExitStatus.success : ExitStatus.failure
    }

    /// The worst of two runs: maxima, summed counts, all violations, hashes combined in order.
    static func merge(_ a: SimulationReport?, _ b: SimulationReport) -> SimulationReport {
        guard var a else { return b }
        a.precisionMax = max(a.precisionMax, b.precisionMax)
        a.precisionP99 = max(a.precisionP99, b.precisionP99)
        a.detectionRoundsMax = [a.detectionRoundsMax, b.detectionRoundsMax].compactMap { $0 }.max()
        a.reintegrationRoundsMax = [a.reintegrationRoundsMax, b.reintegrationRoundsMax].compactMap { $0 }.max()
        a.reintegrationsPending += b.reintegrationsPending
        a.framesSent += b.framesSent
        a.framesAccepted += b.framesAccepted
        a.deliveries += b.deliveries
        a.foreignFrames += b.foreignFrames
        a.modeChanges += b.modeChanges
        a.freezeRestarts += b.freezeRestarts
        a.coldStartContentions += b.coldStartContentions
        a.recovered = a.recovered && b.recovered
        a.startupTime = [a.startupTime, b.startupTime].compactMap { $0 }.max()
        if (a.startupTime == nil) != (b.startupTime == nil) && a.startupBound != nil { a.startupTime = nil }  // one never started
        a.violations += b.violations
        a.stateHash = (a.stateHash ^ b.stateHash) &* 0x0000_0100_0000_01B3  // &*: FNV-style mixing
        return a
    }

    /// "5ms", "2.5 ms", "300us": a time with a unit (the schedule language's units).
    static func parseInterval(_ text: String) -> Interval? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let split = trimmed.firstIndex(where: { !($0.isNumber || $0 == "." || $0 == "_") }) else { return nil }
        let number = trimmed[..<split], unit = trimmed[split...].drop { $0 == " " }
        guard !number.isEmpty, case .success(.interval(let value)) = Quantity.parse(number: number, unit: unit) else { return nil }
        return value
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
