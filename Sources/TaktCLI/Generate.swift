// `takt gen`: writes a large valid schedule, for benchmarks (Docs/benchmarks.md).

import Foundation
import TaktSchedule

enum GenerateCommand {
    static let options: [OptionSpec] = [
        OptionSpec(["--nodes"], value: "N", help: "number of nodes, 4 to 4096 (default 1000)"),
        OptionSpec(["--tasks"], value: "M", help: "number of tasks, spread evenly over the nodes (default 100000)"),
        OptionSpec(["--messages"], value: "K", help: "number of messages, at most one per node (default: one per node)"),
        OptionSpec(["--output", "-o"], value: "FILE", help: "write to FILE instead of standard output"),
    ]

    static func run(_ arguments: ParsedArguments, _ console: inout Console) -> Int32 {
        guard arguments.positionals.isEmpty else {
            return TaktCommand.usageError("unexpected argument '\(arguments.positionals[0])'", subcommand: "gen", console: &console)
        }
        func integer(_ name: String, default value: Int) -> Int? {
            guard let text = arguments.value(name) else { return value }
            return Int(text)
        }
        guard let nodes = integer("--nodes", default: 1000), let tasks = integer("--tasks", default: 100_000) else {
            return TaktCommand.usageError("--nodes and --tasks take whole numbers", subcommand: "gen", console: &console)
        }
        var messages: Int?
        if let text = arguments.value("--messages") {
            guard let v = Int(text) else { return TaktCommand.usageError("--messages takes a whole number", subcommand: "gen", console: &console) }
            messages = v
        }
        let text: String
        do {
            text = try ScheduleGenerator.generate(nodes: nodes, tasks: tasks, messages: messages)
        } catch {
            if case .invalid(let message) = error { console.err.write("error: \(message)\n") }
            return ExitStatus.usage
        }
        if let path = arguments.value("--output") {
            do {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                console.err.write("error: cannot write \(path): \(error.localizedDescription)\n")
                return ExitStatus.usage
            }
            console.err.write("wrote \(path) (\(nodes) nodes, \(tasks) tasks, \(text.utf8.count) bytes)\n")
        } else {
            console.out.write(text)
        }
        return ExitStatus.success
    }
}
