// `takt bench jitter`: how late the executive wakes, measured on its real dispatch path — an
// Executive (TaktRuntime) running a one-node schedule whose slots are `--interval` long and all its
// own, so it wakes once per interval to transmit (the same poll-then-spin wait, the same controller calls, the
// same UDP socket as a node; not a copy) — reported the way cyclictest reports, and with
// `--compare-cyclictest` side by side with rt-tests' cyclictest run with the same interval, loop
// count, policy and priority, alternating the two — or, with `--concurrent`, at the same time on
// another CPU, so that a host stall such as a VM pause reaches both (Docs/benchmarks.md).

import Foundation
import Glibc
import Synchronization
import TaktPlatform
import TaktProtocol
import TaktRuntime
import TaktSchedule
import TaktSim
import TaktTime

enum BenchCommand {
    static let options: [OptionSpec] = [
        OptionSpec(["--interval"], value: "D", help: "jitter: the period (default 1ms)"),
        OptionSpec(["--loops"], value: "N", help: "jitter: wake-ups to measure (default 10000); sim: rounds × nodes per run; check: runs"),
        OptionSpec(["--nodes"], value: "LIST", help: "sim: cluster sizes (default 4,16,64,256); check: nodes (default 1000)"),
        OptionSpec(["--tasks"], value: "M", help: "check: tasks in the generated schedule (default 100000)"),
        OptionSpec(["--duration"], value: "D", help: "jitter: measure for D instead of a loop count; latency: how long the cluster runs (default 10s)"),
        OptionSpec(["--spin"], value: "D", help: "spin window before each instant (default 50us)"),
        OptionSpec(["--policy"], value: "fifo|other", help: "jitter: scheduling policy (default fifo: requested, reported if refused)"),
        OptionSpec(["--priority"], value: "P", help: "SCHED_FIFO priority (jitter: default 80; latency: every node, when given)"),
        OptionSpec(["--cpu"], value: "N", help: "jitter: pin to CPU N"),
        OptionSpec(["--histogram"], value: "MAX_US", help: "jitter: also print a cyclictest -h style histogram up to MAX_US"),
        OptionSpec(["--json"], value: "FILE", help: "write the results as JSON (jitter: cyclictest's --json shape plus Takt's fields)"),
        OptionSpec(["--svg"], value: "FILE", help: "draw the histograms (log counts, percentiles marked); jitter: and the lateness time series"),
        OptionSpec(["--load"], help: "jitter: run a CPU and memory load on the other cores meanwhile"),
        OptionSpec(["--compare-cyclictest"], help: "jitter: run rt-tests' cyclictest with the same parameters in the same run, alternating (two halves each), and print both"),
        OptionSpec(["--concurrent"], help: "jitter: with --compare-cyclictest, run cyclictest at the same time on another CPU instead (halves swap CPUs unless --cpu)"),
        OptionSpec(["--drift-spread"], value: "PPM", help: "latency: each node's injected drift, uniform in ±PPM (default 100)"),
        OptionSpec(["--seed"], value: "N", help: "latency: seed for the injected drifts and offsets (default 1)"),
        OptionSpec(["--medium"], value: "KIND", help: "latency: multicast (default) or unicast"),
        OptionSpec(["--port"], value: "P", help: "latency: UDP port of the cluster (default from the process id)"),
        OptionSpec(["--allowance"], value: "D", help: "latency: dispatch lateness allowed on top of Δ ± Π (default: the guardian, a quarter of the shortest slot)"),
    ]

