// Bad input of every kind gets diagnostics and never a trap: binary garbage, truncated files,
// empty files, huge numbers, very long lines, unknown units, and the fuzzer's seeds and crashers.

import Foundation
import Testing
import TaktTestSupport
import TaktSchedule

func shippedScheduleTexts() throws -> [(String, String)] {
    let dir = packageRoot + "/Schedules"
    let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".takt") }.sorted()
    return try names.map { ($0, try String(contentsOfFile: dir + "/" + $0, encoding: .utf8)) }
}

@Suite("Malformed input never traps", .hostShared)
struct MalformedInputTests {
    @Test func emptyAndWhitespaceFiles() {
        for text in ["", " ", "\n\n\n", "# only a comment\n", "\t\r\n"] {
            let result = ScheduleChecker.check(text)
            #expect(!result.valid)
            #expect(result.diagnostics.map(\.code) == [.missingCluster])
            #expect(result.diagnostics[0].location == SourceLocation(line: 1, column: 1))
        }
    }

    @Test func binaryGarbage() {
        var rng = SplitMix64(seed: 0xBAD)
        for length in [1, 7, 64, 1_000, 20_000] {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let result = ScheduleChecker.check(String(decoding: bytes, as: UTF8.self))
                #expect(!result.valid)
                #expect(!result.diagnostics.isEmpty)
                #expect(result.diagnostics.count <= 201)
            }
        }
        // NUL bytes and invalid UTF-8 in the middle of a valid file.
        let result = ScheduleChecker.check(baseSchedule.replacingOccurrences(of: "node c", with: "node c\u{0}\u{FFFD}"))
        #expect(result.diagnostics.contains { $0.code == .unexpectedCharacter && $0.location.line == 13 })
    }

    @Test func everyTruncationOfEveryShippedSchedule() throws {
        for (name, text) in try shippedScheduleTexts() {
            let scalars = Array(text.unicodeScalars)
            var step = max(1, scalars.count / 400)
            if name == "minimal.takt" { step = 1 }  // every single prefix of the smallest file
            var cut = 0
            while cut < scalars.count {
                var prefix = String.UnicodeScalarView()
                prefix.append(contentsOf: scalars[0..<cut])
                let result = ScheduleChecker.check(String(prefix))
                if !result.valid { #expect(!result.diagnostics.isEmpty || result.schedule == nil) }
                for d in result.diagnostics { #expect(d.location.line >= 1 && d.location.column >= 1) }
                cut += step
            }
        }
    }

    @Test func hugeNumbers() {
        let digits = String(repeating: "9", count: 10_000)
        let cases = [
            ("round = 1 ms", "round = \(digits) ms", DiagnosticCode.invalidQuantity),
            ("round = 1 ms", "round = 9223372036854775807 ms", .invalidQuantity),
            ("round = 1 ms", "round = 1_000_000_000 s", .outOfRange),
            ("fault_tolerance = 1", "fault_tolerance = \(digits)", .invalidQuantity),
            ("size = 8 bytes", "size = 99999999999 bytes", .outOfRange),
            ("period = 1 round", "period = 4611686018427387904 rounds", .outOfRange),
            ("drift = 100 ppm", "drift = 5000000000 ppm", .outOfRange),
            ("offset = 800 us", "offset = 9.999999999999999999999 us", .invalidQuantity),
        ]
        for (old, new, code) in cases {
            let result = ScheduleChecker.check(baseSchedule.replacingOccurrences(of: old, with: new))
            #expect(result.diagnostics.contains { $0.code == code }, "\(new.prefix(60)): \(result.diagnostics.map(\.code.rawValue))")
            #expect(!result.valid)
        }
    }

    @Test func veryLongLines() {
        let longName = String(repeating: "n", count: 100_000)
        var result = ScheduleChecker.check(baseSchedule + "node \(longName)\n")
        #expect(result.diagnostics.contains { $0.code == .syncNodeWithoutSlot })
        let longComment = "# " + String(repeating: "x", count: 1_000_000) + "\n"
        result = ScheduleChecker.check(longComment + baseSchedule)
        #expect(result.valid)
        let oneLine = baseSchedule.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: " ; ")
        result = ScheduleChecker.check(oneLine)
        #expect(result.valid, "\(result.diagnostics.map { $0.rendered(path: "x") })")
    }

    @Test func unknownUnitsAreNamedWithSuggestions() {
        let cases = [("round = 1 ms", "msec", "ms"), ("round = 1 ms", "usec", "us"), ("bitrate = 10 Mbit/s", "mbit/s", "Mbit/s"),
                     ("bitrate = 10 Mbit/s", "Mbps", "Mbit/s"), ("drift = 100 ppm", "ppn", "ppm"), ("size = 8 bytes", "bytez", "bytes")]
        for (property, unit, suggestion) in cases {
            let number = property.split(separator: " ")[2]
            let key = property.split(separator: "=")[0]
            let text = baseSchedule.replacingOccurrences(of: property, with: "\(key)= \(number) \(unit)")
            let result = ScheduleChecker.check(text)
            let d = result.diagnostics.first { $0.code == .invalidQuantity }
            #expect(d?.message.contains("'\(unit)'") == true, "\(unit): \(result.diagnostics.map(\.message))")
            #expect(d?.help?.contains(suggestion) == true, "\(unit): \(d?.help ?? "no help")")
        }
    }

    @Test func deeplyNestedAndUnbalancedBraces() {
        for text in [String(repeating: "{", count: 50_000), String(repeating: "}", count: 50_000),
                     "mode m { " + String(repeating: "mode n { ", count: 1_000), "cluster x { round = 1 ms"] {
            let result = ScheduleChecker.check(text)
            #expect(!result.valid)
            #expect(!result.diagnostics.isEmpty)
        }
    }

    @Test func fuzzSeedsAndCrashersReplayCleanly() throws {
        for dir in ["Tests/Fuzz/schedule-seeds", "Tests/Fuzz/schedule-crashers"] {
            let path = packageRoot + "/" + dir
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            for name in names.sorted() {
                let data = try #require(FileManager.default.contents(atPath: path + "/" + name))
                let result = ScheduleChecker.check(String(decoding: data, as: UTF8.self))
                if result.valid { #expect(result.errorCount == 0) }
            }
        }
    }
}
