// `takt demo`: the replicated level-control demo (Docs/guide.md) — a two-tank plant controlled by
// a TMR controller over a real multi-process UDP cluster on this host (or, with --simulated, in
// the deterministic simulator), with a controller killed and restarted and a sensor value
// corrupted on the way. Prints a live status line, a report and writes an SVG plot.

import Foundation
import Glibc
import Synchronization
import TaktControl
import TaktPlatform
import TaktRuntime
import TaktDemo
import TaktSchedule
import TaktSim
import TaktTime

enum DemoCommand {
    static let options: [OptionSpec] = [
        OptionSpec(["--schedule"], value: "FILE", help: "the cluster (default Schedules/demo.takt, found next to the working directory or the executable)"),
        OptionSpec(["--simulated"], help: "run the same demo in the deterministic simulator (the same seed gives the same report)"),
        OptionSpec(["--seed"], value: "N", help: "seed of the sensor noise and of the simulator (default 1)"),
        OptionSpec(["--duration"], value: "D", help: "seconds of control (default 25s; the faults are placed in the first 20 s)"),
        OptionSpec(["--svg"], value: "FILE", help: "the plot: setpoint, level, pump command, fault events (default demo.svg; '-' for none)"),
        OptionSpec(["--json"], help: "print the report as JSON on stdout"),
        OptionSpec(["--no-faults"], help: "run without the kill, restart and corruption (a reference run)"),
        OptionSpec(["--priority"], value: "P", help: "run every node SCHED_FIFO at priority P with memory locked (when permitted; not with --simulated)"),
    ]

    static func run(_ arguments: ParsedArguments, _ console: inout Console) -> Int32 {
        func usage(_ message: String) -> Int32 { TaktCommand.usageError(message, subcommand: "demo", console: &console) }
        guard arguments.positionals.isEmpty else { return usage("demo takes no positional arguments (use --schedule FILE)") }
        guard let path = arguments.value("--schedule") ?? defaultSchedule() else {
            return usage("Schedules/demo.takt not found here; run from the project directory or give --schedule FILE")
        }
        guard let seed = UInt64(arguments.value("--seed") ?? "1") else { return usage("--seed takes a whole number") }
        var plan = DemoPlan()
        if let text = arguments.value("--duration") {
            guard let d = SimCommand.parseInterval(text), d >= .seconds(5), d <= .seconds(3_600) else { return usage("--duration takes a time from 5s to 1h, e.g. 25s") }
            plan.duration = Double(d.nanoseconds) / 1e9
        }
        if arguments.has("--no-faults") {
            plan.killAt = nil
            plan.restartAt = nil
            plan.profile.corruptAt = nil
        }
        // Faults beyond the run are dropped (a short run shows what fits).
        if let k = plan.killAt, k >= plan.duration { plan.killAt = nil; plan.restartAt = nil }
        if let r = plan.restartAt, r >= plan.duration { plan.restartAt = nil }
        if let c = plan.profile.corruptAt, c >= plan.duration { plan.profile.corruptAt = nil }
        if let l = plan.profile.leakAt, l >= plan.duration { plan.profile.leakAt = nil }
        let (result, failure) = loadValidSchedule(path, console: &console)
        if let failure { return failure }
        let schedule = result.schedule!, derived = result.derived!
        let svg = arguments.value("--svg") ?? "demo.svg"
        let json = arguments.has("--json")
        guard arguments.has("--simulated") else {
            return runProcesses(arguments: arguments, path: path, schedule: schedule, derived: derived, plan: plan, seed: seed,
                                svg: svg, json: json, console: &console)
        }
        if arguments.has("--priority") {
            return TaktCommand.usageError("--priority sets the nodes' scheduling on this host; the simulator has none", subcommand: "demo", console: &console)
        }
        let err = console.err
        let interactive = console.interactive && !json
        let report: DemoReport
        var sim: SimulationReport? = nil
        do throws(DemoLayout.Problem) {
            let roundSeconds = Double(schedule.cluster.round.nanoseconds) / 1e9
            (report, sim) = try DemoSimulation.run(schedule: schedule, derived: derived, plan: plan, seed: seed) { round in
                if interactive && round % 100 == 0 { err.write("\r\u{1B}[Ksimulating: \(String(format: "%.1f", Double(round) * roundSeconds)) s of \(plan.duration) s") }
            }
        } catch {
            console.err.write("error: \(error)\n")
            return ExitStatus.usage
        }
        if interactive { err.write("\r\u{1B}[K") }
        if !json, let sim {
            for v in sim.violations.prefix(5) { err.write("violation: \(v) (reproduce: takt demo --simulated --seed \(seed))\n") }
        }
        return finish(report: report, plan: plan, title: "takt demo --simulated (seed \(seed)): two-tank level loop, TMR controller, \(path)",
                      svg: svg, json: json, simulated: true, console: &console)
    }