    static func run(_ arguments: ParsedArguments, _ console: inout Console) -> Int32 {
        func usage(_ message: String) -> Int32 { TaktCommand.usageError(message, subcommand: "bench", console: &console) }
        switch arguments.positionals.first {
        case "sim" where arguments.positionals.count == 1: return simulatorThroughput(arguments, &console)
        case "check" where arguments.positionals.count == 1: return validatorSpeed(arguments, &console)
        case "latency": return LatencyBench.run(arguments, &console)
        case "jitter" where arguments.positionals.count == 1: break
        default: return usage("takt bench takes one benchmark: jitter, latency, sim or check")
        }
        guard let interval = SimCommand.parseInterval(arguments.value("--interval") ?? "1ms"), interval >= .microseconds(100), interval <= .seconds(1),
              interval.nanoseconds % 1_000 == 0 else {
            return usage("--interval takes a whole number of microseconds from 100us to 1s")
        }
        var loops = 10_000
        if let text = arguments.value("--loops") {
            guard let l = Int(text), l >= 1, l <= 100_000_000 else { return usage("--loops takes 1 to 100000000") }
            loops = l
        }
        if let text = arguments.value("--duration") {
            guard let d = SimCommand.parseInterval(text), d >= interval else { return usage("--duration takes a time of at least one interval") }
            loops = Int(d.nanoseconds / interval.nanoseconds)
        }
        guard let spin = SimCommand.parseInterval(arguments.value("--spin") ?? "50us"), spin >= .zero, spin < interval else {
            return usage("--spin takes a time shorter than the interval")
        }
        let policy = arguments.value("--policy") ?? "fifo"
        guard policy == "fifo" || policy == "other" else { return usage("--policy takes fifo or other") }
        guard let priority = Int32(arguments.value("--priority") ?? "80"), priority >= 1, priority <= 99 else { return usage("--priority takes 1 to 99") }
        var cpu: Int?
        if let text = arguments.value("--cpu") {
            guard let c = Int(text), c >= 0 else { return usage("--cpu takes a CPU number") }
            cpu = c
        }
        var histogramMax: Int?
        if let text = arguments.value("--histogram") {
            guard let h = Int(text), h >= 1, h <= 1_000_000 else { return usage("--histogram takes 1 to 1000000 (us)") }
            histogramMax = h
        }
        let compare = arguments.has("--compare-cyclictest")
        if arguments.has("--concurrent") {
            guard compare else { return usage("--concurrent goes with --compare-cyclictest") }
            guard !arguments.has("--load") else { return usage("--concurrent runs cyclictest on another CPU, where --load would run: use one of them") }
            let usable = RealTimeSetup.allowedCPUs.count
            guard usable >= 2 else { return usage("--concurrent needs two CPUs; this process may use \(usable) (see taskset -p, the cpuset)") }
        }
        if compare && which("cyclictest") == nil {
            console.err.write("error: cyclictest is not installed\n  help: install rt-tests (Debian/Ubuntu: apt-get install rt-tests) or run without --compare-cyclictest\n")
            return ExitStatus.usage
        }
        // The load starts first and its threads make themselves ordinary and leave the measured
        // CPU, so they never inherit the measuring thread's SCHED_FIFO priority or CPU.
        let load = arguments.has("--load") ? BackgroundLoad(sparing: cpu) : nil
        defer { load?.stop() }
        // cyclictest is spawned from this thread between the measurements: around each spawn the
        // thread is made ordinary and leaves the measured CPU, so Foundation's helper threads
        // created then (and cyclictest's main thread) do not inherit SCHED_FIFO and that CPU —
        // they did, and delayed the next measurement's wake-ups by up to milliseconds.
        let allowed = RealTimeSetup.allowedCPUs
        let helperCPUs = cpu.map { c in allowed.filter { $0 != c } }.flatMap { $0.isEmpty ? nil : $0 } ?? allowed
        // Two halves each, alternating: Takt, cyclictest, Takt, cyclictest. With --concurrent,
        // cyclictest runs AT THE SAME TIME as Takt, on another CPU: a host stall — a VM pause, a
        // burst on the host — then reaches both, and the maxima compare the two under the same
        // conditions (alternating, each meets different bursts: Docs/benchmarks.md). The halves
        // swap the two CPUs, unless --cpu pins Takt.
        let concurrent = compare && arguments.has("--concurrent")
        let halves = compare ? [loops / 2, loops - loops / 2] : [loops]
        let placements: [(takt: Int?, cyclictest: Int?)]
        if concurrent, let cpu {
            let other = allowed.first { $0 != cpu } ?? allowed[0]
            placements = [(cpu, other), (cpu, other)]
        } else if concurrent {
            let a = allowed[allowed.count - 1], b = allowed[0]
            placements = [(a, b), (b, a)]
        } else {
            placements = halves.map { _ in (cpu, cpu) }
        }
        let realTime = RealTimeSetup.apply(RealTimeRequest(fifoPriority: policy == "fifo" ? priority : nil, lockMemory: true,
                                                           cpus: placements[0].takt.map { [$0] }, timerSlack: .nanoseconds(1), holdDMALatencyZero: true))
        let err = console.err
        var takt: [Interval] = []
        var series: [Interval] = []
        var cyclic = CyclictestResult()
        var caughtUp: UInt64 = 0
        if let load { err.write("load: \(load.threads) threads of CPU and memory work on the other cores\n") }
        func cyclictestFailed(_ count: Int) -> Int32 {
            err.write("\nerror: cyclictest failed (run it by hand: cyclictest -m -p \(priority) -i \(interval.nanoseconds / 1_000) -l \(count))\n")
            return ExitStatus.failure
        }
        for (i, count) in halves.enumerated() {
            let place = placements[i]
            if i > 0, let c = place.takt, c != placements[i - 1].takt { _ = RealTimeSetup.pin(to: [c]) }
            // Started from this thread made ordinary and moved to its CPU, so neither cyclictest's
            // main thread nor Foundation's helper threads inherit SCHED_FIFO or the measured CPU.
            let running = concurrent ? RealTimeSetup.asOrdinaryThread(on: place.cyclictest.map { [$0] }, {
                startCyclictest(interval: interval, loops: count, policy: policy, priority: priority, cpu: place.cyclictest)
            }) : nil
            if concurrent && running == nil { return cyclictestFailed(count) }
            if console.interactive {
                err.write("\r\u{1B}[Kmeasuring Takt\(concurrent ? " and cyclictest" : "") (\(i + 1)/\(halves.count)), \(count) wake-ups of \(interval) …")
            }
            guard let (samples, caught) = measureExecutiveSeries(interval: interval, loops: count, spin: spin) else {
                running?.stop()
                err.write("error: could not open a UDP socket on 127.0.0.1 for the benchmark node\n")
                return ExitStatus.failure
            }
            takt += samples
            series += samples
            caughtUp += caught
            if let running {
                guard let r = running.finish() else { return cyclictestFailed(count) }
                cyclic.merge(r)
            } else if compare {
                if console.interactive { err.write("\r\u{1B}[Kmeasuring cyclictest (\(i + 1)/\(halves.count)) …") }
                guard let r = RealTimeSetup.asOrdinaryThread(on: helperCPUs, {
                    startCyclictest(interval: interval, loops: count, policy: policy, priority: priority, cpu: cpu)?.finish()
                }) else { return cyclictestFailed(count) }
                cyclic.merge(r)
            }
        }
        if console.interactive { err.write("\r\u{1B}[K") }
        takt.sort()
        let stats = LatencyStatistics(sorted: takt, overrunAbove: interval)
        var text = "takt bench jitter: \(takt.count) wake-ups every \(interval), spin \(spin); executive dispatch lateness (wake − instant)\n"
        text += "  environment: kernel \(realTime.environment.kernelRelease)\(realTime.environment.preemptRT ? " (PREEMPT_RT)" : ""), clocksource \(realTime.environment.clocksource ?? "?"), policy \(realTime.environment.schedulingPolicy) priority \(realTime.environment.schedulingPriority)\n"
        for step in realTime.steps where step.status != .notRequested { text += "    \(step)\n" }
        let comparison = !compare ? nil : concurrent
            ? "at the same time, " + placements.map { "Takt on CPU \($0.takt ?? 0) with cyclictest on CPU \($0.cyclictest ?? 0)" }.joined(separator: ", then ")
            : "one after the other, two halves each" + (cpu.map { " on CPU \($0)" } ?? "")
        if let comparison { text += "  comparison: \(comparison)\n" }
        text += "  Takt:       " + stats.line + "\n"
        if caughtUp > 0 {
            text += "              + \(caughtUp) actions caught up after those overruns (already due at the late wake-up: not wake-ups, as cyclictest skips missed periods)\n"
        }
        var cyclicStats: LatencyStatistics?
        if compare {
            cyclicStats = cyclic.statistics
            if let c = cyclicStats {
                text += "  cyclictest: " + c.line + "  (1 us resolution)\n"
                text += "  ratio Takt/cyclictest: p50 \(ratio(stats.p50, c.p50)), p99 \(ratio(stats.p99, c.p99)), max \(ratio(stats.max, c.max))\n"
            }
        }
        if let histogramMax {
            text += "# Histogram (Takt, 1 us buckets; cyclictest -h format)\n"
            var counts = [Int](repeating: 0, count: histogramMax)
            var overflow = 0
            for s in takt { let us = Int(s.nanoseconds / 1_000); if us < histogramMax { counts[us] += 1 } else { overflow += 1 } }
            for (us, c) in counts.enumerated() { text += String(format: "%06d %06d\n", us, c) }
            text += "# Total: \(String(format: "%09d", takt.count))\n# Min Latencies: \(String(format: "%05d", stats.min.nanoseconds / 1_000))\n"
            text += "# Avg Latencies: \(String(format: "%05d", stats.average.nanoseconds / 1_000))\n# Max Latencies: \(String(format: "%05d", stats.max.nanoseconds / 1_000))\n"
            text += "# Histogram Overflows: \(String(format: "%05d", overflow))\n"
        }
        console.out.write(text)
        if let path = arguments.value("--svg") {
            let svg = JitterPlot.render(series: series, sorted: takt, stats: stats, interval: interval, cyclictest: cyclicStats)
            do { try svg.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                console.err.write("error: cannot write \(path): \(error.localizedDescription)\n")
                return ExitStatus.usage
            }
        }
        if let path = arguments.value("--json") {
            var fields: [(String, JSON)] = [
                ("file_version", .int(1)), ("cmdline", .string((["takt"] + CommandLine.arguments.dropFirst()).joined(separator: " "))),
                ("rt_test_version", .string("takt \(TaktCommand.version)")),
                ("start_time", .string(ISO8601DateFormatter().string(from: Date()))), ("return_code", .int(0)),
                ("sysinfo", .object([("sysname", .string("Linux")), ("release", .string(realTime.environment.kernelRelease)),
                                     ("machine", .string(realTime.environment.machine)), ("realtime", .int(realTime.environment.preemptRT ? 1 : 0))])),
                ("num_threads", .int(1)), ("resolution_in_ns", .int(0)),
                ("thread", .object([("0", .object([("min", .int(stats.min.nanoseconds / 1_000)), ("avg", .int(stats.average.nanoseconds / 1_000)),
                                                   ("max", .int(stats.max.nanoseconds / 1_000)), ("cpu", .int(Int64(cpu ?? -1)))]))])),
                ("latency_ns", stats.json), ("overruns", .int(Int64(stats.overruns))), ("interval_ns", .int(interval.nanoseconds)),
                ("loops", .int(Int64(takt.count))), ("caught_up", .int(Int64(caughtUp))), ("spin_ns", .int(spin.nanoseconds)),
                ("policy", .string(realTime.environment.schedulingPolicy)), ("priority", .int(Int64(realTime.environment.schedulingPriority))),
                ("clocksource", .string(realTime.environment.clocksource ?? "")),
                ("realtime_setup", .array(realTime.steps.map { .string("\($0)") })), ("load", .bool(load != nil)),
            ]
            if let c = cyclicStats {
                fields.append(("cyclictest_latency_ns", c.json))
                fields.append(("comparison", .string(concurrent ? "concurrent" : "alternating")))
                if concurrent {
                    fields.append(("takt_cpus", .array(placements.map { .int(Int64($0.takt ?? -1)) })))
                    fields.append(("cyclictest_cpus", .array(placements.map { .int(Int64($0.cyclictest ?? -1)) })))
                }
            }
            do { try JSON.object(fields).serialized(pretty: true).write(toFile: path, atomically: true, encoding: .utf8) } catch {
                console.err.write("error: cannot write \(path): \(error.localizedDescription)\n")
                return ExitStatus.usage
            }
        }
        return ExitStatus.success
    }

