// Budgets enforced by a test, not by review: the core modules stay OS-free and deterministic.

import Foundation
import Testing
import TaktTestSupport

@Suite("Tidy: banned imports and APIs in the core modules", .hostShared)
struct TidyTests {
    static let coreModules = ["TaktTime", "TaktSchedule", "TaktProtocol", "TaktSim", "TaktControl"]
    static let banned = [
        "import Foundation", "import Glibc", "import Dispatch", "import Darwin",
        "Date()", "SystemRandomNumberGenerator", "ContinuousClock", "DispatchQueue", "Task {", " actor ",
        "-Ounchecked", "unsafeFlags",
    ]

    @Test(arguments: coreModules)
    func coreModuleUsesNothingBanned(_ module: String) throws {
        let dir = packageRoot + "/Sources/" + module
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
        let text = try String(contentsOfFile: packageRoot + "/Package.swift", encoding: .utf8)
        #expect(!text.contains(".package("))
        #expect(!text.contains("unsafeFlags"))
    }

    /// Every suite says how it shares this host (TaktTestSupport/HostGate): `.hostExclusive` for
    /// one that runs real clusters or child processes on deadlines, `.hostShared` for the rest, so
    /// no suite added later runs beside a real cluster by accident; and no test lies outside a suite.
    @Test func everySuiteTakesTheHostGate() throws {
        let tests = packageRoot + "/Tests"
        let enumerator = try #require(FileManager.default.enumerator(atPath: tests))
        var suites = 0
        while let file = enumerator.nextObject() as? String {
            guard file.hasSuffix(".swift"), !file.hasPrefix("TaktTestSupport") else { continue }
            let text = try String(contentsOfFile: tests + "/" + file, encoding: .utf8)
            for line in text.split(separator: "\n") {
                if line.hasPrefix("@Suite") {
                    suites += 1
                    #expect(line.contains(".hostShared") || line.contains(".hostExclusive"), "\(file): \(line)")
                }
                #expect(!line.hasPrefix("@Test"), "\(file): a test outside a suite: \(line)")
            }
        }
        #expect(suites > 60)
    }
}
