// Elaboration: from the syntax tree to the typed `Schedule`.
//
// Names are resolved (with "did you mean" help), every value is checked against the schema of its
// declaration (kind, unit, range), defaults are filled in, and derived slot offsets and lengths are
// computed. Every problem becomes a diagnostic; elaboration never stops at the first one. When a
// declaration is too broken to model it is left out, and later rules simply do not see it.

import TaktTime

/// The limits of the language, documented in Docs/schedule-format.md.
public enum ScheduleLimits {
    public static let maximumCycleRounds: Int64 = 1_024
    public static let maximumCopies = 16
    public static let maximumNodes = 4_096
    public static let maximumFaultTolerance = 1_000
    /// Every time written in a schedule is at most 10^15 ns, so sums and small multiples of
    /// schedule times never overflow 64-bit nanoseconds.
    public static let maximumTime = Interval(nanoseconds: 1_000_000_000_000_000)
}

enum ValueKind {
    case time, drift, bitrate, size, rounds, count, bool, name, names, path
    case timeOrDerived
    case convergence

    var phrase: String {
        switch self {
        case .time: return "a time with a unit (ns, us, ms, s)"
        case .drift: return "a drift rate in ppm or ppb"
        case .bitrate: return "a bitrate (bit/s, kbit/s, Mbit/s, Gbit/s)"
        case .size: return "a size in bytes"
        case .rounds: return "a number of rounds (e.g. '2 rounds')"
        case .count: return "a whole number without a unit"
        case .bool: return "'yes' or 'no'"
        case .name: return "a name"
        case .names: return "a name or a comma-separated list of names"
        case .path: return "a path of task names 'a -> b -> c'"
        case .timeOrDerived: return "a time with a unit, or 'derived'"
        case .convergence: return "'fta' (fault-tolerant average) or 'ftm' (fault-tolerant midpoint)"
        }
    }
}

struct PropertySchema {
    var key: PropertyKey
    var kind: ValueKind
    var required: Bool
}

enum Schemas {
    static let cluster: [PropertySchema] = [
        .init(key: .round, kind: .time, required: true),
        .init(key: .cycle, kind: .rounds, required: false),
        .init(key: .macrotick, kind: .time, required: true),
        .init(key: .bitrate, kind: .bitrate, required: true),
        .init(key: .propagation, kind: .time, required: false),
        .init(key: .drift, kind: .drift, required: true),
        .init(key: .readingError, kind: .time, required: true),
        .init(key: .faultTolerance, kind: .count, required: true),
        .init(key: .precision, kind: .timeOrDerived, required: false),
        .init(key: .convergence, kind: .convergence, required: false),
    ]
    static let node: [PropertySchema] = [
        .init(key: .sync, kind: .bool, required: false),
        .init(key: .group, kind: .name, required: false),
        .init(key: .frame, kind: .time, required: false),
    ]
    static let slot: [PropertySchema] = [
        .init(key: .sender, kind: .name, required: true),
        .init(key: .offset, kind: .time, required: false),
        .init(key: .length, kind: .time, required: false),
        .init(key: .cstate, kind: .bool, required: false),
    ]
    static let message: [PropertySchema] = [
        .init(key: .sender, kind: .name, required: true),
        .init(key: .size, kind: .size, required: true),
        .init(key: .period, kind: .rounds, required: false),
        .init(key: .phase, kind: .rounds, required: false),
        .init(key: .to, kind: .names, required: false),
        .init(key: .copies, kind: .count, required: false),
        .init(key: .slot, kind: .name, required: false),
    ]
    static let task: [PropertySchema] = [
        .init(key: .node, kind: .name, required: true),
        .init(key: .period, kind: .time, required: true),
        .init(key: .offset, kind: .time, required: false),
        .init(key: .wcet, kind: .time, required: true),
        .init(key: .deadline, kind: .time, required: false),
        .init(key: .reads, kind: .names, required: false),
        .init(key: .writes, kind: .names, required: false),
        .init(key: .after, kind: .names, required: false),
    ]
    static let chain: [PropertySchema] = [
        .init(key: .path, kind: .path, required: true),
        .init(key: .deadline, kind: .time, required: false),
        .init(key: .maxAge, kind: .time, required: false),
    ]
    static let mode: [PropertySchema] = [
        .init(key: .initial, kind: .bool, required: false),
        .init(key: .transitions, kind: .names, required: false),
    ]