    /// `takt bench sim`: simulator throughput in frame receptions per second, for 4, 16, 64 and 256
    /// nodes (clusters from `takt gen`), median of 3 runs of about the same work each. Run it from
    /// a release build (`swift run -c release takt bench sim`); a debug build says so.
    static func simulatorThroughput(_ arguments: ParsedArguments, _ console: inout Console) -> Int32 {
        let sizes = (arguments.value("--nodes") ?? "4,16,64,256").split(separator: ",").compactMap { Int($0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 2 && $0 <= 1_024 }) else {
            return TaktCommand.usageError("--nodes takes a list such as 4,16,64 (2 to 1024 each)", subcommand: "bench", console: &console)
        }
        guard let work = Int(arguments.value("--loops") ?? "128000"), work >= 1_000 else {
            return TaktCommand.usageError("--loops takes the rounds × nodes per run (≥ 1000; default 128000)", subcommand: "bench", console: &console)
        }
        #if DEBUG
        console.err.write("note: this is a debug build; for the published figures run `swift run -c release takt bench sim`\n")
        #endif
        var text = "takt bench sim: simulator throughput, frame receptions per second (median of 3, every checker on)\n"
        for n in sizes {
            guard let source = try? ScheduleGenerator.generate(nodes: n, tasks: 0), case let checked = ScheduleChecker.check(source),
                  let schedule = checked.schedule, let derived = checked.derived else { continue }
            let rounds = UInt64(max(20, work / n))
            var rates: [Double] = []
            var receptions = 0
            for _ in 0..<3 {
                let start = MonotonicClock.now()
                let report = Simulator.run(schedule: schedule, derived: derived, configuration: SimulationConfiguration(seed: 1, rounds: rounds, schedule: schedule))
                let seconds = Double((MonotonicClock.now() - start).nanoseconds) / 1e9
                receptions = report.framesAccepted
                rates.append(Double(report.framesAccepted) / seconds)
            }
            rates.sort()
            text += String(format: "  %4d nodes, %6d rounds: %9d receptions per run; %.2f M/s (runs: %@)\n", n, Int(rounds), receptions, rates[1] / 1e6,
                           rates.map { String(format: "%.2f", $0 / 1e6) }.joined(separator: ", "))
        }
        console.out.write(text)
        return ExitStatus.success
    }

