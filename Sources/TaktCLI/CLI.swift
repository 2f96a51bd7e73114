// `takt`: the one command-line tool, with subcommands (Docs/cli.md).
//
// Exit status, for every subcommand: 0 success (for `check`: every file valid), 1 the input was
// read but is invalid / a guarantee failed, 2 unreadable input or bad usage.

import Foundation
import TaktSchedule
import TaktTime

public enum ExitStatus {
    public static let success: Int32 = 0
    public static let failure: Int32 = 1
    public static let usage: Int32 = 2
}

struct Subcommand {
    var name: String
    var summary: String
    var usage: String
    var options: [OptionSpec]
    var run: (ParsedArguments, inout Console) -> Int32
}

public enum TaktCommand {
    static let helpOption = OptionSpec(["--help", "-h"], help: "show this help")

    static var subcommands: [Subcommand] {
        [
            Subcommand(name: "demo", summary: "the replicated control demo: a two-tank plant, a TMR controller, a node killed and a sensor value corrupted",
                       usage: "takt demo [--simulated] [--seed N] [--duration D] [--svg FILE] [--json] [--no-faults] [--priority P] [--schedule FILE]",
                       options: DemoCommand.options, run: DemoCommand.run),
            Subcommand(name: "check", summary: "validate schedule files, as a compiler would",
                       usage: "takt check FILE|DIR... [--format text|json] [--quiet]",
                       options: CheckCommand.options, run: CheckCommand.run),
            Subcommand(name: "show", summary: "print a schedule's slot table, dispatch tables and derived bounds",
                       usage: "takt show FILE [--mode NAME] [--limit N]",
                       options: ShowCommand.options, run: ShowCommand.run),
            Subcommand(name: "plot", summary: "draw one cluster cycle of a schedule as an SVG timeline",
                       usage: "takt plot FILE -o OUT.svg [--mode NAME]",
                       options: PlotCommand.options, run: PlotCommand.run),
            Subcommand(name: "sim", summary: "run a schedule in the deterministic simulator and check every guarantee",
                       usage: "takt sim SCHEDULE [--scenario FILE] [--seed N] [--rounds R] [--crash|--restart|--omit NODE@ROUND] [--cold-start SPREAD] [--random-faults] [--seeds N] [--trace FILE] [--json]",
                       options: SimCommand.options, run: SimCommand.run),
            Subcommand(name: "node", summary: "run one node of a cluster for real, over UDP (multicast or unicast)",
                       usage: "takt node SCHEDULE --node NAME [--medium multicast|unicast] [--group ADDR:PORT] [--interface IF] [--drift PPM] [--offset D] [--spin D] [--priority P] [--cpu N] [--duration D] [--json]",
                       options: NodeCommand.options, run: NodeCommand.run),
            Subcommand(name: "cluster", summary: "run every node of a schedule as processes on this host and check the guarantees",
                       usage: "takt cluster SCHEDULE [--duration D] [--drift-spread PPM] [--kill NODE@T] [--restart NODE@T] [--stop NODE@T+D] [--medium multicast|unicast] [--json]",
                       options: ClusterCommand.options, run: ClusterCommand.run),
            Subcommand(name: "bench", summary: "benchmarks: dispatch lateness (next to cyclictest), atomic-broadcast latency, simulator throughput, validator speed",
                       usage: "takt bench jitter [--interval D] [--loops N | --duration D] [--spin D] [--policy fifo|other] [--priority P] [--cpu N] [--histogram MAX_US] [--json FILE] [--svg FILE] [--compare-cyclictest [--concurrent]] | takt bench latency SCHEDULE [--duration D] [--drift-spread PPM] [--allowance D] [--json FILE] [--svg FILE] | takt bench sim [--nodes LIST] | takt bench check [--nodes N --tasks M]",
                       options: BenchCommand.options, run: BenchCommand.run),
            Subcommand(name: "gen", summary: "generate a large valid schedule (for benchmarks)",
                       usage: "takt gen --nodes N --tasks M [--messages K] [-o FILE]",
                       options: GenerateCommand.options, run: GenerateCommand.run),
        ]
    }

    static var mainUsage: String {
        let width = subcommands.map(\.name.count).max() ?? 0
        let list = subcommands.map { "  \($0.name)\(String(repeating: " ", count: width - $0.name.count))  \($0.summary)" }
            .joined(separator: "\n")
        return """
        takt — a clock-driven, time-triggered real-time runtime

        USAGE: takt SUBCOMMAND [OPTIONS]

        SUBCOMMANDS:
        \(list)

        Run 'takt SUBCOMMAND --help' for a subcommand's options. Docs/cli.md has the full reference.

        EXIT STATUS: 0 success, 1 invalid input or a guarantee failed, 2 unreadable input or bad usage.

        """
    }

