// `takt node` and `takt cluster` for real: processes on this host exchanging UDP frames. These
// tests run the built `takt` executable (next to the test bundle) as child processes, one at a
// time (they share the machine's two cores), and check behaviour that holds on any machine: the
// guarantees the report measures against the bound computed from the measured reading error,
// detection within 2 rounds, reintegration, dropped garbage, and a clean stop.

import Foundation
import Glibc
import Testing
import TaktTestSupport
import TaktPlatform
import TaktTime

/// The `takt` executable built alongside the tests.
let taktExecutable: String = {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidate = dir.appendingPathComponent("takt").path
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    return packageRoot + "/.build/debug/takt"
}()

/// Runs `takt` as a child process; returns (status, stdout, stderr).
func taktProcess(_ arguments: [String], timeout: TimeInterval = 120) throws -> (Int32, String, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: taktExecutable)
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text.prefix(300))")
}

/// Every node of a real-process test runs SCHED_FIFO at this priority with its memory locked when
/// the host permits (root, as in CI): the host's ordinary load (the test runner, the record
/// readers) then cannot stall a node for milliseconds. Where it is not permitted each node says
/// so and runs as an ordinary process.
let realTimeNodes = ["--priority", "50"]

/// A port no other test of this run uses.
func testPort(_ k: Int) -> Int { 30_000 + Int(getpid() % 5_000) * 4 + k }

@Suite("takt node and takt cluster (real processes)", .serialized, .hostExclusive)
struct ClusterCommandTests {
    let schedule = packageRoot + "/Schedules/loopback.takt"

    @Test func fourProcessesForTenSecondsKeepEveryGuarantee() throws {
        let (status, out, err) = try taktProcess(["cluster", schedule, "--duration", "10s", "--drift-spread", "100", "--spin", "10us",
                                                  "--port", "\(testPort(0))", "--json"] + realTimeNodes)
        let report = try jsonObject(out)
        #expect(status == 0, "\(report["violation_list"] ?? err)")
        #expect(report["violations"] as? Int == 0)
        let max = try #require(report["precision_ns_max"] as? Int), bound = try #require(report["precision_bound_ns"] as? Int)
        #expect(max > 0 && max <= bound)
        #expect((report["precision_samples"] as? Int ?? 0) > 50)  // of 1,000 rounds; a loaded host leaves fewer clean ones
        #expect(report["startup_ns"] as? Int != nil)
        #expect((report["lateness_ns"] as? [String: Any])?.count == 4)
    }

    @Test func killNineIsDetectedWithinTwoRoundsAndTheRestartReintegrates() throws {
        let (status, out, err) = try taktProcess(["cluster", schedule, "--duration", "8s", "--kill", "b@3s", "--restart", "b@5s",
                                                  "--spin", "10us", "--port", "\(testPort(1))", "--json"] + realTimeNodes)
        let report = try jsonObject(out)
        #expect(status == 0, "\(report["violation_list"] ?? err)")
        // Judged on the detecting nodes' schedules (a process the host ran late detects late on
        // the host's clock; ClusterReportTests): within 2 rounds, and never later than on the host.
        let detection = try #require(report["detection_rounds_max_scheduled"] as? Double)
        #expect(detection > 0 && detection <= 2)
        #expect(try #require(report["detection_rounds_max"] as? Double) >= detection)
        #expect(report["reintegration_rounds_max"] as? Double != nil)
    }

    @Test func aProcessStoppedForThreeRoundsIsATimingFaultAndRejoins() throws {
        // SIGSTOP for 30 ms (3 rounds): the others remove it within 2 rounds; after SIGCONT it is
        // late, stays silent (guardian), and re-integrates.
        let (status, out, err) = try taktProcess(["cluster", schedule, "--duration", "7s", "--stop", "c@3s+30ms",
                                                  "--spin", "10us", "--port", "\(testPort(2))", "--json"] + realTimeNodes)
        let report = try jsonObject(out)
        #expect(status == 0, "\(report["violation_list"] ?? err)")
        let detection = try #require(report["detection_rounds_max_scheduled"] as? Double)
        #expect(detection > 0 && detection <= 2)
        #expect(try #require(report["detection_rounds_max"] as? Double) >= detection)
        #expect(report["reintegration_rounds_max"] as? Double != nil)
    }