    /// Prints the report (text or JSON), writes the plot; exit 0 when the faults were masked and
    /// every guarantee held.
    static func finish(report: DemoReport, plan: DemoPlan, title: String, svg: String, json: Bool, simulated: Bool,
                       console: inout Console) -> Int32 {
        if svg != "-" {
            do {
                try DemoPlot.render(report: report, plan: plan, title: title).write(toFile: svg, atomically: true, encoding: .utf8)
            } catch {
                console.err.write("error: cannot write \(svg): \(error.localizedDescription)\n")
                return ExitStatus.usage
            }
        }
        // Success: every checked guarantee held, the corrupted value was masked, and the restarted
        // replica counted again — within 3 rounds in the simulator; over real processes the
        // rounds are reported (a host that stalls a process, a fault nobody injected, can delay
        // it). Actuations without a majority are reported for the same reason.
        let masked = plan.profile.corruptAt == nil || report.masked >= 1
        let reintegrated = plan.restartAt == nil || (report.reintegrationRounds.map { !simulated || $0 <= 3 } ?? false)
        let ok = report.violations == 0 && masked && reintegrated
        if json {
            func number(_ x: Double?) -> JSON { x.map { $0.isFinite ? .double($0) : .null } ?? .null }
            let object = JSON.object([
                ("violations", .int(Int64(report.violations))),
                ("control_error_rms_before", number(report.errorBefore)), ("control_error_rms_after", number(report.errorAfter)),
                ("control_error_max_during_faults", number(report.errorDuringFaultsMax)), ("control_error_rms_end", number(report.errorEnd)),
                ("commands_masked", .int(Int64(report.masked))), ("state_repairs", .int(Int64(report.stateRepairs))),
                ("state_transfers", .int(Int64(report.stateTransfers))), ("missing_votes", .int(Int64(report.missingVotes))),
                ("actuations_without_majority", .int(Int64(report.noMajority))),
                ("reintegration_rounds", report.reintegrationRounds.map { .int(Int64($0)) } ?? .null),
                ("precision_ns_max", report.precisionMax.map { .int($0.nanoseconds) } ?? .null),
                ("precision_bound_ns", report.precisionBound.map { .int($0.nanoseconds) } ?? .null),
                ("samples", .int(Int64(report.samples.count))),
                ("svg", svg == "-" ? .null : .string(svg)),
            ])
            console.out.write(object.serialized(pretty: true) + "\n")
        } else {
            var text = report.text(plan: plan, title: title)
            if svg != "-" { text += "  plot: \(svg)\n" }
            console.out.write(text)
        }
        return ok ? ExitStatus.success : ExitStatus.failure
    }

