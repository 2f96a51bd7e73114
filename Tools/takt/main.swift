// The `takt` command. All logic lives in TaktCLI so tests can drive it in-process.
import Foundation
import TaktCLI

var console = Console.standard()
let status = TaktCommand.run(Array(CommandLine.arguments.dropFirst()), console: &console)
exit(status)