    /// `takt bench check`: the validator on a generated schedule (default 1,000 nodes and 100,000
    /// tasks, as Docs/benchmarks.md), median of --loops runs.
    static func validatorSpeed(_ arguments: ParsedArguments, _ console: inout Console) -> Int32 {
        guard let nodes = Int(arguments.value("--nodes") ?? "1000"), let tasks = Int(arguments.value("--tasks") ?? "100000"),
              let runs = Int(arguments.value("--loops") ?? "5"), runs >= 1, runs <= 100 else {
            return TaktCommand.usageError("bench check takes --nodes N --tasks M --loops RUNS (1–100)", subcommand: "bench", console: &console)
        }
        let source: String
        do { source = try ScheduleGenerator.generate(nodes: nodes, tasks: tasks) } catch {
            return TaktCommand.usageError("cannot generate \(nodes) nodes with \(tasks) tasks: \(error)", subcommand: "bench", console: &console)
        }
        #if DEBUG
        console.err.write("note: this is a debug build; for the published figures run `swift run -c release takt bench check`\n")
        #endif
        var times: [Interval] = []
        var valid = false
        for _ in 0..<runs {
            let start = MonotonicClock.now()
            let result = ScheduleChecker.check(source)
            times.append(MonotonicClock.now() - start)
            valid = result.schedule != nil
        }
        times.sort()
        console.out.write("takt bench check: \(nodes) nodes, \(tasks) tasks (\(source.utf8.count) bytes), \(valid ? "valid" : "INVALID"): median \(times[times.count / 2]) over \(runs) runs (min \(times[0]), max \(times[times.count - 1]))\n")
        return ExitStatus.success
    }