    /// The demo over real processes: one `takt node --app demo` per node on this host (UDP
    /// multicast on loopback, kernel timestamps, ±100 ppm injected drift), a controller killed and
    /// restarted, a live status line, then the report.
    static func runProcesses(arguments: ParsedArguments, path: String, schedule: Schedule, derived: DerivedResults, plan: DemoPlan, seed: UInt64,
                             svg: String, json: Bool, console: inout Console) -> Int32 {
        let layout: DemoLayout
        do throws(DemoLayout.Problem) { layout = try DemoLayout(schedule: schedule) } catch {
            console.err.write("error: \(error)\n")
            return ExitStatus.usage
        }
        let n = schedule.nodes.count
        let directory = NSTemporaryDirectory() + "takt-demo-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The cluster as `takt cluster` runs it (drifts in ±100 ppm and offsets from the seed,
        // multicast on lo), every node with the demo application.
        var setup: ClusterSetup
        do throws(UsageError) { setup = try ClusterSetup(arguments, path: path, schedule: schedule) } catch {
            return TaktCommand.usageError(error.message, subcommand: "demo", console: &console)
        }
        setup.duration = .nanoseconds(Int64(plan.duration * 1e9))
        setup.extraNodeArguments = ["--app", "demo", "--app-dir", directory, "--seed", "\(seed)"]
        if let t = plan.profile.corruptAt { setup.extraNodeArguments += ["--demo-corrupt-at", "\(t)"] }
        if let t = plan.profile.leakAt { setup.extraNodeArguments += ["--demo-leak-at", "\(t)"] }
        // Faults count from the start of control: the plant's first vote.
        let victim = layout.controllers[plan.killReplica]
        var faults: [ClusterCommand.PlannedFault] = []
        if let k = plan.killAt { faults.append(ClusterCommand.PlannedFault(node: victim, at: .nanoseconds(Int64(k * 1e9)), action: .kill)) }
        if let r = plan.restartAt { faults.append(ClusterCommand.PlannedFault(node: victim, at: .nanoseconds(Int64(r * 1e9)), action: .restart)) }
        let samplesPath = directory + "/plant.samples"
        var samples: [PlantSample] = []
        var readOffset = 0
        func readSamples() {
            guard let handle = FileHandle(forReadingAtPath: samplesPath) else { return }
            defer { try? handle.close() }
            try? handle.seek(toOffset: UInt64(readOffset))
            let data = handle.readDataToEndOfFile()
            let size = MemoryLayout<PlantSample>.size
            var i = 0
            data.withUnsafeBytes { bytes in
                while i + size <= bytes.count {
                    samples.append(bytes.loadUnaligned(fromByteOffset: i, as: PlantSample.self))
                    i += size
                }
            }
            readOffset += i
        }
        var controlStart: LocalInstant?
        var lastRead = LocalInstant(nanoseconds: 0)
        let interactive = console.interactive && !json
        let run = ClusterRun.execute(setup, faults: faults, err: console.err, interactive: interactive, origin: {
            let now = MonotonicClock.now()
            if now - lastRead >= .milliseconds(50) {  // the supervisor polls every 2 ms; the file needs less
                lastRead = now
                readSamples()
            }
            if controlStart == nil, let first = samples.last {
                controlStart = MonotonicClock.now() - .nanoseconds(Int64(first.time * 1e9))
            }
            return controlStart
        }) { collector, _, _ in
            let t = controlStart.map { Double((MonotonicClock.now() - $0).nanoseconds) / 1e9 } ?? 0
            return statusLine(t: t, samples: samples, collector: collector, schedule: schedule)
        }
        readSamples()
        guard run.launched else { return ExitStatus.usage }
        if run.originMissed {
            console.err.write("error: the cluster did not start control within 20 s; node output:\n" + run.collector.logs.joined(separator: "\n") + "\n")
            return ExitStatus.failure
        }
        let cluster = ClusterReport.analyze(collector: run.collector, schedule: schedule, derived: derived, start: run.start,
                                            duration: MonotonicClock.now() - run.start, driftSpread: setup.driftSpread, faults: run.injected)
        func summary(_ name: String) -> [String: String] {
            guard let text = try? String(contentsOfFile: directory + "/\(name).summary", encoding: .utf8) else { return [:] }
            var fields: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            return fields
        }
        let plantSummary = summary("plant")
        let controllerSummaries = layout.controllers.map { summary(schedule.nodes[$0].name) }
        let victimSummary = controllerSummaries[plan.killReplica]
        let restarted = run.injected.contains { if case .restart = $0.action { return true } else { return false } }
        let report = DemoReport.analyze(samples: samples, plan: plan,
                                        masked: samples.reduce(0) { $0 + $1.dissenting.nonzeroBitCount },
                                        missingVotes: samples.reduce(0) { $0 + $1.missing.nonzeroBitCount },
                                        noMajority: Int(plantSummary["no_majority"] ?? "") ?? 0,
                                        repairs: controllerSummaries.reduce(0) { $0 + (Int($1["repairs"] ?? "") ?? 0) },
                                        transfers: controllerSummaries.reduce(0) { $0 + (Int($1["transfers"] ?? "") ?? 0) },
                                        restartedActiveRound: restarted ? victimSummary["first_active"].flatMap { UInt64($0) } : nil,
                                        restoredGeneration: victimSummary["restored"].flatMap { UInt64($0) },
                                        precisionMax: cluster.precisionMax, precisionBound: cluster.precisionBound,
                                        violations: cluster.violations.count)
        if !json {
            for v in cluster.violations { console.err.write("violation: \(v)\n") }
            if !cluster.unplannedFaults.isEmpty {
                console.err.write("note: nodes left the membership \(cluster.unplannedFaults.count) time(s) without an injected fault (this host stalled a process)\n")
            }
        }
        return finish(report: report, plan: plan,
                      title: "takt demo (seed \(seed)): two-tank level loop, TMR controller over \(n) processes on this host, \(path)",
                      svg: svg, json: json, simulated: false, console: &console)
    }