    static func forKeyword(_ keyword: Substring) -> [PropertySchema] {
        switch keyword {
        case "cluster": return cluster
        case "node": return node
        case "slot": return slot
        case "message": return message
        case "task": return task
        case "chain": return chain
        default: return mode
        }
    }
}

/// A checked property value.
enum Value {
    case interval(Interval)
    case drift(DriftRate)
    case bitrate(Bitrate)
    case size(ByteCount)
    case rounds(Int64)
    case count(Int64)
    case bool(Bool)
    case names([Token])
    case derived
    case convergence(ConvergenceFunction)

    var interval: Interval? { if case .interval(let v) = self { return v } else { return nil } }
    var names: [Token] { if case .names(let v) = self { return v } else { return [] } }
}

/// The properties of one declaration after schema checks, keyed by `PropertyKey`.
struct CheckedProperties {
    /// A handful of entries per declaration: a linear scan beats hashing here.
    var keys: [PropertyKey] = []
    var values: [Value] = []
    var spans: DeclarationSpans

    subscript(key: PropertyKey) -> Value? {
        guard let i = keys.firstIndex(of: key) else { return nil }
        return values[i]
    }

    mutating func set(_ key: PropertyKey, _ value: Value) {
        keys.append(key)
        values.append(value)
    }
    func interval(_ key: PropertyKey) -> Interval? { self[key]?.interval }
    func bool(_ key: PropertyKey, default value: Bool) -> Bool {
        if case .bool(let b)? = self[key] { return b }
        return value
    }
    func integer(_ key: PropertyKey) -> Int64? {
        switch self[key] {
        case .count(let v)?, .rounds(let v)?: return v
        default: return nil
        }
    }
    func firstName(_ key: PropertyKey) -> Token? { self[key]?.names.first }
    /// Whether the property was written (even if its value was rejected).
    func has(_ key: PropertyKey) -> Bool { spans.has(key) }
}

public struct Elaborator {
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    private mutating func report(_ code: DiagnosticCode, at location: SourceLocation, _ message: String,
                                 notes: [DiagnosticNote] = [], help: String? = nil) {
        diagnostics.append(Diagnostic(code, at: location, message, notes: notes, help: help))
    }

    // MARK: Property checking

    private mutating func check(_ declaration: SyntaxDeclaration) -> CheckedProperties {
        let schema = Schemas.forKeyword(declaration.keyword.text)
        var checked = CheckedProperties(spans: DeclarationSpans(name: declaration.name.location))
        var seenKeys: [PropertyKey] = []
        var seenLocations: [SourceLocation] = []
        for property in declaration.properties {
            guard let key = PropertyKey.byName(property.key.text),
                  let entry = schema.first(where: { $0.key == key }) else {
                let known = schema.map { $0.key.rawValue }
                report(.unknownProperty, at: property.key.location,
                       "unknown property '\(property.key.text)' for a \(declaration.keyword.text)",
                       help: suggestion(for: property.key.text, among: known).map { "did you mean '\($0)'?" }
                           ?? "a \(declaration.keyword.text) takes: \(known.joined(separator: ", "))")
                continue
            }
            if let i = seenKeys.firstIndex(of: key) {
                let previous = seenLocations[i]
                report(.duplicateProperty, at: property.key.location,
                       "'\(key.rawValue)' is given twice for \(declaration.keyword.text) '\(declaration.name.text)'",
                       notes: [DiagnosticNote(previous, "first given here")], help: "remove one of the two")
                continue
            }
            seenKeys.append(key)
            seenLocations.append(property.key.location)
            checked.spans.record(key, property.value.location)
            if let value = checkValue(property, kind: entry.kind) {
                checked.set(key, value)
            }
        }
        for entry in schema where entry.required && !seenKeys.contains(entry.key) {
            report(.missingProperty, at: declaration.name.location,
                   "\(declaration.keyword.text) '\(declaration.name.text)' has no '\(entry.key.rawValue)'",
                   help: "add '\(entry.key.rawValue) = …' (\(entry.kind.phrase))")
        }
        return checked
    }