    static func ratio(_ a: Interval, _ b: Interval) -> String {
        b.nanoseconds > 0 ? String(format: "%.3f", Double(a.nanoseconds) / Double(b.nanoseconds)) : "-"
    }

    static func which(_ program: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin:/usr/sbin:/sbin").split(separator: ":") {
            let path = "\(dir)/\(program)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs an executive over a one-node schedule with `interval`-long slots (after a warm-up) for
    /// `loops` intervals: the lateness of each wake-up in time order, and the actions caught up
    /// after stalls (already due at a wake-up: not samples, as cyclictest skips the periods it
    /// missed); nil when no socket could be opened.
    static func measureExecutiveSeries(interval: Interval, loops: Int, spin: Interval) -> (samples: [Interval], caughtUp: UInt64)? {
        let us = interval.nanoseconds / 1_000
        let slots = 8
        // One node owning every slot: it acts (transmits) at every slot start, once per interval.
        var text = "cluster bench { round = \(us * Int64(slots)) us; cycle = 1 round; macrotick = \(us) us; bitrate = 1 Gbit/s; propagation = 1 us; drift = 1 ppm; reading_error = 1 us; fault_tolerance = 0 }\n"
        text += "node self\n"
        for i in 0..<slots { text += "slot s\(i) { sender = self; offset = \(Int64(i) * us) us; length = \(us) us }\n" }
        let checked = ScheduleChecker.check(text)
        guard let schedule = checked.schedule, let derived = checked.derived, let codec = try? FrameCodec(schedule: schedule) else { return nil }
        let port = UInt16(40_000 + Int(getpid() % 10_000))
        guard let medium = try? UnicastFanOutMedium(UnicastConfiguration(local: SocketAddress(address: IPv4Address(127, 0, 0, 1), port: port),
                                                                         peers: [SocketAddress(address: IPv4Address(127, 0, 0, 1), port: port &+ 1)],
                                                                         kernelTimestamps: false)) else { return nil }
        defer { medium.close() }
        let settings = ExecutiveSettings(spin: spin, guardian: interval, restartAfterFreeze: nil)
        guard let waiter = try? DeadlineWaiter(spin: spin),
              var executive = try? Executive(configuration: ControllerConfiguration(schedule: schedule, derived: derived, node: 0), codec: codec,
                                             oscillator: .identity, time: MonotonicTimeSource(waiter: waiter), medium: medium, settings: settings)
        else { return nil }
        defer { executive.deallocate() }
        let log = UnsafeMutableBufferPointer<Int64>.allocate(capacity: loops + 4_096)  // warm-up included
        defer { log.deallocate() }
        executive.latenessLog = log
        // Warm-up: the listen timeout (2 rounds), the cold start, one more round.
        let start = executive.now()
        executive.run(until: start + schedule.cluster.round * 4) { false }
        // (Not resetting the histogram here: zeroing it takes milliseconds, and the loop would start
        // the measured run that far behind. The measured samples are the log's from here on.)
        let first = executive.latenessLogged, caughtBefore = executive.caughtUp
        let measureStart = executive.now()
        executive.run(until: measureStart + interval * Int64(loops) + interval / 2) { false }
        return ((first..<executive.latenessLogged).map { Interval(nanoseconds: log[$0]) }, executive.caughtUp - caughtBefore)
    }

    /// The samples of a 1 ns histogram, in ascending order (bucket lower bounds; overflows at the maximum).
    static func samples(from h: LatencyHistogram) -> [Interval] {
        var out: [Interval] = []
        out.reserveCapacity(Int(h.count))
        for i in 0..<h.bucketCount {
            let c = h.count(inBucket: i)
            if c > 0 { out += Array(repeating: Interval(nanoseconds: Int64(i) * h.bucketWidth.nanoseconds), count: Int(c)) }
        }
        if h.overflowCount > 0, let max = h.maximum { out += Array(repeating: max, count: Int(h.overflowCount)) }
        return out
    }

    /// Starts cyclictest (one thread, the histogram on stdout at its end); nil if it cannot start.
    static func startCyclictest(interval: Interval, loops: Int, policy: String, priority: Int32, cpu: Int?) -> RunningCyclictest? {
        let histogram = 10_000  // us
        let jsonPath = FileManager.default.temporaryDirectory.appendingPathComponent("takt-cyclictest-\(getpid()).json").path
        var args = ["-m", "-q", "-t", "1", "-i", "\(interval.nanoseconds / 1_000)", "-l", "\(loops)", "-h", "\(histogram)", "--json=\(jsonPath)"]
        if policy == "fifo" { args += ["-p", "\(priority)"] } else { args += ["-p", "0"] }
        if let cpu { args += ["-a", "\(cpu)"] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: which("cyclictest") ?? "/usr/bin/cyclictest")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        do { try p.run() } catch { return nil }
        return RunningCyclictest(process: p, output: out, jsonPath: jsonPath)
    }
}

/// A cyclictest run in progress: `finish()` waits for it and reads its histogram.
struct RunningCyclictest {
    let process: Process
    let output: Pipe
    let jsonPath: String