    static func statusLine(t: Double, samples: [PlantSample], collector: RecordCollector, schedule: Schedule) -> String {
        let records = collector.snapshot()
        var members = ""
        var offsets: [Int64] = []
        for (i, list) in records.enumerated() {
            guard let last = list.last(where: { $0.kind != .summary }) else { continue }
            if last.status == 3 {
                members += (members.isEmpty ? "" : ",") + schedule.nodes[i].name
                offsets.append(last.cluster - last.host.nanoseconds)
            }
        }
        // The clocks' spread at the last round ends (cluster time − host time, per node).
        let spread = offsets.count >= 2 ? "\(Interval(nanoseconds: offsets.max()! - offsets.min()!))" : "-"
        guard let s = samples.last else { return "t=\(String(format: "%.1f", t)) s | starting | active {\(members)}" }
        let masked = samples.reduce(0) { $0 + $1.dissenting.nonzeroBitCount }
        return String(format: "t=%5.1f s | level %.3f m (setpoint %.2f) | pump %.3f | votes %d/3 | masked %d", t, s.level, s.setpoint, s.command,
                      s.agreeing.nonzeroBitCount, masked) + " | active {\(members)} | clock spread \(spread)"
    }

    /// Schedules/demo.takt in the working directory, or next to the executable's package.
    static func defaultSchedule() -> String? {
        var candidates = ["Schedules/demo.takt"]
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<5 {
                candidates.append(dir.appendingPathComponent("Schedules/demo.takt").path)
                dir = dir.deletingLastPathComponent()
            }
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}

/// The demo's picture: level and setpoint over time (top), the pump command (bottom), fault events
/// as vertical lines, masked commands as red ticks.
enum DemoPlot {
    static func render(report: DemoReport, plan: DemoPlan, title: String) -> String {
        let width = 960.0, left = 70.0, right = 30.0, plotWidth = width - left - right
        let topY = 60.0, topH = 300.0, bottomY = 410.0, bottomH = 140.0, height = 620.0
        let samples = report.samples
        let tMax = max(plan.duration, samples.last?.time ?? 1)
        func x(_ t: Double) -> Double { left + t / tMax * plotWidth }
        let levelMax = max(3.0, (samples.map { max($0.level, $0.setpoint) }.max() ?? 1) * 1.15)
        func yLevel(_ h: Double) -> Double { topY + topH - min(max(h, 0), levelMax) / levelMax * topH }
        func yCommand(_ u: Double) -> Double { bottomY + bottomH - min(max(u, 0), 1) * bottomH }
        let f = fmt, escape = SVGTimeline.escape
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(left)\" y=\"24\" font-size=\"14\">\(escape(title))</text>\n"
        svg += "<text x=\"\(left)\" y=\"44\" fill=\"#555\">lower tank level (m): setpoint (dashed), process value; pump command (0–1) below; faults as vertical lines</text>\n"
        // Axes and grid.
        for (y0, h) in [(topY, topH), (bottomY, bottomH)] {
            svg += "<rect x=\"\(left)\" y=\"\(y0)\" width=\"\(plotWidth)\" height=\"\(h)\" fill=\"none\" stroke=\"#999\"/>\n"
        }
        var tick = 0.0
        let step = tMax > 60 ? 10.0 : 5.0
        while tick <= tMax + 1e-9 {
            svg += "<line x1=\"\(f(x(tick)))\" y1=\"\(topY)\" x2=\"\(f(x(tick)))\" y2=\"\(bottomY + bottomH)\" stroke=\"#eee\"/>\n"
            svg += "<text x=\"\(f(x(tick)))\" y=\"\(bottomY + bottomH + 16)\" text-anchor=\"middle\">\(Int(tick)) s</text>\n"
            tick += step
        }
        var level = 0.0
        while level <= levelMax {
            svg += "<text x=\"\(left - 6)\" y=\"\(f(yLevel(level) + 4))\" text-anchor=\"end\">\(f(level))</text>\n"
            level += 1
        }
        svg += "<text x=\"\(left - 6)\" y=\"\(f(yCommand(1) + 4))\" text-anchor=\"end\">1</text><text x=\"\(left - 6)\" y=\"\(f(yCommand(0) + 4))\" text-anchor=\"end\">0</text>\n"
        // Curves (decimated to at most ~2000 points).
        let stride = max(1, samples.count / 2000)
        func polyline(_ value: (PlantSample) -> Double, _ y: (Double) -> Double, color: String, dash: Bool = false) -> String {
            var points = ""
            var i = 0
            while i < samples.count {
                points += "\(f(x(samples[i].time))),\(f(y(value(samples[i])))) "
                i += stride
            }
            return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"\(dash ? " stroke-dasharray=\"6 4\"" : "") points=\"\(points)\"/>\n"
        }
        svg += polyline({ $0.setpoint }, yLevel, color: "#333", dash: true)
        svg += polyline({ $0.level }, yLevel, color: "#1f77b4")
        svg += polyline({ $0.command }, yCommand, color: "#2ca02c")
        // Masked commands: a red tick at the top of the command panel.
        for s in samples where s.dissenting != 0 {
            svg += "<line x1=\"\(f(x(s.time)))\" y1=\"\(bottomY)\" x2=\"\(f(x(s.time)))\" y2=\"\(bottomY + 10)\" stroke=\"#d62728\" stroke-width=\"2\"><title>command outvoted at \(f(s.time)) s</title></line>\n"
        }
        for (i, event) in plan.events.enumerated() {
            let ex = x(event.time)
            svg += "<line x1=\"\(f(ex))\" y1=\"\(topY)\" x2=\"\(f(ex))\" y2=\"\(bottomY + bottomH)\" stroke=\"#d62728\" stroke-dasharray=\"3 3\"/>\n"
            svg += "<text x=\"\(f(ex + 3))\" y=\"\(f(topY + 14 + Double(i % 4) * 14))\" fill=\"#d62728\">\(escape(event.text))</text>\n"
        }
        svg += "<text x=\"\(left + 4)\" y=\"\(bottomY - 6)\" fill=\"#2ca02c\">pump command (voted)</text>\n"
        svg += "</svg>\n"
        return svg
    }
}

