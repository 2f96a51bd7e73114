// Budgets enforced by a test, not by review: the core modules stay OS-free and deterministic.

import Foundation
import Testing

@Suite("Tidy: banned imports and APIs in the core modules")
struct TidyTests {
    static let coreModules = ["TaktTime", "TaktSchedule", "TaktProtocol", "TaktSim", "TaktControl"]
    static let banned = [
        "import Foundation", "import Glibc", "import Dispatch", "import Darwin",
        "Date()", "SystemRandomNumberGenerator", "ContinuousClock", "DispatchQueue", "Task {", " actor ",
        "-Ounchecked", "unsafeFlags",
    ]

    @Test(arguments: coreModules)
    func coreModuleUsesNothingBanned(_ module: String) throws {
        let dir = scheduleDirectory + "/Sources/" + module
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".swift") }
        #expect(!files.isEmpty)
        for file in files {
            let text = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
            for rawLine in text.split(separator: "\n") where !rawLine.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                let line = " " + rawLine  // so a banned word at the start of a line still matches " actor "
                for word in Self.banned {
                    #expect(!line.contains(word), "\(module)/\(file) uses banned '\(word)': \(line)")
                }
            }
        }
    }

    @Test func packageHasNoDependencies() throws {
        let text = try String(contentsOfFile: scheduleDirectory + "/Package.swift", encoding: .utf8)
        #expect(!text.contains(".package("))
        #expect(!text.contains("unsafeFlags"))
    }
}
