// Scenario files (Docs/simulation.md): a seed, a length and declarative faults for `takt sim`,
// in the same syntax as schedules (same lexer and parser, so every error has a position).
//
//     scenario NAME { seed = 7; rounds = 3000 rounds; random_faults = no }
//     fault NAME { kind = crash; node = c2; at = 100 rounds }
//     fault NAME { kind = restart; node = c2; at = 140 rounds }
//     fault NAME { kind = omission; node = sensor; at = 500 rounds }
//     fault NAME { kind = asymmetric; node = c1; at = 900 rounds; to = c2, c3 }
//     fault NAME { kind = two_faced; node = actuator; at = 1000 rounds; skew = 8 us }
//     fault NAME { kind = receive_omission; node = c1; at = 1200 rounds; for = 3 rounds }
//     fault NAME { kind = late_send; node = c1; at = 1300 rounds; delay = 40 us }
//     fault NAME { kind = babbling; node = c2; at = 1400 rounds; for = 5 rounds }
//     fault NAME { kind = partition; at = 1500 rounds; for = 4 rounds; side = c1, c2 }
//     fault NAME { kind = clock_step; node = c3; at = 1600 rounds; step = 300 us; direction = behind }
//     fault NAME { kind = mode_change; node = sensor; at = 1700 rounds; mode = degraded }
//
// `scenario` also takes `power_on = 5 ms` (start from power-on: cold start), `bus_loss` and
// `bus_corruption` (per frame, e.g. 200 ppm).

import TaktSchedule
import TaktTime

public struct Scenario: Sendable, Equatable {
    public var name: String
    public var seed: UInt64?
    public var rounds: UInt64?
    public var randomFaults: Bool
    public var faults: [SimulatedFault]
    /// `power_on = 5 ms`: the cluster starts from power-on (nodes on within that spread).
    public var start: SimulationStart? = nil
    public var busLossPerMillion: UInt32 = 0
    public var busCorruptionPerMillion: UInt32 = 0
}

public enum ScenarioParser {
    public static let keywords: Set<Substring> = ["scenario", "fault"]
    static let kinds = ["crash", "restart", "omission", "asymmetric", "two_faced", "receive_omission", "late_send",
                        "babbling", "partition", "clock_step", "mode_change"]