    /// Ends it early (the measurement it was compared with failed).
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: jsonPath)
    }

    func finish() -> CyclictestResult? {
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: jsonPath) }
        guard process.terminationStatus == 0 else { return nil }
        // The -h histogram: "NNNNNN CCCCCC" lines (us, count), then "# Max Latencies: …".
        var result = CyclictestResult()
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("#") {
                if line.contains("Max Latencies"), let v = line.split(separator: " ").last.flatMap({ Int64($0) }) { result.maxMicroseconds = max(result.maxMicroseconds, v) }
                if line.contains("Min Latencies"), let v = line.split(separator: " ").last.flatMap({ Int64($0) }) { result.minMicroseconds = min(result.minMicroseconds, v) }
                continue
            }
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let us = Int(fields[0]), let count = Int(fields[1]), count > 0 else { continue }
            result.counts[us, default: 0] += count
        }
        return result.counts.isEmpty ? nil : result
    }
}

/// cyclictest's histogram (1 us buckets), merged over runs.
struct CyclictestResult {
    var counts: [Int: Int] = [:]
    var maxMicroseconds: Int64 = 0
    var minMicroseconds: Int64 = .max

    mutating func merge(_ other: CyclictestResult) {
        for (k, v) in other.counts { counts[k, default: 0] += v }
        maxMicroseconds = max(maxMicroseconds, other.maxMicroseconds)
        minMicroseconds = min(minMicroseconds, other.minMicroseconds)
    }