// MARK: The demo's nodes as real processes (`takt node … --app demo`)

/// Stable storage in files: TaktPlatform's CheckpointStore (temporary copy, fsync, rename,
/// directory fsync, CRC-32C, two generations kept), written by a background thread. A durable
/// save takes ~0.4 ms and sometimes milliseconds (two fsyncs); on the executive's thread it would
/// make the node's next frame late. `save` runs on the executive's thread and never waits: it
/// copies the bytes into a pre-allocated buffer if the writer is not reading it at that moment
/// (else it skips this generation: the next one supersedes it) and wakes the writer. A generation
/// is committed when the writer's save returns; after a crash the node restores the newest
/// committed one — the one or two still queued are lost, and the partners' state (state transfer)
/// supersedes the checkpoint anyway.
final class FileStorage: StableStorage, @unchecked Sendable {
    private struct Pending {
        var bytes: [UInt8]
        var length = 0
        var generation: UInt64?
    }
    let store: CheckpointStore
    private let pending: Mutex<Pending>
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let capacity: Int

    init(store: CheckpointStore, capacity: Int) {
        self.store = store
        self.capacity = capacity
        pending = Mutex(Pending(bytes: [UInt8](repeating: 0, count: capacity)))
        // An ordinary thread, whatever the node's real-time set-up made of this one (a thread
        // inherits SCHED_FIFO and its priority): the executive preempts it at once.
        RealTimeSetup.asOrdinaryThread(on: nil) { Thread { [unowned self] in self.write() }.start() }
    }

