// `takt node SCHEDULE --node NAME`: one node of a cluster, for real — the periodic executive
// (TaktRuntime) driving the protocol controller over UDP (multicast, or unicast fan-out), with an
// optional injected clock offset and drift (Docs/running.md). It powers on listening: it joins a
// running cluster or starts one (cold start). Runs until --duration or SIGINT/SIGTERM, then prints
// a summary (text, or --json). With --records it writes its binary NodeRecords to stdout for a
// supervisor (`takt cluster`) and its messages to stderr.

import Foundation
import Glibc
import Synchronization
import TaktPlatform
import TaktProtocol
import TaktControl
import TaktDemo
import TaktRuntime
import TaktSchedule
import TaktTime

/// Set by SIGINT/SIGTERM: the executive checks it before every action.
let stopRequested = Atomic<Bool>(false)

/// Installs the SIGINT/SIGTERM handlers and unblocks both signals: a process started by another
/// (a test runner, a supervisor) may inherit a mask that blocks them, and would never stop cleanly.
func handleStopSignals() {
    signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
    signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    sigaddset(&set, SIGCONT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
}

enum NodeCommand {
    static let defaultGroup = "239.255.84.1:47400"
    static let defaultPortBase = 47500

    static let options: [OptionSpec] = [
        OptionSpec(["--node"], value: "NAME", help: "which node of the schedule this process is (required)"),
        OptionSpec(["--medium"], value: "KIND", help: "multicast (default) or unicast"),
        OptionSpec(["--group"], value: "ADDR:PORT", help: "multicast group and port (default \(defaultGroup))"),
        OptionSpec(["--interface"], value: "IF", help: "multicast interface by name or address (default lo; a LAN needs e.g. eth0)"),
        OptionSpec(["--port-base"], value: "P", help: "unicast on this host: node i listens on 127.0.0.1:P+i and sends to the others (default \(defaultPortBase))"),
        OptionSpec(["--peer"], value: "ADDR:PORT", help: "unicast across hosts: a peer's address, in node order, this node's own included (repeatable)"),
        OptionSpec(["--drift"], value: "PPM", help: "injected oscillator drift in ppm (default 0)"),
        OptionSpec(["--offset"], value: "D", help: "injected clock offset, e.g. 3ms (default 0)"),
        OptionSpec(["--spin"], value: "D", help: "spin window before each action (default 50us; 0 sleeps only)"),
        OptionSpec(["--guardian"], value: "D", help: "send no frame more than D after its instant (default: a quarter of the shortest slot)"),
        OptionSpec(["--priority"], value: "P", help: "run SCHED_FIFO at priority P, with memory locked (reported, not required)"),
        OptionSpec(["--cpu"], value: "N", help: "pin to CPU N (reported, not required)"),
        OptionSpec(["--duration"], value: "D", help: "stop after D, e.g. 10s (default: until SIGINT/SIGTERM)"),
        OptionSpec(["--records"], help: "write binary node records to stdout (for takt cluster); messages go to stderr"),
        OptionSpec(["--latency-records"], help: "with --records: stamp the host send instant into this node's messages and record each delivery's latency (for takt bench latency; messages need ≥ 8 bytes)"),
        OptionSpec(["--json"], help: "print the summary as JSON"),
        OptionSpec(["--app"], value: "NAME", help: "run an application on the node: 'demo' (the replicated level-control demo; Schedules/demo.takt)"),
        OptionSpec(["--app-dir"], value: "DIR", help: "the application's directory: checkpoints (stable storage) and the plant's samples (default .takt-demo)"),
        OptionSpec(["--seed"], value: "N", help: "the application's seed (the plant's sensor noise; default 1)"),
        OptionSpec(["--demo-corrupt-at"], value: "S", help: "demo: corrupt the level sent to c3 at S seconds of control (default: never)"),
        OptionSpec(["--demo-leak-at"], value: "S", help: "demo: open the lower tank's leak at S seconds (default: never)"),
    ]

    static func run(_ arguments: ParsedArguments, _ console: inout Console) -> Int32 {
        func usage(_ message: String) -> Int32 { TaktCommand.usageError(message, subcommand: "node", console: &console) }
        guard arguments.positionals.count == 1 else { return usage(arguments.positionals.isEmpty ? "no schedule file given" : "node takes one schedule") }
        let path = arguments.positionals[0]
        let (result, failure) = loadValidSchedule(path, console: &console)
        if let failure { return failure }
        let schedule = result.schedule!, derived = result.derived!
        guard let name = arguments.value("--node") else { return usage("--node NAME is required (one of: \(schedule.nodes.map(\.name).joined(separator: ", ")))") }
        guard let node = schedule.nodes.firstIndex(where: { $0.name == name }) else {
            let hint = suggestion(for: name[...], among: schedule.nodes.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
            return usage("the schedule has no node '\(name)'\(hint)")
        }
        let drift = arguments.value("--drift").map { Double($0) } ?? 0
        guard let drift, drift.isFinite, abs(drift) <= 10_000 else { return usage("--drift takes ppm between -10000 and 10000") }
        guard let offset = arguments.value("--offset").map(SimCommand.parseInterval) ?? .zero else { return usage("--offset takes a time such as 3ms") }
        guard let spin = arguments.value("--spin").map(SimCommand.parseInterval) ?? .microseconds(50), spin >= .zero, spin <= .seconds(1) else {
            return usage("--spin takes a time from 0 to 1s, e.g. 50us")
        }
        guard let guardian = arguments.value("--guardian").map(SimCommand.parseInterval) ?? defaultGuardian(schedule), guardian >= .zero else {
            return usage("--guardian takes a time such as 100us")
        }
        var duration: Interval?
        if let text = arguments.value("--duration") {
            guard let d = SimCommand.parseInterval(text), d > .zero else { return usage("--duration takes a time such as 10s") }
            duration = d
        }
        var priority: Int32?
        if let text = arguments.value("--priority") {
            guard let p = Int32(text), p >= 1, p <= 99 else { return usage("--priority takes 1 to 99") }
            priority = p
        }
        var cpus: [Int]?
        if let text = arguments.value("--cpu") {
            guard let c = Int(text), c >= 0 else { return usage("--cpu takes a CPU number") }
            cpus = [c]
        }
        let records = arguments.has("--records")
        let latencyRecords = arguments.has("--latency-records")
        if latencyRecords && !records { return usage("--latency-records writes into the records: give --records too") }
        if latencyRecords, let refusal = LatencyStampCheck.refusal(schedule: schedule, configuration: ControllerConfiguration(schedule: schedule, derived: derived, node: node)) {
            return usage(refusal)
        }
        let report: TextSink = records ? console.err : console.out
        if records { ProcessControl.terminateWithParent() }

        // The medium.
        let mediumKind = arguments.value("--medium") ?? "multicast"
        let codec: FrameCodec
        do { codec = try FrameCodec(schedule: schedule) } catch { return usage("the schedule does not fit the frame format: \(error)") }
        let realTime = RealTimeSetup.apply(RealTimeRequest(fifoPriority: priority, lockMemory: priority != nil, cpus: cpus,
                                                           timerSlack: .nanoseconds(1), holdDMALatencyZero: priority != nil))
        let configuration = ControllerConfiguration(schedule: schedule, derived: derived, node: node)
        let oscillator = VirtualOscillator(base: MonotonicClock.now(), offset: offset, drift: DriftRate(partsPerBillion: Int64((drift * 1_000).rounded())))
        let settings = ExecutiveSettings(spin: spin, guardian: guardian, restartAfterFreeze: schedule.cluster.round * 2)
        var application: DemoNodeSetup?
        if let app = arguments.value("--app") {
            guard app == "demo" else { return usage("--app takes 'demo', not '\(app)'") }
            guard let seed = UInt64(arguments.value("--seed") ?? "1") else { return usage("--seed takes a whole number") }
            for option in ["--demo-corrupt-at", "--demo-leak-at"] {
                if let text = arguments.value(option), !(Double(text).map { $0.isFinite && $0 >= 0 } ?? false) {
                    return usage("\(option) takes seconds, e.g. 15")
                }
            }
            var profile = DemoProfile()
            profile.corruptAt = arguments.value("--demo-corrupt-at").flatMap(Double.init)
            profile.leakAt = arguments.value("--demo-leak-at").flatMap(Double.init)
            do throws(DemoLayout.Problem) {
                application = DemoNodeSetup(layout: try DemoLayout(schedule: schedule), directory: arguments.value("--app-dir") ?? ".takt-demo",
                                            seed: seed, profile: profile)
            } catch {
                console.err.write("error: \(error)\n")
                return ExitStatus.usage
            }
        }
        if latencyRecords && application != nil { return usage("--latency-records writes the messages itself: it cannot run with --app") }
        let context = NodeContext(schedule: schedule, node: node, path: path, records: records, latencyRecords: latencyRecords,
                                  json: arguments.has("--json"), duration: duration, realTime: realTime, settings: settings, application: application)
        switch mediumKind {
        case "multicast":
            do throws(PlatformError) {
                let group = try SocketAddress(parsing: arguments.value("--group") ?? defaultGroup)
                let interface = try NetworkInterface(parsing: arguments.value("--interface") ?? "lo")
                let medium = try MulticastMedium(MulticastConfiguration(group: group, interface: interface, timeToLive: 1,
                                                                        loopback: true, kernelTimestamps: true))
                let description = "multicast \(group) on \(interface), \(medium.kernelTimestamps ? "kernel" : "user-space") timestamps"
                return execute(context, configuration: configuration, codec: codec, oscillator: oscillator, medium: medium,
                               mediumDescription: description, report: report, console: &console)
            } catch {
                console.err.write("error: cannot open the multicast medium: \(error)\n  help: check the group and interface, or use --medium unicast (Docs/running.md)\n")
                return ExitStatus.usage
            }
        case "unicast":
            do throws(PlatformError) {
                var addresses: [SocketAddress] = []
                let peers = arguments.all("--peer")
                if peers.isEmpty {
                    guard let base = Int(arguments.value("--port-base") ?? String(defaultPortBase)), base > 0, base + schedule.nodes.count < 65_536 else {
                        return usage("--port-base takes a port such that every node's port fits below 65536")
                    }
                    addresses = (0..<schedule.nodes.count).map { SocketAddress(address: IPv4Address(127, 0, 0, 1), port: UInt16(base + $0)) }
                } else {
                    guard peers.count == schedule.nodes.count else {
                        return usage("--peer must be given once per node of the schedule, in node order (\(schedule.nodes.count)), this node's own address included")
                    }
                    for p in peers { addresses.append(try SocketAddress(parsing: p)) }
                }
                let others = addresses.indices.filter { $0 != node }.map { addresses[$0] }
                let medium = try UnicastFanOutMedium(UnicastConfiguration(local: addresses[node], peers: others, kernelTimestamps: true))
                let description = "unicast from \(addresses[node]) to \(others.count) peers, \(medium.kernelTimestamps ? "kernel" : "user-space") timestamps"
                return execute(context, configuration: configuration, codec: codec, oscillator: oscillator, medium: medium,
                               mediumDescription: description, report: report, console: &console)
            } catch {
                console.err.write("error: cannot open the unicast medium: \(error)\n")
                return ExitStatus.usage
            }
        default:
            return usage("--medium takes multicast or unicast, not '\(mediumKind)'")
        }
    }

    /// The guardian unless --guardian says otherwise: a quarter of the shortest slot.
    static func defaultGuardian(_ schedule: Schedule) -> Interval {
        (schedule.modes.flatMap(\.slots).map(\.length).min() ?? schedule.cluster.round) / 4
    }

    struct NodeContext {
        var schedule: Schedule
        var node: Int
        var path: String
        var records: Bool
        var latencyRecords: Bool
        var json: Bool
        var duration: Interval?
        var realTime: RealTimeReport
        var settings: ExecutiveSettings
        var application: DemoNodeSetup?
    }

    static func execute<Net: Medium>(_ context: NodeContext, configuration: ControllerConfiguration, codec: FrameCodec,
                                     oscillator: VirtualOscillator, medium: Net, mediumDescription: String,
                                     report: TextSink, console: inout Console) -> Int32 {
        handleStopSignals()
        signal(SIGPIPE, SIG_IGN)
        let name = context.schedule.nodes[context.node].name
        if !context.json {
            report.write("takt node \(name) of \(context.path): \(mediumDescription); drift \(oscillator.drift), offset \(oscillator.offset), spin \(context.settings.spin)\n")
            for step in context.realTime.steps where step.status != .notRequested { report.write("  \(step)\n") }
        }
        if context.records {
            let flags = fcntl(STDOUT_FILENO, F_GETFL)
            _ = fcntl(STDOUT_FILENO, F_SETFL, flags | O_NONBLOCK)  // a slow reader drops records, never stalls the loop
        }
        let sink: ((UnsafeRawBufferPointer) -> Bool)? = context.records ? { bytes in
            Glibc.write(STDOUT_FILENO, bytes.baseAddress, bytes.count) == bytes.count
        } : nil
        var executive: Executive<MonotonicTimeSource, Net>
        do throws(PlatformError) {
            executive = try Executive(configuration: configuration, codec: codec, oscillator: oscillator,
                                      time: MonotonicTimeSource(waiter: try DeadlineWaiter(spin: context.settings.spin)),
                                      medium: medium, settings: context.settings, sink: sink)
        } catch {
            console.err.write("error: \(error)\n")
            return ExitStatus.usage
        }
        defer { executive.deallocate() }
        var keepAlive: AnyObject?
        if let setup = context.application {
            do {
                keepAlive = try setup.attach(node: context.node, schedule: context.schedule, to: &executive)
            } catch {
                console.err.write("error: the demo application cannot start: \(error)\n")
                return ExitStatus.usage
            }
        }
        defer { withExtendedLifetime(keepAlive) {} }
        // The latency probe (takt bench latency): the hooks stamp and measure on the host clock the
        // executive waits on, and its records share the executive's sink.
        let probe = context.latencyRecords ? sink.map { LatencyProbe(configuration: configuration, sink: $0) } : nil
        if let probe {
            executive.beforeTransmit = { controller, round, slot in probe.stamp(&controller, round: round, slot: slot, host: MonotonicClock.now()) }
            executive.onDelivery = { delivery, host in probe.record(delivery, host: host) }
        }
        let end = context.duration.map { MonotonicClock.now() + $0 }
        executive.run(until: end) { stopRequested.load(ordering: .relaxed) }
        probe?.flush()
        executive.emitSummary()
        let c = executive.counters, l = executive.lateness
        let membership = executive.controller.cState.membership
        let members = (0..<context.schedule.nodes.count).filter { membership.contains($0) }.map { context.schedule.nodes[$0].name }
        let status = "\(executive.controller.status)"
        if context.json {
            let object = JSON.object([
                ("node", .string(name)), ("status", .string(status)), ("rounds", .int(Int64(executive.rounds))),
                ("membership", .array(members.map(JSON.string))),
                ("frames_sent", .int(Int64(c.sent))), ("frames_accepted", .int(Int64(c.accepted))),
                ("frames_missing", .int(Int64(c.missing))), ("frames_rejected", .int(Int64(c.rejected))),
                ("foreign_datagrams", .int(Int64(c.foreign))), ("guardian_suppressed", .int(Int64(c.guardianSuppressed))),
                ("restarts", .int(Int64(c.restarts))), ("overruns", .int(Int64(c.overruns))),
                ("lateness_ns", .object([("p50", .int(l.percentile(.p50)?.upperBound.nanoseconds ?? 0)),
                                         ("p99", .int(l.percentile(.p99)?.upperBound.nanoseconds ?? 0)),
                                         ("max", .int(l.maximum?.nanoseconds ?? 0))])),
            ])
            report.write(object.serialized(pretty: true) + "\n")
        } else {
            report.write("takt node \(name): \(executive.rounds) rounds, \(status), membership {\(members.joined(separator: ", "))}\n")
            report.write("  frames: \(c.sent) sent, \(c.accepted) accepted, \(c.missing) missing, \(c.rejected) rejected; \(c.foreign) foreign datagrams dropped; \(c.guardianSuppressed) sends suppressed by the guardian; \(c.restarts) restarts after a freeze; \(c.overruns) overruns\n")
            report.write("  dispatch lateness: p50 \(l.percentile(.p50)?.description ?? "-"), p99 \(l.percentile(.p99)?.description ?? "-"), max \(l.maximum?.description ?? "-")\n")
        }
        return ExitStatus.success
    }
}