    @Test func malformedAndForeignDatagramsAreCountedAndDropped() throws {
        let port = testPort(3)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: taktExecutable)
        p.arguments = ["cluster", schedule, "--duration", "6s", "--spin", "10us", "--port", "\(port)", "--json"] + realTimeNodes
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        // Garbage on the group's port while the cluster runs: random bytes, truncated headers, a
        // frame-sized datagram with the right version byte but a wrong CRC.
        let medium = try MulticastMedium(MulticastConfiguration(group: try SocketAddress(parsing: "239.255.84.2:\(port)"),
                                                                interface: .name("lo"), timeToLive: 1, loopback: true, kernelTimestamps: false))
        defer { medium.close() }
        usleep(1_500_000)
        var state: UInt64 = 0x9E37_79B9
        var sent = 0
        for i in 0..<300 {
            state = state &* 6364136223846793005 &+ 1
            var bytes = [UInt8](repeating: 0, count: 1 + Int(state >> 58) + (i % 3 == 0 ? 60 : 0))
            for j in bytes.indices { bytes[j] = UInt8(truncatingIfNeeded: (state >> UInt64(j % 8 * 8)) &+ UInt64(j)) }
            if i % 3 == 0 { bytes[0] = 2 }  // looks like a version-2 frame
            bytes[0] = bytes[0] == 2 && i % 3 != 0 ? 7 : bytes[0]
            if bytes.withUnsafeBytes({ medium.send($0) }).sent > 0 { sent += 1 }
            usleep(5_000)
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let report = try jsonObject(String(decoding: data, as: UTF8.self))
        #expect(p.terminationStatus == 0, "\(report["violation_list"] ?? "")")
        #expect(sent == 300)
        #expect((report["foreign_datagrams"] as? Int ?? 0) >= 3 * 300, "every node drops every garbage datagram")
    }

    @Test func sigtermStopsEveryNodeAndLeavesNoOrphans() throws {
        let port = testPort(0) + 1_000
        let p = Process()
        p.executableURL = URL(fileURLWithPath: taktExecutable)
        p.arguments = ["cluster", schedule, "--duration", "60s", "--port", "\(port)", "--json"]
        p.standardOutput = Pipe()
        p.standardError = Pipe()
        try p.run()
        usleep(2_000_000)
        #expect(nodeProcesses(port: port) == 4)
        kill(p.processIdentifier, SIGTERM)
        let limit = Date().addingTimeInterval(8)
        while p.isRunning && Date() < limit { usleep(20_000) }
        #expect(!p.isRunning)
        usleep(200_000)
        #expect(nodeProcesses(port: port) == 0)
        if p.isRunning { p.terminate() }
    }

    /// `takt node` processes of the cluster on `port` (from /proc/*/cmdline).
    func nodeProcesses(port: Int) -> Int {
        let needle = "239.255.84.2:\(port)"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int($0) != nil }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(" node ") && line.contains(needle)
        }.count
    }

    @Test func nodeAloneColdStartsAndBadArgumentsExitTwo() throws {
        let (status, out, _) = try taktProcess(["node", schedule, "--node", "a", "--duration", "1s", "--group", "239.255.84.3:\(testPort(0) + 2_000)", "--json"])
        #expect(status == 0)
        let report = try jsonObject(out)
        #expect(report["status"] as? String == "cold starting")  // alone: it keeps offering a cold start
        #expect((report["frames_sent"] as? Int ?? 0) >= 50)   // one cold-start frame a round
        for bad in [["node", schedule], ["node", schedule, "--node", "zz"], ["node", schedule, "--node", "a", "--medium", "carrier-pigeon"],
                    ["node", schedule, "--node", "a", "--drift", "lots"], ["node", schedule, "--node", "a", "--group", "10.0.0.1:99999"],
                    ["cluster", schedule, "--kill", "nobody@1s"], ["cluster", schedule, "--stop", "a@1s"], ["cluster", "/nonexistent.takt"]] {
            let (status, _, err) = try taktProcess(bad + ["--duration", "1s"])
            #expect(status == 2, "\(bad): \(err.prefix(200))")
            #expect(err.contains("error"), "\(bad)")
        }
    }
}