    private mutating func checkValue(_ property: SyntaxProperty, kind: ValueKind) -> Value? {
        let key = property.key.text
        func wrongKind(_ found: String, at location: SourceLocation) -> Value? {
            report(.wrongValueKind, at: location, "'\(key)' takes \(kind.phrase), found \(found)")
            return nil
        }
        switch property.value {
        case .quantity(let number, let unit):
            switch kind {
            case .count:
                if let unit {
                    return wrongKind("'\(number.text) \(unit.text)'", at: unit.location)
                }
                return parseCount(number).map(Value.count)
            case .time, .drift, .bitrate, .size, .rounds, .timeOrDerived:
                let expected: QuantityKind
                switch kind {
                case .drift: expected = .drift
                case .bitrate: expected = .bitrate
                case .size: expected = .size
                case .rounds: expected = .rounds
                default: expected = .time
                }
                guard let unit else {
                    report(.missingUnit, at: number.location, "'\(key) = \(number.text)' has no unit",
                           help: "write the unit: '\(key) = \(number.text) \(Elaborator.exampleUnit(expected))'")
                    return nil
                }
                switch Quantity.parse(number: number.text, unit: unit.text) {
                case .failure(.unknownUnit(let u)):
                    report(.invalidQuantity, at: unit.location, "unknown unit '\(u)'",
                           help: Elaborator.unitSuggestion(unit.text, kind: expected).map { "did you mean '\(number.text) \($0)'?" }
                               ?? "'\(key)' takes \(kind.phrase)")
                    return nil
                case .failure(let error):
                    report(.invalidQuantity, at: number.location, error.message)
                    return nil
                case .success(let quantity):
                    switch (expected, quantity) {
                    case (.time, .interval(let v)):
                        guard v <= ScheduleLimits.maximumTime else {
                            report(.outOfRange, at: number.location, "'\(key)' is \(v); times in a schedule are at most \(ScheduleLimits.maximumTime) (about 11.6 days)",
                                   help: "a time-triggered schedule repeats much faster than that; check the unit")
                            return nil
                        }
                        return .interval(v)
                    case (.drift, .drift(let v)): return .drift(v)
                    case (.bitrate, .bitrate(let v)): return .bitrate(v)
                    case (.size, .bytes(let v)): return .size(v)
                    case (.rounds, .rounds(let v)): return .rounds(v)
                    default:
                        return wrongKind("a \(quantity.kind.rawValue) '\(number.text) \(unit.text)'", at: unit.location)
                    }
                }
            default:
                return wrongKind("'\(number.text)\(unit.map { " " + $0.text } ?? "")'", at: number.location)
            }
        case .names(let names):
            switch kind {
            case .bool:
                guard names.count == 1 else { return wrongKind("a list", at: names[0].location) }
                switch names[0].text {
                case "yes", "true": return .bool(true)
                case "no", "false": return .bool(false)
                default: return wrongKind("'\(names[0].text)'", at: names[0].location)
                }
            case .name:
                guard names.count == 1 else { return wrongKind("a list of \(names.count) names", at: names[1].location) }
                return checkNames(names)
            case .names:
                return checkNames(names)
            case .timeOrDerived:
                if names.count == 1, names[0].text == "derived" { return .derived }
                return wrongKind("'\(names[0].text)'", at: names[0].location)
            case .convergence:
                if names.count == 1, let f = ConvergenceFunction(rawValue: String(names[0].text)) { return .convergence(f) }
                return wrongKind("'\(names[0].text)'", at: names[0].location)
            case .path:
                return wrongKind("a single name (a path needs at least two tasks joined by '->')", at: names[0].location)
            default:
                return wrongKind("'\(names[0].text)'", at: names[0].location)
            }
        case .path(let names):
            guard kind == .path else { return wrongKind("a path", at: names[0].location) }
            return checkNames(names)
        }
    }

    private mutating func checkNames(_ names: [Token]) -> Value? {
        for name in names where !Elaborator.isValidName(name.text) {
            report(.syntax, at: name.location, "'\(name.text)' is not a valid name",
                   help: "names are letters, digits and '_', starting with a letter or '_'")
            return nil
        }
        return .names(names)
    }

    static func isValidName(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return text.utf8.allSatisfy { b in
            (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "_")
        }
    }

    /// In order of preference when two are equally close to a typo.
    static let knownUnits = ["ns", "us", "ms", "s", "ppm", "ppb", "bit/s", "kbit/s", "Mbit/s", "Gbit/s", "bytes", "byte", "KiB", "rounds", "round"]
    static let unitAliases: [String: String] = [
        "nsec": "ns", "nanosecond": "ns", "nanoseconds": "ns", "usec": "us", "microsecond": "us", "microseconds": "us",
        "msec": "ms", "millisecond": "ms", "milliseconds": "ms", "sec": "s", "second": "s", "seconds": "s",
        "bps": "bit/s", "kbps": "kbit/s", "mbps": "Mbit/s", "gbps": "Gbit/s", "b/s": "bit/s", "bits/s": "bit/s",
        "kib": "KiB", "kb": "KiB", "octets": "bytes",
    ]

