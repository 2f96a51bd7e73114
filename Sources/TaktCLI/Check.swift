// `takt check FILE...`: diagnostics on stderr, a summary on stdout (or one JSON report).

import TaktSchedule
import TaktTime

enum CheckCommand {
    static let options: [OptionSpec] = [
        OptionSpec(["--format"], value: "text|json", help: "output format (default text; json prints one report on stdout)"),
        OptionSpec(["--quiet", "-q"], help: "print diagnostics only, no summary"),
    ]

    static func run(_ arguments: ParsedArguments, _ console: inout Console) -> Int32 {
        let format = arguments.value("--format") ?? "text"
        guard format == "text" || format == "json" else {
            return TaktCommand.usageError("--format takes 'text' or 'json', not '\(format)'", subcommand: "check", console: &console)
        }
        guard !arguments.positionals.isEmpty else {
            return TaktCommand.usageError("no schedule file given", subcommand: "check", console: &console)
        }
        let paths = expandPaths(arguments.positionals)
        if paths.isEmpty {
            console.err.write("error: no .takt files in \(arguments.positionals.joined(separator: ", "))\n")
            return ExitStatus.usage
        }
        var unreadable = false
        var invalid = 0
        var valid = 0
        var fileReports: [JSON] = []
        for path in paths {
            let text: String
            do {
                text = try readScheduleFile(path)
            } catch {
                if case .unreadable(let message) = error { console.err.write("error: \(message)\n") }
                unreadable = true
                fileReports.append(.object([("path", .string(path)), ("valid", .bool(false)), ("readable", .bool(false)),
                                            ("diagnostics", .array([])), ("derived", .null)]))
                continue
            }
            let result = ScheduleChecker.check(text)
            if result.valid { valid += 1 } else { invalid += 1 }
            if format == "json" {
                fileReports.append(.object([
                    ("path", .string(path)), ("valid", .bool(result.valid)), ("readable", .bool(true)),
                    ("diagnostics", .array(result.diagnostics.map(diagnosticJSON))),
                    ("derived", result.derived.map { derivedJSON($0, schedule: result.schedule!) } ?? .null),
                ]))
            } else {
                for d in result.diagnostics { console.err.write(d.rendered(path: path)) }
                if !arguments.has("--quiet") { console.out.write(summaryLine(path: path, result: result)) }
            }
        }
        if format == "json" {
            console.out.write(JSON.object([("files", .array(fileReports))]).serialized(pretty: true) + "\n")
        } else if !arguments.has("--quiet"), paths.count > 1 {
            console.out.write("\(paths.count) files: \(valid) valid, \(invalid) invalid\(unreadable ? ", some unreadable" : "")\n")
        }
        if unreadable { return ExitStatus.usage }
        return invalid > 0 ? ExitStatus.failure : ExitStatus.success
    }

    static func summaryLine(path: String, result: CheckResult) -> String {
        let counts = "\(result.errorCount) error\(result.errorCount == 1 ? "" : "s"), \(result.warningCount) warning\(result.warningCount == 1 ? "" : "s")"
        guard result.valid, let schedule = result.schedule, let derived = result.derived else {
            return "\(path): invalid (\(counts))\n"
        }
        var parts = ["\(schedule.nodes.count) nodes"]
        let slots = schedule.modes.reduce(0) { $0 + $1.slots.count }
        let tasks = schedule.modes.reduce(0) { $0 + $1.tasks.count }
        parts.append("\(slots) slots")
        parts.append("\(schedule.messages.count) messages")
        parts.append("\(tasks) tasks")
        if schedule.modesDeclared { parts.append("\(schedule.modes.count) modes") }
        if let p = derived.precision { parts.append("Π = \(p)") }
        if let h = derived.hyperperiod { parts.append("hyperperiod \(h)") }
        var line = "\(path): valid (\(counts)); " + parts.joined(separator: ", ")
        if let t = derived.tightest {
            line += "; tightest: \(t.kind.rawValue) for \(t.subject) (slack \(t.slack))"
        }
        return line + "\n"
    }
}

