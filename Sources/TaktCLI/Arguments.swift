// A small, strict argument parser: every subcommand declares its options; anything else is a
// usage error (exit 2) with the subcommand's usage.

public struct OptionSpec: Sendable {
    public var names: [String]
    public var valueName: String?
    public var help: String

    public init(_ names: [String], value: String? = nil, help: String) {
        self.names = names
        self.valueName = value
        self.help = help
    }
}

public struct UsageError: Error, Sendable {
    public var message: String
}

public struct ParsedArguments: Sendable {
    public var values: [String: [String]] = [:]
    public var flags: Set<String> = []
    public var positionals: [String] = []

    /// The last value given for an option (options may repeat; the last one wins).
    public func value(_ name: String) -> String? { values[name]?.last }
    public func all(_ name: String) -> [String] { values[name] ?? [] }
    public func has(_ name: String) -> Bool { flags.contains(name) || values[name] != nil }
}

public func parseArguments(_ arguments: [String], options: [OptionSpec]) throws(UsageError) -> ParsedArguments {
    var result = ParsedArguments()
    var i = 0
    var onlyPositionals = false
    while i < arguments.count {
        let argument = arguments[i]
        i += 1
        if onlyPositionals || argument == "-" || !argument.hasPrefix("-") {
            result.positionals.append(argument)
            continue
        }
        if argument == "--" { onlyPositionals = true; continue }
        var name = argument
        var inlineValue: String?
        if let eq = argument.firstIndex(of: "="), argument.hasPrefix("--") {
            name = String(argument[..<eq])
            inlineValue = String(argument[argument.index(after: eq)...])
        }
        guard let spec = options.first(where: { $0.names.contains(name) }) else {
            throw UsageError(message: "unknown option '\(name)'")
        }
        let key = spec.names[0]
        if spec.valueName != nil {
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard i < arguments.count else { throw UsageError(message: "option '\(name)' needs a value (\(spec.valueName!))") }
                value = arguments[i]
                i += 1
            }
            result.values[key, default: []].append(value)
        } else {
            if inlineValue != nil { throw UsageError(message: "option '\(name)' takes no value") }
            result.flags.insert(key)
        }
    }
    return result
}

public func renderOptions(_ options: [OptionSpec]) -> String {
    let rows = options.map { spec -> (String, String) in
        let names = spec.names.joined(separator: ", ") + (spec.valueName.map { " \($0)" } ?? "")
        return (names, spec.help)
    }
    let width = min(30, rows.map(\.0.count).max() ?? 0)
    return rows.map { names, help in
        let pad = names.count < width ? String(repeating: " ", count: width - names.count) : ""
        return "  \(names)\(pad)  \(help)"
    }.joined(separator: "\n")
}