    /// A likely intended unit: a known spelling in another case, a common alias, or a near typo.
    /// Units of the expected kind are preferred.
    static func unitSuggestion(_ unit: Substring, kind: QuantityKind) -> String? {
        let lower = unit.lowercased()
        if let exact = knownUnits.first(where: { $0.lowercased() == lower }) { return exact }
        if let alias = unitAliases[lower] { return alias }
        let ofKind = knownUnits.filter { Quantity.unitKind($0[...]) == kind }
        return suggestion(for: unit, among: ofKind) ?? suggestion(for: unit, among: knownUnits)
    }

    static func exampleUnit(_ kind: QuantityKind) -> String {
        switch kind {
        case .time: return "ms"
        case .drift: return "ppm"
        case .bitrate: return "Mbit/s"
        case .size: return "bytes"
        case .rounds: return "rounds"
        }
    }

    private mutating func parseCount(_ number: Token) -> Int64? {
        if number.text.contains(".") {
            report(.invalidQuantity, at: number.location, "'\(number.text)' is not a whole number")
            return nil
        }
        var value: Int64 = 0
        for b in number.text.utf8 where b != UInt8(ascii: "_") {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(b - 0x30))
            if o1 || o2 {
                report(.invalidQuantity, at: number.location, "'\(number.text.prefix(40))\(number.text.count > 40 ? "…" : "")' is too large")
                return nil
            }
            value = a
        }
        return value
    }

    private mutating func requirePositive(_ value: Interval?, _ key: PropertyKey, _ spans: DeclarationSpans, what: String) -> Interval? {
        guard let value else { return nil }
        if value.nanoseconds <= 0 {
            report(.outOfRange, at: spans[key], "\(what) '\(key.rawValue)' must be greater than zero, found \(value)")
            return nil
        }
        return value
    }

    // MARK: Names

    /// A table of names of one kind, in declaration order, with duplicate detection.
    struct NameTable {
        var names: [String] = []
        var index: [String: Int] = [:]
        var locations: [SourceLocation] = []

        /// Adds a name; returns the location of the previous declaration if it is a duplicate.
        mutating func add(_ name: String, at location: SourceLocation) -> SourceLocation? {
            if let i = index[name] { return locations[i] }
            index[name] = names.count
            names.append(name)
            locations.append(location)
            return nil
        }
    }

    private mutating func declare(_ table: inout NameTable, _ declaration: SyntaxDeclaration, kind: String) -> Bool {
        let name = String(declaration.name.text)
        if !Elaborator.isValidName(declaration.name.text) {
            report(.syntax, at: declaration.name.location, "'\(name)' is not a valid \(kind) name",
                   help: "names are letters, digits and '_', starting with a letter or '_'")
            return false
        }
        if let previous = table.add(name, at: declaration.name.location) {
            report(.duplicateName, at: declaration.name.location, "\(kind) '\(name)' is declared twice",
                   notes: [DiagnosticNote(previous, "first declared here")], help: "rename or remove one of them")
            return false
        }
        return true
    }

    private mutating func resolve(_ token: Token, in table: NameTable, kind: String) -> Int? {
        if let i = table.index[String(token.text)] { return i }
        report(.unknownName, at: token.location, "no \(kind) named '\(token.text)'",
               help: suggestion(for: token.text, among: table.names).map { "did you mean '\($0)'?" }
                   ?? (table.names.isEmpty ? "declare a \(kind) first" : nil))
        return nil
    }

    // MARK: Elaboration

    public static func elaborate(_ file: SyntaxFile) -> (Schedule?, [Diagnostic]) {
        var elaborator = Elaborator()
        let schedule = elaborator.run(file)
        return (schedule, elaborator.diagnostics)
    }

    private mutating func run(_ file: SyntaxFile) -> Schedule? {
        var clusterDeclarations: [SyntaxDeclaration] = []
        var nodeDeclarations: [SyntaxDeclaration] = []
        var topSlots: [SyntaxDeclaration] = []
        var topTasks: [SyntaxDeclaration] = []
        var messageDeclarations: [SyntaxDeclaration] = []
        var chainDeclarations: [SyntaxDeclaration] = []
        var modeDeclarations: [SyntaxDeclaration] = []
        for d in file.declarations {
            switch d.keyword.text {
            case "cluster": clusterDeclarations.append(d)
            case "node": nodeDeclarations.append(d)
            case "slot": topSlots.append(d)
            case "task": topTasks.append(d)
            case "message": messageDeclarations.append(d)
            case "chain": chainDeclarations.append(d)
            default: modeDeclarations.append(d)
            }
        }

        // Cluster.
        guard let clusterDeclaration = clusterDeclarations.first else {
            report(.missingCluster, at: file.declarations.first?.keyword.location ?? .startOfFile,
                   "the schedule declares no cluster",
                   help: "start the file with 'cluster NAME { round = 10 ms  macrotick = 50 us  bitrate = 10 Mbit/s  drift = 100 ppm  reading_error = 10 us  fault_tolerance = 1 }'")
            // Still check the other declarations' properties so their errors are reported too.
            for d in file.declarations { _ = check(d); for c in d.children { _ = check(c) } }
            return nil
        }
        for extra in clusterDeclarations.dropFirst() {
            report(.duplicateName, at: extra.keyword.location, "a schedule describes one cluster; this is a second one",
                   notes: [DiagnosticNote(clusterDeclaration.keyword.location, "the cluster is declared here")],
                   help: "put each cluster in its own file")
        }
        let cluster = elaborateCluster(clusterDeclaration)

        // Nodes.
        var nodeNames = NameTable()
        var nodes: [Node] = []
        for d in nodeDeclarations {
            let p = check(d)
            guard declare(&nodeNames, d, kind: "node") else { continue }
            let frame = requirePositive(p.interval(.frame), .frame, p.spans, what: "node")
            nodes.append(Node(name: String(d.name.text), sync: p.bool(.sync, default: true),
                              group: p.firstName(.group).map { String($0.text) }, frame: frame, spans: p.spans))
        }
        if nodes.count > ScheduleLimits.maximumNodes {
            report(.outOfRange, at: nodeDeclarations[ScheduleLimits.maximumNodes].name.location,
                   "a cluster has at most \(ScheduleLimits.maximumNodes) nodes; this is node \(ScheduleLimits.maximumNodes + 1)")
        }

        // Messages (global).
        var messageNames = NameTable()
        var messages: [Message] = []
        for d in messageDeclarations {
            let p = check(d)
            guard declare(&messageNames, d, kind: "message") else { continue }
            guard let senderToken = p.firstName(.sender), let sender = resolve(senderToken, in: nodeNames, kind: "node") else { continue }
            var destinations: [Int] = []
            if p[.to] != nil {
                for t in p[.to]!.names {
                    if t.text == "all" && nodeNames.index["all"] == nil {
                        destinations = Array(nodes.indices)
                        break
                    }
                    if let n = resolve(t, in: nodeNames, kind: "node") {
                        if destinations.contains(n) {
                            report(.duplicateName, at: t.location, "node '\(t.text)' is listed twice in 'to'", help: "remove the repetition")
                        } else {
                            destinations.append(n)
                        }
                    }
                }
            } else {
                destinations = Array(nodes.indices)
            }
            let size = p[.size].flatMap { v -> ByteCount? in if case .size(let s) = v { return s } else { return nil } }
            if let size, size.bytes <= 0 || size.bytes > 65_535 {
                report(.outOfRange, at: p.spans[.size], "a message is 1 to 65535 bytes, found \(size)")
                continue
            }
            let period = p.integer(.period) ?? 1
            if period < 1 || period > ScheduleLimits.maximumCycleRounds {
                report(.outOfRange, at: p.spans[.period], "a message period is 1 to \(ScheduleLimits.maximumCycleRounds) rounds, found \(period)")
                continue
            }
            let copies = p.integer(.copies) ?? 1
            if copies < 1 || copies > Int64(ScheduleLimits.maximumCopies) {
                report(.outOfRange, at: p.spans[.copies], "a message is sent in 1 to \(ScheduleLimits.maximumCopies) copies, found \(copies)")
                continue
            }
            guard let size else { continue }
            messages.append(Message(name: String(d.name.text), sender: sender, size: size, periodRounds: period,
                                    phaseRounds: p.integer(.phase) ?? 0, destinations: destinations, copies: Int(copies),
                                    slotName: p.firstName(.slot).map { String($0.text) }, spans: p.spans))
        }

        // Modes: either declared, or one implicit mode holding the top-level slots and tasks.
        var modes: [Mode] = []
        var modeNames = NameTable()
        let modesDeclared = !modeDeclarations.isEmpty
        if modesDeclared {
            for stray in topSlots + topTasks {
                report(.mixedModeDeclarations, at: stray.keyword.location,
                       "\(stray.keyword.text) '\(stray.name.text)' is outside every mode, but this schedule declares modes",
                       notes: [DiagnosticNote(modeDeclarations[0].keyword.location, "first mode declared here")],
                       help: "move it into the mode blocks that use it")
            }
        }
        let modeBodies: [(name: String, declaration: SyntaxDeclaration?, slots: [SyntaxDeclaration], tasks: [SyntaxDeclaration])]
        if modesDeclared {
            // Only modes whose names were declared successfully, so mode indices match modeNames.
            modeBodies = modeDeclarations.compactMap { d in
                guard declare(&modeNames, d, kind: "mode") else { return nil }
                return (String(d.name.text), d, d.children.filter { $0.keyword.text == "slot" }, d.children.filter { $0.keyword.text == "task" })
            }
        } else {
            modeBodies = [("default", nil, topSlots, topTasks)]
        }
        let precision = cluster.flatMap { Analysis.precisionInUse(cluster: $0, nodes: nodes) }
        for body in modeBodies {
            var spans = DeclarationSpans(name: body.declaration?.name.location ?? .startOfFile)
            var transitions: [Int] = []
            var initial = false
            if let d = body.declaration {
                let p = check(d)
                spans = p.spans
                initial = p.bool(.initial, default: false)
                for t in p[.transitions]?.names ?? [] {
                    if let m = resolve(t, in: modeNames, kind: "mode") {
                        if modeNames.names[m] == body.name {
                            report(.modeTransitionInvalid, at: t.location, "mode '\(body.name)' lists a transition to itself",
                                   help: "remove '\(t.text)' from its transitions")
                        } else {
                            transitions.append(m)
                        }
                    }
                }
            }
            let slots = elaborateSlots(body.slots, nodes: nodeNames, messages: messages, cluster: cluster, nodeCount: nodes.count, precision: precision)
            let tasks = elaborateTasks(body.tasks, nodes: nodeNames, messages: messageNames, modeled: messages)
            var mode = Mode(name: body.name, slots: slots, tasks: tasks, transitions: transitions, initial: initial, spans: spans)
            mode.incomplete = slots.count < body.slots.count || tasks.count < body.tasks.count
            modes.append(mode)
        }

        // Chains (global; resolved per mode by the validator).
        var chainNames = NameTable()
        var chains: [Chain] = []
        for d in chainDeclarations {
            let p = check(d)
            guard declare(&chainNames, d, kind: "chain") else { continue }
            let path = p[.path]?.names ?? []
            if path.isEmpty { continue }
            let allTasks = Set(modes.flatMap { $0.tasks.map(\.name) })
            var ok = true
            for t in path where !allTasks.contains(String(t.text)) {
                report(.unknownName, at: t.location, "no task named '\(t.text)'",
                       help: suggestion(for: t.text, among: allTasks.sorted()).map { "did you mean '\($0)'?" })
                ok = false
            }
            var seenTasks: [String: SourceLocation] = [:]
            for t in path {
                if let previous = seenTasks[String(t.text)] {
                    report(.chainMalformed, at: t.location, "task '\(t.text)' appears twice in chain '\(d.name.text)'",
                           notes: [DiagnosticNote(previous, "first appears here")],
                           help: "a chain is a path without repetitions; split a feedback loop into two chains")
                    ok = false
                }
                seenTasks[String(t.text)] = t.location
            }
            guard ok else { continue }
            chains.append(Chain(name: String(d.name.text), path: path.map { String($0.text) }, pathLocations: path.map(\.location),
                                deadline: requirePositive(p.interval(.deadline), .deadline, p.spans, what: "chain"),
                                maxAge: requirePositive(p.interval(.maxAge), .maxAge, p.spans, what: "chain"), spans: p.spans))
        }

        guard let cluster else { return nil }
        var initialMode = 0
        if modesDeclared {
            let initials = modes.indices.filter { modes[$0].initial }
            if let first = initials.first { initialMode = first }
            for extra in initials.dropFirst() {
                report(.multipleInitialModes, at: modes[extra].spans[.initial],
                       "mode '\(modes[extra].name)' is marked initial, but so is '\(modes[initials[0]].name)'",
                       notes: [DiagnosticNote(modes[initials[0]].spans[.initial], "first initial mode")],
                       help: "mark exactly one mode 'initial = yes'")
            }
        }
        return Schedule(cluster: cluster, nodes: nodes, messages: messages, chains: chains, modes: modes,
                        modesDeclared: modesDeclared, initialMode: initialMode)
    }

    private mutating func elaborateCluster(_ d: SyntaxDeclaration) -> Cluster? {
        let p = check(d)
        let round = requirePositive(p.interval(.round), .round, p.spans, what: "cluster")
        let macrotick = requirePositive(p.interval(.macrotick), .macrotick, p.spans, what: "cluster")
        var cycle = p.integer(.cycle) ?? 1
        if cycle < 1 || cycle > ScheduleLimits.maximumCycleRounds {
            report(.outOfRange, at: p.spans[.cycle], "a cluster cycle is 1 to \(ScheduleLimits.maximumCycleRounds) rounds, found \(cycle)")
            cycle = 1
        }
        var bitrate: Bitrate?
        if case .bitrate(let b)? = p[.bitrate] {
            if b.bitsPerSecond <= 0 {
                report(.outOfRange, at: p.spans[.bitrate], "the bitrate must be greater than zero")
            } else { bitrate = b }
        }
        var drift: DriftRate?
        if case .drift(let r)? = p[.drift] {
            if r.partsPerBillion >= 1_000_000_000 {
                report(.outOfRange, at: p.spans[.drift], "a drift rate must be below 1000000 ppm, found \(r)")
            } else { drift = r }
        }
        let propagation = p.interval(.propagation) ?? .zero
        let readingError = p.interval(.readingError)
        var k = p.integer(.faultTolerance)
        if let value = k, value > Int64(ScheduleLimits.maximumFaultTolerance) {
            report(.outOfRange, at: p.spans[.faultTolerance], "fault_tolerance is at most \(ScheduleLimits.maximumFaultTolerance), found \(value)")
            k = nil
        }
        var declaredPrecision: Interval?
        if case .interval(let v)? = p[.precision] {
            declaredPrecision = requirePositive(v, .precision, p.spans, what: "cluster")
        }
        var convergence = ConvergenceFunction.faultTolerantAverage
        if case .convergence(let f)? = p[.convergence] { convergence = f }
        // Without a round nothing can be timed. Any other broken value (already reported) gets a
        // neutral stand-in and is listed in `unresolved`, so the rules that do not depend on it
        // still run and one typo in the cluster does not hide every other error of the file.
        guard let round else { return nil }
        var unresolved: [PropertyKey] = []
        func value<T>(_ v: T?, _ key: PropertyKey, _ standIn: T) -> T {
            if let v { return v }
            unresolved.append(key)
            return standIn
        }
        if p.has(.precision) && declaredPrecision == nil && !(p[.precision].map { if case .derived = $0 { return true } else { return false } } ?? false) {
            unresolved.append(.precision)
        }
        if p.has(.cycle) && (p.integer(.cycle) == nil || p.integer(.cycle) != cycle) { unresolved.append(.cycle) }
        var cluster = Cluster(name: String(d.name.text), round: round, cycleRounds: cycle,
                              macrotick: value(macrotick, .macrotick, .nanoseconds(1)),
                              bitrate: value(bitrate, .bitrate, Bitrate(bitsPerSecond: Int64.max)),
                              propagation: propagation, drift: value(drift, .drift, DriftRate(partsPerBillion: 0)),
                              readingError: value(readingError, .readingError, .zero), faultTolerance: Int(value(k, .faultTolerance, 0)),
                              declaredPrecision: declaredPrecision, convergence: convergence, spans: p.spans)
        cluster.unresolved = unresolved
        return cluster
    }

    private mutating func elaborateSlots(_ declarations: [SyntaxDeclaration], nodes: NameTable, messages: [Message],
                                         cluster: Cluster?, nodeCount: Int, precision: Interval?) -> [Slot] {
        var names = NameTable()
        var slots: [Slot] = []
        for d in declarations {
            let p = check(d)
            guard declare(&names, d, kind: "slot") else { continue }
            guard let senderToken = p.firstName(.sender), let sender = resolve(senderToken, in: nodes, kind: "node") else { continue }
            let length = requirePositive(p.interval(.length), .length, p.spans, what: "slot")
            if p.has(.length) && length == nil { continue }
            let offset = p.interval(.offset)
            if let offset, offset.nanoseconds < 0 {
                report(.outOfRange, at: p.spans[.offset], "a slot offset cannot be negative")
                continue
            }
            slots.append(Slot(name: String(d.name.text), sender: sender, offset: offset ?? .zero, length: length ?? .zero,
                              offsetDerived: offset == nil, lengthDerived: length == nil,
                              carriesCState: p.bool(.cstate, default: true), spans: p.spans))
        }
        // Derived offsets and lengths, in declaration order: a slot without an offset starts where
        // the previous one ends; a slot without a length gets the shortest length that fits its
        // largest frame, the propagation delay and a guard of 2Π, rounded up to the macrotick.
        guard let cluster else { return slots }
        let payloads = Analysis.slotPayloads(slots: slots, messages: messages, cluster: cluster)
        var previousEnd = Interval.zero
        for i in slots.indices {
            if slots[i].offsetDerived { slots[i].offset = previousEnd }
            if slots[i].lengthDerived {
                let frameBytes = FrameLayout.frameBytes(nodeCount: nodeCount, payloadBytes: payloads[i])
                if let frameTime = cluster.bitrate.transmissionTime(bits: frameBytes * 8), let precision {
                    let needed = frameTime.saturatingAdd(cluster.propagation).saturatingAdd(precision.saturatingMultiply(by: 2))
                    slots[i].length = Analysis.roundUp(needed, to: cluster.macrotick)
                } else {
                    slots[i].length = cluster.macrotick
                }
            }
            previousEnd = slots[i].offset.saturatingAdd(slots[i].length)
        }
        return slots
    }

    private mutating func elaborateTasks(_ declarations: [SyntaxDeclaration], nodes: NameTable, messages: NameTable,
                                         modeled: [Message]) -> [TaskSpec] {
        // Messages that failed to elaborate have a name but no model; references to them resolve
        // (no E203) but are dropped, since the message's own error was already reported.
        var messageIndex: [String: Int] = [:]
        for (i, m) in modeled.enumerated() { messageIndex[m.name] = i }
        var names = NameTable()
        var pending: [(TaskSpec, [Token])] = []
        for d in declarations {
            let p = check(d)
            guard declare(&names, d, kind: "task") else { continue }
            guard let nodeToken = p.firstName(.node), let node = resolve(nodeToken, in: nodes, kind: "node") else { continue }
            guard let period = requirePositive(p.interval(.period), .period, p.spans, what: "task"),
                  let wcet = requirePositive(p.interval(.wcet), .wcet, p.spans, what: "task") else { continue }
            let offset = p.interval(.offset) ?? .zero
            if offset.nanoseconds < 0 {
                report(.outOfRange, at: p.spans[.offset], "a task offset cannot be negative")
                continue
            }
            let deadline = p.has(.deadline) ? requirePositive(p.interval(.deadline), .deadline, p.spans, what: "task") : period
            guard let deadline else { continue }
            func messageList(_ key: PropertyKey) -> [Int] {
                var result: [Int] = []
                for t in p[key]?.names ?? [] {
                    if resolve(t, in: messages, kind: "message") != nil, let m = messageIndex[String(t.text)] {
                        if result.contains(m) {
                            report(.duplicateName, at: t.location, "message '\(t.text)' is listed twice in '\(key.rawValue)'", help: "remove the repetition")
                        } else { result.append(m) }
                    }
                }
                return result
            }
            let task = TaskSpec(name: String(d.name.text), node: node, period: period, offset: offset, wcet: wcet, deadline: deadline,
                                reads: messageList(.reads), writes: messageList(.writes), after: [], spans: p.spans)
            pending.append((task, p[.after]?.names ?? []))
        }
        // `after` may name tasks declared later in the same mode. A task that failed to elaborate
        // has a name but no index; references to it were already reported where it broke.
        var indexByName: [String: Int] = [:]
        for (i, entry) in pending.enumerated() { indexByName[entry.0.name] = i }
        return pending.map { task, afterTokens in
            var task = task
            for t in afterTokens {
                guard resolve(t, in: names, kind: "task in this mode") != nil else { continue }
                if let i = indexByName[String(t.text)] { task.after.append(i) }
            }
            return task
        }
    }
}