    var statistics: LatencyStatistics? {
        var samples: [Interval] = []
        for (us, c) in counts.sorted(by: { $0.key < $1.key }) { samples += Array(repeating: Interval(nanoseconds: Int64(us) * 1_000), count: c) }
        guard !samples.isEmpty else { return nil }
        // The histogram caps at its range; cyclictest's own maximum is exact.
        if let last = samples.indices.last, maxMicroseconds * 1_000 > samples[last].nanoseconds { samples[last] = Interval(nanoseconds: maxMicroseconds * 1_000) }
        return LatencyStatistics(sorted: samples, overrunAbove: nil)
    }
}

/// min, avg, p50 … p99.99, max of sorted samples (nearest-rank percentiles).
struct LatencyStatistics {
    var count: Int, min: Interval, average: Interval, p50: Interval, p90: Interval, p99: Interval, p999: Interval, p9999: Interval, max: Interval
    var overruns: Int

    init(sorted s: [Interval], overrunAbove limit: Interval?) {
        count = s.count
        func q(_ ppm: Int) -> Interval { s.isEmpty ? .zero : s[Swift.min(s.count - 1, Swift.max(0, (s.count * ppm + 999_999) / 1_000_000 - 1))] }
        min = s.first ?? .zero
        max = s.last ?? .zero
        let sum = s.reduce(Int64(0)) { $0 + $1.nanoseconds }
        average = Interval(nanoseconds: s.isEmpty ? 0 : sum / Int64(s.count))
        p50 = q(500_000); p90 = q(900_000); p99 = q(990_000); p999 = q(999_000); p9999 = q(999_900)
        overruns = limit.map { l in s.filter { $0 >= l }.count } ?? 0
    }

    var line: String { "min \(min)  avg \(average)  p50 \(p50)  p90 \(p90)  p99 \(p99)  p99.9 \(p999)  p99.99 \(p9999)  max \(max)  overruns \(overruns)" }

    var json: JSON {
        .object([("min", .int(min.nanoseconds)), ("avg", .int(average.nanoseconds)), ("p50", .int(p50.nanoseconds)), ("p90", .int(p90.nanoseconds)),
                 ("p99", .int(p99.nanoseconds)), ("p999", .int(p999.nanoseconds)), ("p9999", .int(p9999.nanoseconds)), ("max", .int(max.nanoseconds))])
    }
}