    func save(_ bytes: UnsafeRawBufferPointer, generation: UInt64) -> Bool {
        guard bytes.count <= capacity else { return false }
        let queued = pending.withLockIfAvailable { p -> Bool in
            p.bytes.withUnsafeMutableBytes { target in
                if let base = bytes.baseAddress, bytes.count > 0 { target.baseAddress!.copyMemory(from: base, byteCount: bytes.count) }
            }
            p.length = bytes.count
            p.generation = generation
            return true
        } ?? false
        if queued { wake.signal() }
        return queued
    }

    private func write() {
        var buffer = [UInt8](repeating: 0, count: capacity)
        while true {
            if !stopping.load(ordering: .acquiring) { wake.wait() }
            let taken: (generation: UInt64, length: Int)? = pending.withLock { p in
                guard let generation = p.generation else { return nil }
                buffer.withUnsafeMutableBytes { target in p.bytes.withUnsafeBytes { target.copyMemory(from: $0) } }
                p.generation = nil
                return (generation, p.length)
            }
            if let taken {
                // A failed save leaves the previous generation committed; the next one tries again.
                _ = buffer.withUnsafeBytes { bytes -> Bool in
                    do throws(PlatformError) {
                        try store.save(UnsafeRawBufferPointer(rebasing: bytes[0..<taken.length]), generation: taken.generation)
                        return true
                    } catch {
                        return false
                    }
                }
            }
            if stopping.load(ordering: .acquiring) && taken == nil { break }
        }
        finished.signal()
    }

    /// Writes what is queued and stops the writer (the process ends normally).
    func close() {
        stopping.store(true, ordering: .releasing)
        wake.signal()
        finished.wait()
    }

    func load(into buffer: UnsafeMutableRawBufferPointer) -> (generation: UInt64, length: Int)? {
        guard let newest = store.load().newest, newest.payload.count <= buffer.count else { return nil }
        newest.payload.withUnsafeBytes { source in
            if let base = source.baseAddress, source.count > 0 { buffer.baseAddress!.copyMemory(from: base, byteCount: source.count) }
        }
        return (newest.generation, newest.payload.count)
    }
}

/// Runs a NodeApplication on a real executive: wires its hooks (set once; nothing allocated per
/// round) and, for the plant, appends each new PlantSample as a fixed-size binary record to
/// `samples` (the supervisor reads the file while the demo runs).
final class DemoNodeHost<App: NodeApplication> {
    var app: App
    private let sampleFile: Int32
    private var written = 0
    private let samples: ((App) -> [PlantSample])?

    /// Written to `summaryPath` when the host is released (the node process ends normally).
    var summary: ((App) -> String)?
    var summaryPath: String?

    init(app: App, sampleFile: Int32 = -1, samples: ((App) -> [PlantSample])? = nil) {
        self.app = app
        self.sampleFile = sampleFile
        self.samples = samples
    }

    /// Called first when the host is released (e.g. to flush stable storage).
    var onRelease: (() -> Void)?