    /// Parses a scenario for `schedule` (node names are resolved against it). Never traps.
    public static func parse(_ text: String, schedule: Schedule) -> (Scenario?, [Diagnostic]) {
        let (file, parseDiagnostics) = Parser.parse(text, keywords: keywords)
        var diagnostics = parseDiagnostics
        func report(_ code: DiagnosticCode, _ location: SourceLocation, _ message: String, help: String? = nil) {
            diagnostics.append(Diagnostic(code, at: location, message, help: help))
        }
        func value(_ p: SyntaxProperty, expecting kind: QuantityKind?) -> Quantity? {
            guard case .quantity(let number, let unit) = p.value else {
                report(.wrongValueKind, p.key.location, "'\(p.key.text)' takes a number")
                return nil
            }
            guard let unit else {
                if kind == nil, !number.text.contains(".") {
                    let digits = number.text.filter { $0 != "_" }
                    if let v = Int64(digits) { return .rounds(v) }  // a bare count
                }
                report(.missingUnit, number.location, "'\(p.key.text) = \(number.text)' needs a unit", help: kind.map { "write the unit, e.g. '\(number.text) \($0 == .rounds ? "rounds" : "us")'" })
                return nil
            }
            switch Quantity.parse(number: number.text, unit: unit.text) {
            case .failure(let error):
                report(.invalidQuantity, unit.location, error.message)
                return nil
            case .success(let q):
                if let kind, q.kind != kind {
                    report(.wrongValueKind, unit.location, "'\(p.key.text)' takes \(kind.rawValue), found '\(number.text) \(unit.text)'")
                    return nil
                }
                return q
            }
        }
        func names(_ p: SyntaxProperty) -> [Token] {
            if case .names(let tokens) = p.value { return tokens }
            report(.wrongValueKind, p.key.location, "'\(p.key.text)' takes a name")
            return []
        }
        func node(_ token: Token) -> Int? {
            if let i = schedule.nodes.firstIndex(where: { $0.name[...] == token.text }) { return i }
            report(.unknownName, token.location, "the schedule has no node named '\(token.text)'",
                   help: suggestion(for: token.text, among: schedule.nodes.map(\.name)).map { "did you mean '\($0)'?" })
            return nil
        }

        var scenario = Scenario(name: "", seed: nil, rounds: nil, randomFaults: false, faults: [])
        var sawScenario = false
        for d in file.declarations {
            if d.keyword.text == "scenario" {
                if sawScenario { report(.duplicateName, d.keyword.location, "a scenario file declares one scenario") }
                sawScenario = true
                scenario.name = String(d.name.text)
                for p in d.properties {
                    switch p.key.text {
                    case "seed":
                        if case .rounds(let v)? = value(p, expecting: nil), v >= 0 { scenario.seed = UInt64(v) }
                    case "rounds":
                        if case .rounds(let v)? = value(p, expecting: .rounds) {
                            if v >= 1 && v <= 100_000_000 { scenario.rounds = UInt64(v) }
                            else { report(.outOfRange, p.value.location, "rounds must be 1 to 100000000") }
                        }
                    case "power_on":
                        if case .interval(let v)? = value(p, expecting: .time) {
                            if v >= .zero { scenario.start = .coldStart(powerOnSpread: v) }
                            else { report(.outOfRange, p.value.location, "'power_on' cannot be negative") }
                        }
                    case "bus_loss", "bus_corruption":
                        if case .drift(let v)? = value(p, expecting: .drift) {
                            let ppm = v.partsPerBillion / 1_000
                            if ppm >= 0 && ppm <= 1_000_000 {
                                if p.key.text == "bus_loss" { scenario.busLossPerMillion = UInt32(ppm) } else { scenario.busCorruptionPerMillion = UInt32(ppm) }
                            } else { report(.outOfRange, p.value.location, "'\(p.key.text)' must be 0 to 1000000 ppm") }
                        }
                    case "random_faults":
                        let t = names(p)
                        if t.count == 1 && (t[0].text == "yes" || t[0].text == "no") { scenario.randomFaults = t[0].text == "yes" }
                        else if !t.isEmpty { report(.wrongValueKind, t[0].location, "'random_faults' takes yes or no") }
                    default:
                        report(.unknownProperty, p.key.location, "unknown property '\(p.key.text)' for a scenario",
                               help: "a scenario takes: seed, rounds, random_faults, power_on, bus_loss, bus_corruption")
                    }
                }
                continue
            }
            // fault
            var kind: String?, nodeIndex: Int?, at: UInt64?, receivers: [Int] = [], skew: Interval?
            var duration: UInt64?, delay: Interval?, step: Interval?, side: [Int] = [], modeIndex: Int?, behind = false
            for p in d.properties {
                switch p.key.text {
                case "kind":
                    if let t = names(p).first {
                        if kinds.contains(String(t.text)) { kind = String(t.text) }
                        else { report(.wrongValueKind, t.location, "unknown fault kind '\(t.text)'",
                                      help: suggestion(for: t.text, among: kinds).map { "did you mean '\($0)'?" } ?? "kinds: \(kinds.joined(separator: ", "))") }
                    }
                case "node": if let t = names(p).first { nodeIndex = node(t) }
                case "at":
                    if case .rounds(let v)? = value(p, expecting: .rounds) {
                        if v >= 0 { at = UInt64(v) } else { report(.outOfRange, p.value.location, "'at' cannot be negative") }
                    }
                case "to": receivers = names(p).compactMap(node)
                case "skew": if case .interval(let v)? = value(p, expecting: .time) { skew = v }
                case "delay":
                    if case .interval(let v)? = value(p, expecting: .time) {
                        if v > .zero { delay = v } else { report(.outOfRange, p.value.location, "'delay' must be positive") }
                    }
                case "step": if case .interval(let v)? = value(p, expecting: .time) { step = v }
                case "for":
                    if case .rounds(let v)? = value(p, expecting: .rounds) {
                        if v >= 1 && v <= 1_000_000 { duration = UInt64(v) } else { report(.outOfRange, p.value.location, "'for' must be 1 to 1000000 rounds") }
                    }
                case "side": side = names(p).compactMap(node)
                case "direction":
                    let t = names(p)
                    if t.count == 1 && (t[0].text == "ahead" || t[0].text == "behind") { behind = t[0].text == "behind" }
                    else if !t.isEmpty { report(.wrongValueKind, t[0].location, "'direction' takes ahead or behind") }
                case "mode":
                    if let t = names(p).first {
                        if let m = schedule.modes.firstIndex(where: { $0.name[...] == t.text }) { modeIndex = m }
                        else { report(.unknownName, t.location, "the schedule has no mode named '\(t.text)'",
                                      help: suggestion(for: t.text, among: schedule.modes.map(\.name)).map { "did you mean '\($0)'?" }) }
                    }
                default:
                    report(.unknownProperty, p.key.location, "unknown property '\(p.key.text)' for a fault",
                           help: "a fault takes: kind, node, at, and by kind: to (asymmetric), skew (two_faced), for (receive_omission, babbling, partition), delay (late_send), side (partition), step and direction (clock_step), mode (mode_change)")
                }
            }
            if kind == "partition", nodeIndex == nil { nodeIndex = side.first ?? -1 }  // a partition names no node
            guard let kind, let nodeIndex, let at else {
                // Report what is missing; a value that was written but rejected was reported already.
                let written = Set(d.properties.map { String($0.key.text) })
                let missing = (kind == "partition" ? ["at"] : ["kind", "node", "at"]).filter { !written.contains($0) }
                if !missing.isEmpty {
                    report(.missingProperty, d.name.location, "fault '\(d.name.text)' has no \(missing.map { "'\($0)'" }.joined(separator: ", "))",
                           help: "a fault needs: kind, node, at (e.g. 'kind = crash; node = \(schedule.nodes.first?.name ?? "n"); at = 10 rounds')")
                }
                continue
            }
            func need<T>(_ value: T?, _ property: String, _ what: String) -> T? {
                if value == nil { report(.missingProperty, d.name.location, "a \(kind) fault needs '\(property)' (\(what))") }
                return value
            }
            switch kind {
            case "crash": scenario.faults.append(.crash(node: nodeIndex, round: at))
            case "restart": scenario.faults.append(.restart(node: nodeIndex, round: at))
            case "omission": scenario.faults.append(.sendOmission(node: nodeIndex, round: at))
            case "asymmetric": scenario.faults.append(.asymmetric(node: nodeIndex, round: at, receivers: receivers))
            case "two_faced":
                if let skew = need(skew, "skew", "a time") { scenario.faults.append(.twoFaced(node: nodeIndex, round: at, skew: skew)) }
            case "receive_omission":
                if let k = need(duration, "for", "rounds") { scenario.faults.append(.receiveOmission(node: nodeIndex, round: at, rounds: k)) }
            case "late_send":
                if let delay = need(delay, "delay", "a time") { scenario.faults.append(.lateSend(node: nodeIndex, round: at, delay: delay)) }
            case "babbling":
                if let k = need(duration, "for", "rounds") { scenario.faults.append(.babbling(node: nodeIndex, round: at, rounds: k)) }
            case "partition":
                guard let k = need(duration, "for", "rounds") else { continue }
                guard !side.isEmpty && side.count < schedule.nodes.count else {
                    report(.missingProperty, d.name.location, "a partition needs 'side': some but not all nodes (the others form the other side)")
                    continue
                }
                scenario.faults.append(.partition(groups: [side], round: at, rounds: k))
            case "clock_step":
                if let step = need(step, "step", "a time") {
                    scenario.faults.append(.clockStep(node: nodeIndex, round: at, step: behind ? Interval.zero - step : step))
                }
            default:  // mode_change
                if let m = need(modeIndex, "mode", "a mode of the schedule") { scenario.faults.append(.modeChange(node: nodeIndex, round: at, mode: m)) }
            }
        }
        if !sawScenario {
            report(.missingCluster, file.declarations.first?.keyword.location ?? .startOfFile, "the file declares no scenario",
                   help: "start it with 'scenario NAME { seed = 1; rounds = 1000 rounds }'")
        }
        sortDiagnostics(&diagnostics)
        let errors = diagnostics.contains { $0.severity == .error }
        return (errors ? nil : scenario, diagnostics)
    }
}

extension SimulationConfiguration {
    /// Takes the scenario's faults, start (power-on) and bus fault rates; seed and rounds are the
    /// caller's (command-line options win over the file).
    public mutating func apply(_ scenario: Scenario) {
        faults = scenario.faults
        if let start = scenario.start { self.start = start }
        busLossPerMillion = scenario.busLossPerMillion
        busCorruptionPerMillion = scenario.busCorruptionPerMillion
    }
}