/// `--load`: threads that keep the other cores busy with arithmetic and memory traffic (a 32 MB
/// buffer copied back and forth), until stopped.
final class BackgroundLoad: @unchecked Sendable {
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)
    private var workers: [Thread] = []
    let threads: Int

    init(sparing cpu: Int?) {
        threads = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)
        for _ in 0..<threads {
            let t = Thread { [self] in
                RealTimeSetup.makeCurrentThreadOrdinary(avoiding: cpu)
                let bytes = 32 << 20
                let a = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
                let b = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
                defer { a.deallocate(); b.deallocate() }
                memset(a, 1, bytes)
                var x: UInt64 = 1
                while !stopping.load(ordering: .relaxed) {
                    memcpy(b, a, bytes)
                    for _ in 0..<100_000 { x = x &* 6364136223846793005 &+ 1442695040888963407 }
                    memcpy(a, b, bytes)
                }
                if x == 42 { print("") }  // keep the arithmetic
                running.subtract(1, ordering: .releasing)
            }
            running.add(1, ordering: .releasing)
            t.start()
            workers.append(t)
        }
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        // Each worker checks the flag between passes (a pass is ~10-50 ms); wait for all of them.
        while running.load(ordering: .acquiring) > 0 { usleep(5_000) }
    }
}

/// The jitter picture: a histogram of lateness (log-scale counts, p50/p99/p99.9/max marked) above
/// the lateness of every wake-up in time order.
enum JitterPlot {
    static func render(series: [Interval], sorted: [Interval], stats: LatencyStatistics, interval: Interval, cyclictest: LatencyStatistics?) -> String {
        let width = 900.0, height = 620.0, left = 70.0, right = 20.0
        let plotWidth = width - left - right
        var svg = HistogramPanel.documentStart(width: width, height: height, left: left,
                                               title: "Takt executive: dispatch lateness, \(sorted.count) wake-ups every \(interval)")
        // Histogram: log10 of the lateness on x (1 ns … max), log10 counts on y.
        let top = 50.0, histHeight = 250.0
        let decades = max(1, Int(log10(max(Double(stats.max.nanoseconds), 10)).rounded(.up)))
        let panel = HistogramPanel(axis: .logarithmic(decades: decades), left: left, top: top, width: plotWidth, height: histHeight)
        var markers = [("p50", stats.p50, "#228833"), ("p99", stats.p99, "#ccbb44"), ("p99.9", stats.p999, "#ee6677"), ("max", stats.max, "#aa3377")]
            .enumerated().map { HistogramPanel.Marker(label: $0.element.0, value: $0.element.1, color: $0.element.2, row: $0.offset) }
        if let c = cyclictest { markers.append(HistogramPanel.Marker(label: "cyclictest p50", value: c.p50, color: "gray", dashed: false, row: 4)) }
        svg += panel.render(sorted, markers: markers, noun: "wake-ups")
        // Time series: lateness of each wake-up (log scale), in order.
        let seriesTop = 350.0, seriesHeight = 220.0
        svg += "<text x=\"\(left)\" y=\"\(seriesTop - 10)\" font-size=\"13\">lateness of each wake-up, in order (log scale)</text>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(seriesTop + seriesHeight)\" x2=\"\(left + plotWidth)\" y2=\"\(seriesTop + seriesHeight)\" stroke=\"black\"/>\n"
        let step = max(1, series.count / 2_000)
        var points: [String] = []
        var i = 0
        while i < series.count {
            let chunk = series[i..<min(series.count, i + step)]
            let worst = chunk.max() ?? .zero
            let x = left + Double(i) / Double(max(series.count - 1, 1)) * plotWidth
            let y = seriesTop + seriesHeight - log10(max(Double(worst.nanoseconds), 1)) / Double(decades) * seriesHeight
            points.append("\(fmt(x)),\(fmt(y))")
            i += step
        }
        svg += "<polyline fill=\"none\" stroke=\"#4477aa\" stroke-width=\"1\" points=\"\(points.joined(separator: " "))\"/>\n"
        for d in 0...decades {
            let y = seriesTop + seriesHeight - Double(d) / Double(decades) * seriesHeight
            svg += "<text x=\"\(left - 5)\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(Interval(nanoseconds: Int64(pow(10, Double(d)))))</text>\n"
        }
        svg += "<text x=\"\(left + plotWidth)\" y=\"\(seriesTop + seriesHeight + 16)\" text-anchor=\"end\">wake-up \(series.count)</text>\n"
        svg += "</svg>\n"
        return svg
    }
}
