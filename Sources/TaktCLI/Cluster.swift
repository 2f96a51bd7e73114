// `takt cluster SCHEDULE`: every node of a schedule as its own `takt node` process on this host,
// supervised — a live status line, injected faults (kill -9, restart, SIGSTOP/SIGCONT), and a
// report of the guarantees measured against the host clock every node shares: precision (max,
// p99) against the Π bound computed from the MEASURED reading error, the membership timeline,
// each fault's detection latency, each restart's reintegration time, and dispatch lateness per
// node. Exit 0 when every guarantee held, 1 otherwise, 2 bad input (Docs/running.md).

import Foundation
import Glibc
import TaktPlatform
import TaktRuntime
import TaktSchedule
import TaktSim
import TaktTime

enum ClusterCommand {
    static let options: [OptionSpec] = [
        OptionSpec(["--duration"], value: "D", help: "how long the cluster runs (default 10s)"),
        OptionSpec(["--drift-spread"], value: "PPM", help: "each node's injected drift, uniform in ±PPM (default 100)"),
        OptionSpec(["--kill"], value: "NODE@T", help: "kill -9 NODE at T after the start, e.g. b@3s (repeatable)"),
        OptionSpec(["--restart"], value: "NODE@T", help: "start a killed NODE again at T (repeatable)"),
        OptionSpec(["--stop"], value: "NODE@T+D", help: "SIGSTOP NODE at T and SIGCONT it D later, e.g. c@4s+12ms: a timing fault (repeatable)"),
        OptionSpec(["--medium"], value: "KIND", help: "multicast (default) or unicast"),
        OptionSpec(["--spin"], value: "D", help: "each node's spin window (default 50us)"),
        OptionSpec(["--priority"], value: "P", help: "run every node SCHED_FIFO at priority P with memory locked (when permitted; each node reports)"),
        OptionSpec(["--seed"], value: "N", help: "seed for the injected drifts and offsets (default 1)"),
        OptionSpec(["--port"], value: "P", help: "UDP port of the cluster (multicast group 239.255.84.2:P, or unicast ports P…P+N−1; default from the process id)"),
        OptionSpec(["--json"], help: "print the report as JSON"),
    ]

    enum FaultAction { case kill, restart, stop(Interval) }
    struct PlannedFault {
        var node: Int
        var at: Interval
        var action: FaultAction
        var done = false
        var contDone = false
        /// Where `ClusterRun.injected` holds it once injected.
        var injectedIndex: Int? = nil
    }

    static func run(_ arguments: ParsedArguments, _ console: inout Console) -> Int32 {
        func usage(_ message: String) -> Int32 { TaktCommand.usageError(message, subcommand: "cluster", console: &console) }
        guard arguments.positionals.count == 1 else { return usage(arguments.positionals.isEmpty ? "no schedule file given" : "cluster takes one schedule") }
        let path = arguments.positionals[0]
        let (result, failure) = loadValidSchedule(path, console: &console)
        if let failure { return failure }
        let schedule = result.schedule!, derived = result.derived!
        let setup: ClusterSetup
        do { setup = try ClusterSetup(arguments, path: path, schedule: schedule) } catch { return usage(error.message) }
        func nodeIndex(_ text: Substring) -> Int? { schedule.nodes.firstIndex { $0.name[...] == text } }
        var faults: [PlannedFault] = []
        for (option, make) in [("--kill", FaultAction.kill), ("--restart", FaultAction.restart)] {
            for spec in arguments.all(option) {
                let parts = spec.split(separator: "@")
                guard parts.count == 2, let node = nodeIndex(parts[0]), let at = SimCommand.parseInterval(String(parts[1])), at >= .zero else {
                    return usage("\(option) takes NODE@T with a node of the schedule and a time, e.g. b@3s, not '\(spec)'")
                }
                faults.append(PlannedFault(node: node, at: at, action: make))
            }
        }
        for spec in arguments.all("--stop") {
            let parts = spec.split(separator: "@")
            let times = parts.count == 2 ? parts[1].split(separator: "+") : []
            guard parts.count == 2, times.count == 2, let node = nodeIndex(parts[0]),
                  let at = SimCommand.parseInterval(String(times[0])), let length = SimCommand.parseInterval(String(times[1])), at >= .zero, length > .zero else {
                return usage("--stop takes NODE@T+D, e.g. c@4s+12ms, not '\(spec)'")
            }
            faults.append(PlannedFault(node: node, at: at, action: .stop(length)))
        }
        let interactive = console.interactive && !arguments.has("--json")
        let run = ClusterRun.execute(setup, faults: faults, err: console.err, interactive: interactive) { collector, elapsed, lastEvent in
            collector.statusLine(schedule: schedule, elapsed: elapsed, lastEvent: lastEvent)
        }
        guard run.launched else { return ExitStatus.usage }
        let report = ClusterReport.analyze(collector: run.collector, schedule: schedule, derived: derived, start: run.start,
                                           duration: setup.duration, driftSpread: setup.driftSpread, faults: run.injected)
        report.print(json: arguments.has("--json"), path: path, schedule: schedule, events: run.events, drifts: setup.drifts,
                     logs: run.collector.logs, console: &console)
        return report.violations.isEmpty ? ExitStatus.success : ExitStatus.failure
    }
}

