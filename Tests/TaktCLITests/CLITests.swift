// The command line, driven in-process: exit statuses, output shapes, and the shipped schedules.

import Foundation
import Testing
import TaktTestSupport
import TaktCLI
import TaktSchedule

/// Runs `takt` with arguments and returns (status, stdout, stderr).
func takt(_ arguments: String...) -> (Int32, String, String) {
    let out = StringSink(), err = StringSink()
    var console = Console(out: out, err: err, interactive: false)
    let status = TaktCommand.run(arguments, console: &console)
    return (status, out.text, err.text)
}

func temporaryFile(_ name: String, _ contents: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("takt-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    _ = FileManager.default.createFile(atPath: path, contents: Data(contents.utf8))
    return path
}

let shippedSchedules = ["minimal.takt", "tmr.takt", "multirate.takt", "modes.takt", "large64.takt", "loopback.takt", "demo.takt"]

@Suite("takt command line", .hostShared)
struct CLITests {
    @Test("every shipped schedule passes takt check with no diagnostics", arguments: shippedSchedules)
    func shippedSchedulesAreValid(_ name: String) {
        let (status, out, err) = takt("check", packageRoot + "/Schedules/" + name)
        #expect(status == 0, "\(err)")
        #expect(err.isEmpty, "\(err)")
        #expect(out.contains(": valid"))
    }

    @Test func checkDirectoryExpandsToTaktFiles() {
        let (status, out, _) = takt("check", packageRoot + "/Schedules")
        #expect(status == 0)
        #expect(out.contains("\(shippedSchedules.count) files: \(shippedSchedules.count) valid, 0 invalid"))
    }

    @Test func diagnosticsAreRenderedLikeACompiler() throws {
        let path = temporaryFile("bad.takt", """
        cluster x {
          round = 1 ms
          macrotick = 25 us
          bitrate = 10 Mbit/s
          drift = 100 ppm
          reading_error = 10 us
          fault_tolerance = 1
        }
        node a
        node b
        node c
        node d
        slot sa { sender = a; offset = 0 us; length = 500 us }
        slot sb { sender = b; offset = 400 us; length = 200 us }
        slot sc { sender = c; offset = 600 us; length = 200 us }
        slot sd { sender = dd; offset = 800 us; length = 200 us }
        """)
        let (status, out, err) = takt("check", path)
        #expect(status == 1)
        #expect(err.contains("\(path):14:32: error[E401]: slot 'sb'"))
        #expect(err.contains("\(path):13:6: note: 'sa' declared here"))
        #expect(err.contains("help: start 'sb' at 500 us or later"))
        #expect(err.contains("\(path):16:20: error[E203]: no node named 'dd'"))
        #expect(err.contains("help: did you mean 'd'?"))
        // Sorted by position: line 14 before line 16.
        let first = try #require(err.range(of: ":14:32:")), second = try #require(err.range(of: ":16:20:"))
        #expect(first.lowerBound < second.lowerBound)
        // A slot whose sender is misspelt does not cascade into "node d has no slot".
        #expect(!err.contains("E405"))
        #expect(out.contains("invalid"))
    }

    @Test func jsonReportHasTheDocumentedShape() throws {
        let (status, out, _) = takt("check", "--format", "json", packageRoot + "/Schedules/tmr.takt")
        #expect(status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        let files = try #require(object?["files"] as? [[String: Any]])
        #expect(files.count == 1)
        #expect(files[0]["valid"] as? Bool == true)
        #expect((files[0]["diagnostics"] as? [Any])?.isEmpty == true)
        let derived = try #require(files[0]["derived"] as? [String: Any])
        #expect(derived["precision_bound_ns"] as? Int == 16_500)
        #expect(derived["hyperperiod_ns"] as? Int == 10_000_000)
        #expect(derived["tightest"] is [String: Any])
        let modes = try #require(derived["modes"] as? [[String: Any]])
        let chains = try #require(modes[0]["chains"] as? [[String: Any]])
        #expect(chains.first?["name"] as? String == "loop")
    }

    @Test func jsonDiagnosticsCarryCodeSeverityLineColumnMessage() throws {
        let path = temporaryFile("bad2.takt", "cluster x { round = 1 msec }\n")
        let (status, out, _) = takt("check", "--format", "json", path)
        #expect(status == 1)
        let object = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        let file = try #require((object?["files"] as? [[String: Any]])?.first)
        let diagnostics = try #require(file["diagnostics"] as? [[String: Any]])
        let unit = try #require(diagnostics.first { $0["code"] as? String == "E209" })
        #expect(unit["severity"] as? String == "error")
        #expect(unit["line"] as? Int == 1)
        #expect(unit["column"] as? Int == 23)
        #expect((unit["message"] as? String)?.contains("msec") == true)
    }

    @Test func unreadableInputExitsTwo() {
        let (status, _, err) = takt("check", "/nonexistent/file.takt")
        #expect(status == 2)
        #expect(err.contains("no such file"))
        let (status2, _, _) = takt("check", packageRoot + "/Schedules/minimal.takt", "/nonexistent.takt")
        #expect(status2 == 2)
    }

    @Test func usageErrorsExitTwo() {
        #expect(takt().0 == 2)
        #expect(takt("frobnicate").0 == 2)
        #expect(takt("chek").2.contains("did you mean 'check'?"))
        #expect(takt("check", "--bogus", "x").0 == 2)
        #expect(takt("check").0 == 2)
        #expect(takt("check", "--format", "xml", "x").0 == 2)
        #expect(takt("show").0 == 2)
        #expect(takt("gen", "--nodes", "many").0 == 2)
    }

    @Test func helpExitsZero() {
        let (status, out, _) = takt("--help")
        #expect(status == 0)
        for sub in ["check", "show", "plot", "gen"] {
            #expect(out.contains(sub))
            let (s, o, _) = takt(sub, "--help")
            #expect(s == 0)
            #expect(o.contains("USAGE: takt \(sub)"))
        }
    }

    @Test func showPrintsSlotTableDispatchTablesAndBounds() {
        let (status, out, _) = takt("show", packageRoot + "/Schedules/tmr.takt")
        #expect(status == 0)
        #expect(out.contains("slot table"))
        #expect(out.contains("s_c1"))
        #expect(out.contains("Π bound"))
        #expect(out.contains("node actuator"))
        #expect(out.contains("release    task vote"))
        #expect(out.contains("transmit   slot s_sensor"))
        #expect(out.contains("deliver    message reading"))
        #expect(out.contains("chains:"))
    }

    @Test func showRefusesInvalidSchedule() {
        let path = temporaryFile("bad3.takt", "cluster x { }\n")
        let (status, _, err) = takt("show", path)
        #expect(status == 1)
        #expect(err.contains("error[E206]"))
    }

    @Test func generatedSchedulesAreValid() throws {
        let path = temporaryFile("gen.takt", "")
        let (status, _, _) = takt("gen", "--nodes", "40", "--tasks", "400", "-o", path)
        #expect(status == 0)
        let (checkStatus, out, err) = takt("check", path)
        #expect(checkStatus == 0, "\(err)")
        #expect(err.isEmpty, "\(err.prefix(2000))")
        #expect(out.contains("40 nodes"))
        #expect(out.contains("400 tasks"))
    }
}