    /// Runs `takt` with `arguments` (without the program name) and returns the exit status.
    public static func run(_ arguments: [String], console: inout Console) -> Int32 {
        guard let first = arguments.first else {
            console.err.write(mainUsage)
            return ExitStatus.usage
        }
        if first == "--help" || first == "-h" || first == "help" {
            if first == "help", arguments.count > 1, let sub = subcommands.first(where: { $0.name == arguments[1] }) {
                console.out.write(subcommandHelp(sub))
            } else {
                console.out.write(mainUsage)
            }
            return ExitStatus.success
        }
        if first == "--version" {
            console.out.write("takt \(version)\n")
            return ExitStatus.success
        }
        if first == CheckpointStress.name { return CheckpointStress.run(Array(arguments.dropFirst()), console: &console) }  // hidden: the kill -9 test's child
        guard let sub = subcommands.first(where: { $0.name == first }) else {
            let hint = suggestion(for: first[...], among: subcommands.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
            console.err.write("error: unknown subcommand '\(first)'\(hint)\n\n" + mainUsage)
            return ExitStatus.usage
        }
        let parsed: ParsedArguments
        do {
            parsed = try parseArguments(Array(arguments.dropFirst()), options: sub.options + [helpOption])
        } catch {
            console.err.write("error: \(error.message)\n\n" + subcommandHelp(sub))
            return ExitStatus.usage
        }
        if parsed.has("--help") {
            console.out.write(subcommandHelp(sub))
            return ExitStatus.success
        }
        return sub.run(parsed, &console)
    }

    static func subcommandHelp(_ sub: Subcommand) -> String {
        "takt \(sub.name) — \(sub.summary)\n\nUSAGE: \(sub.usage)\n\nOPTIONS:\n\(renderOptions(sub.options + [helpOption]))\n"
    }

    public static let version = "0.1.0"

    static func usageError(_ message: String, subcommand: String, console: inout Console) -> Int32 {
        let help = subcommands.first { $0.name == subcommand }.map(subcommandHelp) ?? mainUsage
        console.err.write("error: \(message)\n\n\(help)")
        return ExitStatus.usage
    }
}

// MARK: Reading schedule files

/// The largest schedule file Takt reads.
let maximumFileBytes = 256 << 20

enum InputError: Error {
    case unreadable(String)
}

/// Reads a schedule file as text; invalid UTF-8 is replaced (and then reported by the lexer).
func readScheduleFile(_ path: String) throws(InputError) -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw .unreadable("\(path): no such file")
    }
    if isDirectory.boolValue { throw .unreadable("\(path): is a directory") }
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: path), options: [.mappedIfSafe])
    } catch {
        throw .unreadable("\(path): cannot be read (\(error.localizedDescription))")
    }
    if data.count > maximumFileBytes {
        throw .unreadable("\(path): \(data.count) bytes is larger than the \(maximumFileBytes >> 20) MiB a schedule may have")
    }
    return String(decoding: data, as: UTF8.self)
}

/// Expands directories to the `.takt` files they contain (sorted, not recursive).
func expandPaths(_ paths: [String]) -> [String] {
    var result: [String] = []
    for path in paths {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
           let entries = try? FileManager.default.contentsOfDirectory(atPath: path) {
            let base = path.hasSuffix("/") ? path : path + "/"
            result += entries.filter { $0.hasSuffix(".takt") }.sorted().map { base + $0 }
        } else {
            result.append(path)
        }
    }
    return result
}

/// Loads and checks one file for the subcommands that need a valid schedule (show, plot).
func loadValidSchedule(_ path: String, console: inout Console) -> (CheckResult, Int32?) {
    let text: String
    do {
        text = try readScheduleFile(path)
    } catch {
        if case .unreadable(let message) = error { console.err.write("error: \(message)\n") }
        return (CheckResult(schedule: nil, diagnostics: [], derived: nil), ExitStatus.usage)
    }
    let result = ScheduleChecker.check(text)
    for d in result.diagnostics { console.err.write(d.rendered(path: path)) }
    if !result.valid {
        console.err.write("error: \(path) is not a valid schedule (\(result.errorCount) error\(result.errorCount == 1 ? "" : "s")); run 'takt check \(path)'\n")
        return (result, ExitStatus.failure)
    }
    return (result, nil)
}