/// What `takt cluster` and `takt bench latency` share: the run's options (--duration,
/// --drift-spread, --seed, --medium, --spin, --priority, --port), each node's injected drift and
/// offset drawn from the seed, and each node's command line.
struct ClusterSetup {
    var path: String
    var schedule: Schedule
    var duration: Interval
    var driftSpread: Double
    var medium: String
    var spin: String
    var priority: String?
    var port: Int
    /// Each node's injected drift (ppm), uniform in ±driftSpread, and offset (us) in [0, 10 ms).
    var drifts: [Double]
    var offsets: [Int64]
    /// More options for every node (`--latency-records`).
    var extraNodeArguments: [String] = []

    /// Reads the shared options; a usage error names the option and what it takes.
    init(_ arguments: ParsedArguments, path: String, schedule: Schedule) throws(UsageError) {
        self.path = path
        self.schedule = schedule
        let n = schedule.nodes.count
        guard n <= 64 else { throw UsageError(message: "a cluster on one host runs at most 64 nodes (this schedule has \(n))") }
        guard let duration = SimCommand.parseInterval(arguments.value("--duration") ?? "10s"), duration > .zero, duration <= .seconds(86_400) else {
            throw UsageError(message: "--duration takes a time such as 10s")
        }
        self.duration = duration
        guard let spread = Double(arguments.value("--drift-spread") ?? "100"), spread.isFinite, spread >= 0, spread <= 10_000 else {
            throw UsageError(message: "--drift-spread takes ppm from 0 to 10000")
        }
        driftSpread = spread
        guard let seed = UInt64(arguments.value("--seed") ?? "1") else { throw UsageError(message: "--seed takes a whole number") }
        medium = arguments.value("--medium") ?? "multicast"
        guard medium == "multicast" || medium == "unicast" else { throw UsageError(message: "--medium takes multicast or unicast") }
        spin = arguments.value("--spin") ?? "50us"
        guard SimCommand.parseInterval(spin) != nil else { throw UsageError(message: "--spin takes a time such as 50us") }
        priority = arguments.value("--priority")
        if let priority, Int32(priority).map({ $0 < 1 || $0 > 99 }) ?? true { throw UsageError(message: "--priority takes 1 to 99") }
        // Each node: a drift in ±spread and an offset in [0, 10 ms), from the seed.
        var random = SimulationRandom(seed: seed)
        let ppb = Int64(spread * 1_000)
        drifts = (0..<n).map { _ in Double(random.uniform(-ppb...ppb)) / 1_000 }
        offsets = (0..<n).map { _ in random.uniform(0...9_999) }
        if let text = arguments.value("--port") {
            guard let p = Int(text), p >= 1_024, p + n < 65_536 else { throw UsageError(message: "--port takes 1024 to \(65_535 - n)") }
            port = p
        } else {
            port = 20_000 + Int(getpid() % 20_000)
        }
    }

    /// `takt node …` for node i: records on stdout, its drift and offset, the cluster's medium.
    func nodeArguments(_ i: Int) -> [String] {
        var a = ["node", path, "--node", schedule.nodes[i].name, "--records", "--medium", medium, "--spin", spin,
                 "--drift", String(format: "%.3f", drifts[i]), "--offset", "\(offsets[i])us"]
        a += medium == "multicast" ? ["--group", "239.255.84.2:\(port)"] : ["--port-base", "\(port)"]
        if let priority { a += ["--priority", priority] }
        return a + extraNodeArguments
    }
}

/// One run of a cluster on this host: every node a `takt node` process (this executable, through
/// /proc/self/exe), its records collected; planned faults injected on time; a status line on an
/// interactive terminal; at the end (or on SIGINT/SIGTERM) every node stopped — SIGTERM, then
/// SIGKILL 3 s later — so no process outlives the run.
struct ClusterRun {
    let collector: RecordCollector
    /// Host instant of the launch.
    var start: LocalInstant
    /// Faults as they were injected, relative to the start.
    var events: [(at: Interval, text: String)] = []
    /// Every node could be started.
    var launched: Bool
    /// The faults injected: node, instant relative to the start, action (for ClusterReport).
    var injected: [(node: Int, at: Interval, action: ClusterCommand.FaultAction)] = []
    /// With an `origin`: it never came within `originTimeout`.
    var originMissed = false

