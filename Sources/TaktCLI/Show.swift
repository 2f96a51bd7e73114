// `takt show FILE`: the slot table of one round, every node's dispatch table, and the derived
// bounds, as text for people.

import TaktSchedule
import TaktTime

enum ShowCommand {
    static let options: [OptionSpec] = [
        OptionSpec(["--mode"], value: "NAME", help: "show only this mode (default: every mode)"),
        OptionSpec(["--limit"], value: "N", help: "at most N dispatch entries per node (default 64; 0 = all)"),
    ]

    static func run(_ arguments: ParsedArguments, _ console: inout Console) -> Int32 {
        guard arguments.positionals.count == 1 else {
            return TaktCommand.usageError(arguments.positionals.isEmpty ? "no schedule file given" : "show takes one file", subcommand: "show", console: &console)
        }
        var limit = 64
        if let text = arguments.value("--limit") {
            guard let v = Int(text), v >= 0 else {
                return TaktCommand.usageError("--limit takes a whole number ≥ 0, not '\(text)'", subcommand: "show", console: &console)
            }
            limit = v == 0 ? Int.max : v
        }
        let path = arguments.positionals[0]
        let (result, failure) = loadValidSchedule(path, console: &console)
        if let failure { return failure }
        let schedule = result.schedule!, derived = result.derived!
        var modes = Array(schedule.modes.indices)
        if let name = arguments.value("--mode") {
            guard let m = schedule.modes.firstIndex(where: { $0.name == name }) else {
                console.err.write("error: \(path) has no mode '\(name)' (modes: \(schedule.modes.map(\.name).joined(separator: ", ")))\n")
                return ExitStatus.usage
            }
            modes = [m]
        }
        console.out.write(render(schedule: schedule, derived: derived, modes: modes, limit: limit))
        return ExitStatus.success
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            var s = " "
            for (i, cell) in cells.enumerated() {
                s += " " + cell + (i == cells.count - 1 ? "" : String(repeating: " ", count: widths[i] - cell.count + 1))
            }
            return s + "\n"
        }
        return line(header) + line(widths.map { String(repeating: "─", count: $0) }) + rows.map(line).joined()
    }

    static func render(schedule: Schedule, derived: DerivedResults, modes: [Int], limit: Int) -> String {
        let c = schedule.cluster
        var out = ""
        out += "cluster \(c.name): \(schedule.nodes.count) nodes (\(derived.syncNodes) sync), k = \(c.faultTolerance), round R = \(c.round), cycle \(c.cycleRounds) round\(c.cycleRounds == 1 ? "" : "s") (\(c.cycle)), macrotick \(c.macrotick), \(c.bitrate), propagation \(c.propagation)\n"
        out += "clock synchronization (\(c.convergence == .faultTolerantAverage ? "fault-tolerant average" : "fault-tolerant midpoint")):\n"
        out += "  ε = \(c.readingError), ρ = \(c.drift), Γ = 2ρR = \(derived.driftOffset)\n"
        out += "  Π bound (ε + Γ)·(N−2k)/(N−3k) = \(derived.precisionBound.map(\.description) ?? "undefined (N ≤ 3k)")"
        if let declared = c.declaredPrecision { out += ", declared Π = \(declared)" }
        out += "\n  Lundelius–Lynch lower bound ε(1−1/N) = \(derived.lowerBound)\n"
        if let h = derived.hyperperiod { out += "hyperperiod: \(h)\n" }
        for m in modes {
            let mode = schedule.modes[m]
            let analysis = derived.modes[m]
            out += "\n"
            if schedule.modesDeclared {
                let transitions = mode.transitions.map { schedule.modes[$0].name }
                out += "mode \(mode.name)\(m == schedule.initialMode ? " (initial)" : "")\(transitions.isEmpty ? "" : " → " + transitions.joined(separator: ", ")), hyperperiod \(analysis.hyperperiod.map(\.description) ?? "overflow")\n"
            }
            out += "slot table (one round of \(c.round)):\n"
            out += table(["slot", "sender", "offset", "length", "frame", "tx time", "guard", "receive window"], analysis.slots.map { s in
                let slot = mode.slots[s.slot]
                return [slot.name, schedule.nodes[slot.sender].name, slot.offset.description + (slot.offsetDerived ? "*" : ""),
                        slot.length.description + (slot.lengthDerived ? "*" : ""), "\(s.frameBytes) B", s.frameTime.description,
                        s.guardTime.description, "[\(s.receiveWindowStart), \(s.receiveWindowEnd)]"]
            })
            if mode.slots.contains(where: { $0.offsetDerived || $0.lengthDerived }) { out += "  (* derived)\n" }
            let sent = analysis.messages.filter(\.sent)
            if !sent.isEmpty {
                out += "messages (Δ = end of the last copy's slot + Π − start of the first):\n"
                out += table(["message", "sender", "size", "period", "copies", "first send", "Δ", "to"], sent.map { a in
                    let msg = schedule.messages[a.message]
                    return [msg.name, schedule.nodes[msg.sender].name, msg.size.description, "\(msg.periodRounds) R", "\(msg.copies)",
                            a.firstSendOffset.description, a.deliveryBound.description,
                            msg.destinations.count == schedule.nodes.count ? "all" : msg.destinations.map { schedule.nodes[$0].name }.joined(separator: ",")]
                })
            }
            if !mode.tasks.isEmpty {
                out += "tasks:\n"
                out += table(["task", "node", "period", "offset", "WCET", "deadline", "reads", "writes"], mode.tasks.map { t in
                    [t.name, schedule.nodes[t.node].name, t.period.description, t.offset.description, t.wcet.description, t.deadline.description,
                     t.reads.map { schedule.messages[$0].name }.joined(separator: ","), t.writes.map { schedule.messages[$0].name }.joined(separator: ",")]
                })
            }
            if !analysis.chains.isEmpty {
                out += "chains:\n"
                out += table(["chain", "reaction", "deadline", "data age", "max age"], analysis.chains.map { a in
                    let chain = schedule.chains[a.chain]
                    return [chain.name, a.reactionTime?.description ?? "-", chain.deadline?.description ?? "-",
                            a.dataAge?.description ?? "-", chain.maxAge?.description ?? "-"]
                })
            }
            if !analysis.utilization.isEmpty {
                out += "utilization: " + analysis.utilization.map { "\(schedule.nodes[$0.node].name) \(percentText($0.utilization))" }.joined(separator: ", ") + "\n"
            }
            out += "dispatch tables (one hyperperiod; cluster time from its start):\n"
            for n in schedule.nodes.indices {
                guard let entries = DispatchTable.build(schedule: schedule, derived: derived, mode: m, node: n) else {
                    out += "  \(schedule.nodes[n].name): too many entries to list\n"
                    continue
                }
                out += "  node \(schedule.nodes[n].name) (\(entries.count) entries):\n"
                for e in entries.prefix(limit) {
                    let what: String
                    switch e.action {
                    case .transmit(let s): what = "transmit   slot \(mode.slots[s].name)"
                    case .closeReceiveWindow(let s): what = "receive    slot \(mode.slots[s].name) (window closes)"
                    case .release(let t): what = "release    task \(mode.tasks[t].name)"
                    case .deliver(let msg): what = "deliver    message \(schedule.messages[msg].name)"
                    }
                    let time = e.time.description
                    out += "    \(time)\(String(repeating: " ", count: max(1, 14 - time.count)))round \(e.round)  \(what)\n"
                }
                if entries.count > limit { out += "    … \(entries.count - limit) more (use --limit 0 to list all)\n" }
            }
        }
        let sorted = derived.slacks.sorted { $0.slack < $1.slack }
        if !sorted.isEmpty {
            out += "\nslack, tightest first:\n"
            out += table(["constraint", "subject", "mode", "slack"], sorted.prefix(12).map { s in
                [s.kind.rawValue, s.subject, schedule.modes[s.mode].name, s.slack.description]
            })
            if sorted.count > 12 { out += "  … \(sorted.count - 12) more constraints (takt check --format json lists all)\n" }
        }
        return out
    }
}

func percentText(_ value: Double) -> String {
    let tenths = Int((value * 1000).rounded())
    return "\(tenths / 10).\(tenths % 10) %"
}
