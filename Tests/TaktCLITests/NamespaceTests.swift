// Tools/netns-cluster.sh for real: the four nodes of Schedules/loopback.takt, each `takt node` in
// its own network namespace, joined by a bridge, talking unicast UDP across veth links (with netem
// delay and jitter when the kernel has netem). It needs root, iproute2 and a kernel or container
// that allows `ip netns add`; where any is missing the test prints why and is recorded as skipped
// (set TAKT_TEST_EUID=1000 to see that path as root). The script's refusal without root is checked
// everywhere, as root too (the script honours TAKT_NETNS_ASSUME_UID).

import Foundation
import Glibc
import Testing
import TaktTestSupport

/// Whether Tools/netns-cluster.sh can run here, probed once: the reason it cannot, or nil.
enum NetworkNamespaces {
    static let script = packageRoot + "/Tools/netns-cluster.sh"

    /// Runs a command (found on PATH) to completion; returns its status and its output and error text.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (127, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// nil when the test can run; else why not. TAKT_TEST_EUID stands in for the effective user id.
    static let unavailableReason: String? = {
        let euid = ProcessInfo.processInfo.environment["TAKT_TEST_EUID"].flatMap { UInt32($0) } ?? geteuid()
        guard euid == 0 else { return "not root (effective user id \(euid)); the script creates network namespaces" }
        guard run(["ip", "-V"]).status == 0 else { return "no 'ip' (apt-get install iproute2)" }
        let probe = "takt-probe-\(getpid())"
        let added = run(["ip", "netns", "add", probe])
        guard added.status == 0 else { return "'ip netns add' fails here: \(added.output.trimmingCharacters(in: .whitespacesAndNewlines))" }
        run(["ip", "netns", "del", probe])
        return nil
    }()

    /// Whether the kernel has the netem qdisc, probed on a veth pair in a throwaway namespace (the
    /// script puts netem on each node's veth). Only meaningful when `unavailableReason` is nil.
    static let netemRefusal: String? = {
        let probe = "takt-probe-netem-\(getpid())"
        guard run(["ip", "netns", "add", probe]).status == 0 else { return "cannot create a namespace" }
        defer { run(["ip", "netns", "del", probe]) }
        let veth = run(["ip", "-n", probe, "link", "add", "p0", "type", "veth", "peer", "name", "p1"])
        guard veth.status == 0 else { return veth.output.trimmingCharacters(in: .whitespacesAndNewlines) }
        let netem = run(["tc", "-n", probe, "qdisc", "add", "dev", "p0", "root", "netem", "delay", "200us", "50us"])
        return netem.status == 0 ? nil : netem.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    static func canRun() -> Bool {
        if let reason = unavailableReason {
            print("NamespaceTests: skipped, \(reason)")
            return false
        }
        return true
    }

    /// The names of this host's network namespaces.
    static func namespaces() -> [String] {
        run(["ip", "netns", "list"]).output.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }
}

@Suite("Tools/netns-cluster.sh: a cluster across network namespaces", .serialized, .hostExclusive)
struct NamespaceTests {
    let schedule = packageRoot + "/Schedules/loopback.takt"

    @Test(.enabled("needs root, iproute2 and 'ip netns add' (prints why not)") { NetworkNamespaces.canRun() },
          .timeLimit(.minutes(2)))
    func fourNodesInFourNamespacesEndActiveWithEveryMember() throws {
        // 200 us ± 50 us of netem delay on every node's link: the jitter adds to the reading error
        // (250 us in loopback.takt; takt cluster measures about 100–130 us on the idle two-core
        // development VM); the constant part delays every frame alike, shifting no clock against
        // another.
        var netem = ["--delay", "200us", "--jitter", "50us"]
        if let refusal = NetworkNamespaces.netemRefusal {
            print("NamespaceTests: the kernel has no netem qdisc (\(refusal)); running without delay and jitter")
            netem = []
        }
        // A node stalled by this host in the run's last round ends it outside the membership, and
        // a shared two-core VM (a parallel test, a fuzzer) stalls a debug-built node now and then:
        // up to three runs, each failed one printed, the last one judged. Under ~30 s; no other
        // test of this process runs beside it (HostGate).
        var run: (status: Int32, pid: Int32, output: Data, errors: String)
        var pids: [Int32] = []
        repeat {
            run = try runScript([schedule, "--duration", "6s", "--json"] + netem + ["--", "--spin", "10us"] + realTimeNodes)
            pids.append(run.pid)
            print(run.errors, terminator: "")
            if run.status != 0 { print("NamespaceTests: run \(pids.count) exited \(run.status): \(String(decoding: run.output, as: UTF8.self))") }
        } while run.status == 1 && pids.count < 3
        let leftovers = NetworkNamespaces.namespaces().filter { name in pids.contains { name.hasPrefix("takt-\($0)-") } }
        #expect(leftovers.isEmpty, "the script left \(leftovers) behind")

        #expect(run.status == 0, "\(run.errors)")
        let report = try jsonObject(String(decoding: run.output, as: UTF8.self))
        #expect(report["ok"] as? Bool == true)
        let nodes = try #require(report["nodes"] as? [[String: Any]])
        #expect(nodes.map { $0["node"] as? String } == ["a", "b", "c", "d"])
        for node in nodes {
            let name = node["node"] as? String ?? "?"
            #expect(node["exit_status"] as? Int == 0, "\(name)")
            // The verdict is the membership at the last round every node ended: a node's own
            // summary can lack a node that stopped a slot before it (the nodes never stop at once).
            let end = try #require(node["at_last_common_round"] as? [String: Any], "\(name)")
            #expect(end["status"] as? String == "active", "\(name)")
            #expect((end["membership"] as? [String])?.count == 4, "\(name): \(end)")
            // Its summary's final status can be just as stale: the last node still running sees
            // every other node fall silent and freezes (blackout).
            let summary = try #require(node["summary"] as? [String: Any], "\(name)")
            // 6 s of 10 ms rounds; rounds spent frozen or re-integrating after a stall do not count.
            #expect((summary["rounds"] as? Int ?? 0) > 200, "\(name)")
        }
    }

    /// Runs the script with the debug `takt` next to the tests (the script defaults to
    /// .build/release/takt), or with $TAKT when set (a release build keeps a loaded host's stalls
    /// shorter); returns its status, process id, standard output and error text.
    func runScript(_ arguments: [String]) throws -> (status: Int32, pid: Int32, output: Data, errors: String) {
        let errorPath = FileManager.default.temporaryDirectory.appendingPathComponent("takt-netns-test-\(getpid()).err").path
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: NetworkNamespaces.script)
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(["TAKT": taktExecutable]) { mine, _ in mine }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, p.processIdentifier, data, (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
    }

    @Test func withoutRootTheScriptSaysWhatItNeedsAndExitsTwo() {
        let (status, output) = NetworkNamespaces.run([NetworkNamespaces.script, schedule], environment: ["TAKT_NETNS_ASSUME_UID": "1000"])
        #expect(status == 2, "\(output)")
        #expect(output.contains("needs root"), "\(output)")
        #expect(output.contains("ip netns"), "\(output)")
    }
}