    /// `origin`, when given, is polled every loop: the planned faults' times and the duration
    /// count from the instant it returns (e.g. when an application's control starts) instead of
    /// from the launch; it must come within `originTimeout`.
    static func execute(_ setup: ClusterSetup, faults plannedFaults: [ClusterCommand.PlannedFault], err: TextSink, interactive: Bool,
                        origin: (() -> LocalInstant?)? = nil, originTimeout: Interval = .seconds(20),
                        status: (RecordCollector, Interval, String?) -> String) -> ClusterRun {
        let schedule = setup.schedule
        let n = schedule.nodes.count
        var faults = plannedFaults
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let collector = RecordCollector(nodes: n)
        var processes = [Process?](repeating: nil, count: n)
        func start(_ i: Int) -> Bool {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = setup.nodeArguments(i)
            let out = Pipe(), errPipe = Pipe()
            p.standardOutput = out
            p.standardError = errPipe
            do { try p.run() } catch {
                err.write("error: cannot start node \(schedule.nodes[i].name): \(error.localizedDescription)\n")
                return false
            }
            processes[i] = p
            collector.read(out.fileHandleForReading, node: i)
            collector.readText(errPipe.fileHandleForReading, node: i)
            return true
        }
        handleStopSignals()
        var run = ClusterRun(collector: collector, start: MonotonicClock.now(), launched: true)
        for i in 0..<n where run.launched { run.launched = start(i) }
        var lastStatus = run.start
        while run.launched && !stopRequested.load(ordering: .relaxed) {
            let now = MonotonicClock.now()
            var base = run.start
            if let origin {
                guard let o = origin() else {
                    if now - run.start > originTimeout { run.originMissed = true; break }
                    if interactive && now - lastStatus >= .milliseconds(250) {
                        lastStatus = now
                        err.write("\r\u{1B}[K" + status(collector, now - run.start, nil))
                    }
                    usleep(2_000)
                    continue
                }
                base = o
            }
            let elapsed = now - base
            if elapsed >= setup.duration { break }
            for f in faults.indices {
                let fault = faults[f]
                if !fault.done && elapsed >= fault.at {
                    faults[f].done = true
                    let name = schedule.nodes[fault.node].name
                    // The fault's instant is read just before the signal is sent (this loop may
                    // have woken late): detection is measured from when the fault really began.
                    var at = MonotonicClock.now()
                    switch fault.action {
                    case .kill:
                        if let p = processes[fault.node], p.isRunning {
                            at = MonotonicClock.now()
                            kill(p.processIdentifier, SIGKILL)
                            p.waitUntilExit()
                        }
                        collector.mark(.kill, node: fault.node, at: at)
                        run.events.append((at - run.start, "kill -9 \(name)"))
                    case .restart:
                        if processes[fault.node]?.isRunning != true { _ = start(fault.node) }
                        collector.mark(.restart, node: fault.node, at: at)
                        run.events.append((at - run.start, "restart \(name)"))
                    case .stop:
                        if let p = processes[fault.node] {
                            at = MonotonicClock.now()
                            kill(p.processIdentifier, SIGSTOP)
                        }
                        collector.mark(.stop, node: fault.node, at: at)
                        run.events.append((at - run.start, "SIGSTOP \(name)"))
                    }
                    faults[f].injectedIndex = run.injected.count
                    run.injected.append((fault.node, at - run.start, fault.action))
                }
                if case .stop(let length) = fault.action, fault.done, !fault.contDone, elapsed >= fault.at + length {
                    faults[f].contDone = true
                    let at = MonotonicClock.now()
                    if let p = processes[fault.node] { kill(p.processIdentifier, SIGCONT) }
                    run.events.append((at - run.start, "SIGCONT \(schedule.nodes[fault.node].name)"))
                    // The stop as it really lasted, from SIGSTOP to SIGCONT.
                    if let i = faults[f].injectedIndex { run.injected[i].action = .stop(at - run.start - run.injected[i].at) }
                }
            }
            if interactive && now - lastStatus >= .milliseconds(250) {
                lastStatus = now
                err.write("\r\u{1B}[K" + status(collector, elapsed, run.events.last?.text))
            }
            usleep(2_000)
        }
        if interactive { err.write("\r\u{1B}[K") }
        // Stop every node cleanly: SIGTERM, then SIGKILL after 3 s; no orphans.
        for p in processes.compactMap({ $0 }) where p.isRunning {
            kill(p.processIdentifier, SIGCONT)
            p.terminate()
        }
        let deadline = MonotonicClock.now() + .seconds(3)
        for p in processes.compactMap({ $0 }) {
            while p.isRunning && MonotonicClock.now() < deadline { usleep(5_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        }
        collector.finish()
        return run
    }
}

/// Collects each node's binary records (and its stderr text) from its pipes, on reader threads.
final class RecordCollector: @unchecked Sendable {
    enum Mark { case kill, restart, stop }
    private let lock = NSLock()
    private(set) var records: [[NodeRecord]]
    /// Latency entries each node recorded as a receiver (`takt node --latency-records`).
    private(set) var latencies: [[LatencyEntry]]
    private(set) var marks: [(Mark, Int, LocalInstant)] = []
    private(set) var logs: [String]
    private var threads: [Thread] = []
    private var pending = 0
    private let done = NSCondition()

    init(nodes: Int) {
        records = [[NodeRecord]](repeating: [], count: nodes)
        latencies = [[LatencyEntry]](repeating: [], count: nodes)
        logs = [String](repeating: "", count: nodes)
    }

    /// Records (and latency entries) of `node`, as its reader thread parses them from its pipe.
    func add(_ parsed: [NodeRecord], latencies entries: [LatencyEntry] = [], node: Int) {
        lock.lock(); records[node] += parsed; latencies[node] += entries; lock.unlock()
    }

    func mark(_ m: Mark, node: Int, at: LocalInstant) { lock.lock(); marks.append((m, node, at)); lock.unlock() }

    func read(_ handle: FileHandle, node: Int) {
        started()
        let thread = Thread { [self] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                var parsed: [NodeRecord] = []
                var entries: [LatencyEntry] = []
                while buffer.count >= RecordLayout.bytes {
                    buffer.prefix(RecordLayout.bytes).withUnsafeBytes { bytes in
                        if let record = NodeRecord.decode(bytes) { parsed.append(record) }
                        else if let latency = LatencyRecord.decode(bytes) { entries += latency.entries }
                    }
                    buffer.removeFirst(RecordLayout.bytes)
                }
                if !parsed.isEmpty || !entries.isEmpty { add(parsed, latencies: entries, node: node) }
            }
            finished()
        }
        thread.start()
    }

    func readText(_ handle: FileHandle, node: Int) {
        started()
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock(); logs[node] += String(decoding: chunk, as: UTF8.self); lock.unlock()
            }
            finished()
        }
        thread.start()
    }

    private func started() { done.lock(); pending += 1; done.unlock() }
    private func finished() { done.lock(); pending -= 1; done.broadcast(); done.unlock() }

    /// Waits (up to 5 s) until every pipe reached end of file.
    func finish() {
        done.lock()
        let limit = Date().addingTimeInterval(5)
        while pending > 0 && done.wait(until: limit) {}
        done.unlock()
    }

    func snapshot() -> [[NodeRecord]] { lock.lock(); defer { lock.unlock() }; return records }
    func latencySnapshot() -> [[LatencyEntry]] { lock.lock(); defer { lock.unlock() }; return latencies }

    func statusLine(schedule: Schedule, elapsed: Interval, lastEvent: String?) -> String {
        let all = snapshot()
        var parts: [String] = []
        var round: UInt64 = 0
        var offsets: [Int64] = []
        var ok: UInt64 = 0, lost: UInt64 = 0
        for (i, list) in all.enumerated() {
            guard let last = list.last(where: { $0.kind != .summary }) else { parts.append("\(schedule.nodes[i].name):-"); continue }
            round = max(round, last.round)
            let status = ["listen", "integr", "coldst", "active", "frozen"][Int(min(last.status, 4))]
            let members = (0..<schedule.nodes.count).filter { last.isMember($0) }.map { schedule.nodes[$0].name }.joined()
            parts.append("\(schedule.nodes[i].name):\(status){\(members)}")
            if last.status == 3 { offsets.append(last.cluster - last.host.nanoseconds) }
            ok += UInt64(last.counters.accepted)
            lost += UInt64(last.counters.missing) + UInt64(last.counters.rejected)
        }
        let spread = offsets.count >= 2 ? Interval(nanoseconds: offsets.max()! - offsets.min()!).description : "-"
        return "t=\(elapsed) round \(round) | \(parts.joined(separator: " ")) | spread \(spread) | frames ok \(ok) lost \(lost)" + (lastEvent.map { " | \($0)" } ?? "")
    }
}