func diagnosticJSON(_ d: Diagnostic) -> JSON {
    var fields: [(String, JSON)] = [
        ("code", .string(d.code.rawValue)), ("severity", .string(d.severity.rawValue)),
        ("line", .int(Int64(d.location.line))), ("column", .int(Int64(d.location.column))),
        ("message", .string(d.message)),
    ]
    fields.append(("notes", .array(d.notes.map { note in
        .object([("line", .int(Int64(note.location.line))), ("column", .int(Int64(note.location.column))), ("message", .string(note.message))])
    })))
    fields.append(("help", d.help.map(JSON.string) ?? .null))
    return .object(fields)
}

func ns(_ i: Interval?) -> JSON { i.map { .int($0.nanoseconds) } ?? .null }

/// The derived results as JSON; every time is in integer nanoseconds (`*_ns`).
func derivedJSON(_ derived: DerivedResults, schedule: Schedule) -> JSON {
    let modes: [JSON] = derived.modes.map { analysis in
        let mode = schedule.modes[analysis.mode]
        return .object([
            ("name", .string(mode.name)),
            ("hyperperiod_ns", ns(analysis.hyperperiod)),
            ("slots", .array(analysis.slots.map { s in
                let slot = mode.slots[s.slot]
                return .object([
                    ("name", .string(slot.name)), ("sender", .string(schedule.nodes[slot.sender].name)),
                    ("offset_ns", .int(slot.offset.nanoseconds)), ("length_ns", .int(slot.length.nanoseconds)),
                    ("frame_bytes", .int(s.frameBytes)), ("frame_time_ns", .int(s.frameTime.nanoseconds)),
                    ("guard_ns", .int(s.guardTime.nanoseconds)),
                    ("receive_window_ns", .array([.int(s.receiveWindowStart.nanoseconds), .int(s.receiveWindowEnd.nanoseconds)])),
                ])
            })),
            ("messages", .array(analysis.messages.filter(\.sent).map { m in
                .object([("name", .string(schedule.messages[m.message].name)),
                         ("first_send_ns", .int(m.firstSendOffset.nanoseconds)),
                         ("period_ns", .int(m.periodInterval.nanoseconds)),
                         ("delivery_bound_ns", .int(m.deliveryBound.nanoseconds))])
            })),
            ("chains", .array(analysis.chains.map { c in
                let chain = schedule.chains[c.chain]
                return .object([("name", .string(chain.name)), ("reaction_time_ns", ns(c.reactionTime)), ("data_age_ns", ns(c.dataAge)),
                                ("deadline_ns", ns(chain.deadline)), ("max_age_ns", ns(chain.maxAge))])
            })),
            ("utilization", .array(analysis.utilization.map { u in
                .object([("node", .string(schedule.nodes[u.node].name)), ("utilization", .double(u.utilization))])
            })),
        ])
    }
    func slackJSON(_ s: Slack) -> JSON {
        .object([("constraint", .string(s.kind.rawValue)), ("mode", .string(schedule.modes[s.mode].name)),
                 ("subject", .string(s.subject)), ("slack_ns", .int(s.slack.nanoseconds)),
                 ("line", .int(Int64(s.location.line))), ("column", .int(Int64(s.location.column)))])
    }
    return .object([
        ("hyperperiod_ns", ns(derived.hyperperiod)),
        ("round_ns", .int(schedule.cluster.round.nanoseconds)),
        ("cycle_rounds", .int(schedule.cluster.cycleRounds)),
        ("sync_nodes", .int(Int64(derived.syncNodes))),
        ("fault_tolerance", .int(Int64(schedule.cluster.faultTolerance))),
        ("precision_bound_ns", ns(derived.precisionBound)),
        ("precision_ns", ns(derived.precision)),
        ("lower_bound_ns", .int(derived.lowerBound.nanoseconds)),
        ("drift_offset_ns", .int(derived.driftOffset.nanoseconds)),
        ("modes", .array(modes)),
        ("tightest", derived.tightest.map(slackJSON) ?? .null),
        ("slack", .array(derived.slacks.map(slackJSON))),
    ])
}