    deinit {
        onRelease?()
        if let summary, let summaryPath { try? summary(app).write(toFile: summaryPath, atomically: true, encoding: .utf8) }
        if sampleFile >= 0 { close(sampleFile) }
    }

    func attach<C: TimeSource, N: Medium>(to executive: inout Executive<C, N>) {
        executive.beforeTransmit = { [unowned self] controller, round, slot in
            self.app.transmitting(round: round, slot: slot, at: controller.slotStart(round: round, slot: slot), controller: &controller)
        }
        executive.onApplicationDelivery = { [unowned self] delivery, now in self.app.delivered(delivery, at: now) }
        executive.nextApplicationRelease = { [unowned self] in self.app.nextRelease() }
        executive.onApplicationRelease = { [unowned self] now in self.app.released(at: now) }
        executive.onRoundEnd = { [unowned self] controller, round, now in
            self.app.roundEnded(round: round, at: now, controller: controller)
            self.flushSamples()
        }
        executive.onRestart = { [unowned self] now in self.app.restarted(at: now) }
        app.restarted(at: .zero)  // a fresh process, not yet synchronized: restore from stable storage
    }

    /// Appends samples not yet written (binary PlantSample records).
    private func flushSamples() {
        guard sampleFile >= 0, let samples else { return }
        let log = samples(app)
        if written > log.count { written = 0 }  // the log dropped its oldest half
        while written < log.count {
            var sample = log[written]
            _ = withUnsafeBytes(of: &sample) { Glibc.write(sampleFile, $0.baseAddress, MemoryLayout<PlantSample>.size) }
            written += 1
        }
    }
}

/// What `takt node --app demo` needs: the demo's layout, its directory, seed and profile.
struct DemoNodeSetup {
    var layout: DemoLayout
    var directory: String
    var seed: UInt64
    var profile: DemoProfile

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Creates this node's application, attaches it to the executive, and returns the object that
    /// must live as long as the executive runs (it writes the node's summary when released).
    func attach<C: TimeSource, N: Medium>(node: Int, schedule: Schedule, to executive: inout Executive<C, N>) throws -> AnyObject {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let name = schedule.nodes[node].name
        let rows = 1 << 16
        if node == layout.plant {
            let path = directory + "/plant.samples"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
            let tasks = PlantTasks(layout: layout, profile: profile, seed: seed, logCapacity: rows)
            let host = DemoNodeHost(app: ControlNode(schedule: schedule, node: node, tasks: tasks), sampleFile: fd, samples: { $0.tasks.log })
            host.summaryPath = directory + "/plant.summary"
            host.summary = { app in "masked \(app.tasks.masked)\nmissing \(app.tasks.missingVotes)\nno_majority \(app.tasks.noMajority)\n" }
            host.attach(to: &executive)
            return host
        }
        guard let replica = layout.controllers.firstIndex(of: node) else { throw Failure(description: "node \(name) has no role in the demo") }
        let store: CheckpointStore
        do throws(PlatformError) {
            store = try CheckpointStore(directory: directory, name: name, capacity: 256)
        } catch {
            throw Failure(description: "cannot open the checkpoint store in \(directory): \(error)")
        }
        let storage = FileStorage(store: store, capacity: 256)
        let tasks = ControllerTasks(layout: layout, replica: replica, storage: storage)
        let host = DemoNodeHost(app: ControlNode(schedule: schedule, node: node, tasks: tasks))
        host.summaryPath = directory + "/\(name).summary"
        host.summary = { app in
            let t = app.tasks
            return "transfers \(t.transfers)\nrepairs \(t.repairs)\noutputs \(t.outputs)\nrestored \(t.restoredGeneration.map(String.init) ?? "-")\n"
                + "active_since \(t.activeSinceRound.map(String.init) ?? "-")\nfirst_active \(t.firstActiveRound.map(String.init) ?? "-")\nfirst_output \(t.firstOutputRound.map(String.init) ?? "-")\n"
        }
        host.onRelease = { storage.close() }
        host.attach(to: &executive)
        return host
    }
}