@Suite("takt bench jitter", .serialized, .hostExclusive)
struct BenchJitterCommandTests {
    @Test func measuresTheExecutivesWakeUpsAndWritesCyclictestShapedJSON() throws {
        let path = temporaryFile("jitter.json", "")
        let svg = temporaryFile("jitter.svg", "")
        let (status, out, err) = try taktProcess(["bench", "jitter", "--interval", "1ms", "--loops", "300", "--policy", "other", "--json", path, "--histogram", "50", "--svg", svg])
        #expect(status == 0, "\(err)")
        #expect(out.contains("Takt:") && out.contains("# Histogram") && out.contains("# Total:"))
        let picture = String(decoding: try #require(FileManager.default.contents(atPath: svg)), as: UTF8.self)
        #expect(picture.hasPrefix("<svg") && picture.contains("p99") && picture.contains("<polyline"))
        let report = try jsonObject(String(decoding: try #require(FileManager.default.contents(atPath: path)), as: UTF8.self))
        let latency = try #require(report["latency_ns"] as? [String: Int])
        for key in ["min", "avg", "p50", "p90", "p99", "p999", "p9999", "max"] { #expect(latency[key] != nil, "\(key)") }
        #expect(latency["min"]! <= latency["p50"]! && latency["p50"]! <= latency["p99"]! && latency["p99"]! <= latency["max"]!)
        // One instant per interval: a wake-up sample, or an action caught up after a stall (this
        // debug build runs as an ordinary process on a shared host).
        let loops = try #require(report["loops"] as? Int), caughtUp = try #require(report["caught_up"] as? Int)
        #expect(loops + caughtUp >= 299 && loops + caughtUp <= 301, "\(loops) wake-ups, \(caughtUp) caught up")
        #expect(loops >= 100)
        #expect((report["thread"] as? [String: Any])?["0"] != nil && report["sysinfo"] != nil)
        #expect(try taktProcess(["bench", "jitter", "--interval", "5us"]).0 == 2)
        #expect(try taktProcess(["bench", "jitter", "--concurrent"]).0 == 2)  // only with --compare-cyclictest
        #expect(try taktProcess(["bench", "jitter", "--compare-cyclictest", "--concurrent", "--load"]).0 == 2)
        let (simStatus, sim, _) = try taktProcess(["bench", "sim", "--nodes", "4", "--loops", "1000"])
        #expect(simStatus == 0 && sim.contains("4 nodes") && sim.contains("M/s"))
        let (checkStatus, check, _) = try taktProcess(["bench", "check", "--nodes", "20", "--tasks", "100", "--loops", "1"])
        #expect(checkStatus == 0 && check.contains("20 nodes, 100 tasks") && check.contains("valid: median"))
        #expect(try taktProcess(["bench", "sim", "--nodes", "1"]).0 == 2)
        #expect(try taktProcess(["bench", "sideways"]).0 == 2)
    }
}

@testable import TaktCLI

@Suite("Latency statistics", .hostShared)
struct LatencyStatisticsTests {
    @Test func percentilesOfKnownInputsAreNearestRank() {
        let samples = (1...1_000).map { Interval(nanoseconds: Int64($0)) }  // 1 … 1000 ns
        let s = LatencyStatistics(sorted: samples, overrunAbove: .nanoseconds(990))
        #expect(s.min == .nanoseconds(1) && s.max == .nanoseconds(1_000) && s.average == .nanoseconds(500))
        #expect(s.p50 == .nanoseconds(500) && s.p90 == .nanoseconds(900) && s.p99 == .nanoseconds(990))
        #expect(s.p999 == .nanoseconds(999) && s.p9999 == .nanoseconds(1_000))
        #expect(s.overruns == 11)  // 990 … 1000
        let one = LatencyStatistics(sorted: [.nanoseconds(7)], overrunAbove: nil)
        #expect(one.p50 == .nanoseconds(7) && one.p9999 == .nanoseconds(7) && one.overruns == 0)
        var c = CyclictestResult()
        c.counts = [3: 2, 5: 1, 40: 1]
        c.maxMicroseconds = 41
        let cs = c.statistics!
        #expect(cs.p50 == .microseconds(3) && cs.max == .microseconds(41) && cs.count == 4)
    }
}
