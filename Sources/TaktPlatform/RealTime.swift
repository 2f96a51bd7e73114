// Real-time set-up: ask Linux for what a time-triggered node needs, and report each answer.
//
// The steps, in the order applied (memory first, so the rest runs with memory already locked;
// the real-time policy last, so the set-up itself does not run at real-time priority):
//   1. mlockall(MCL_CURRENT | MCL_FUTURE): no page faults in the loop. Needs CAP_IPC_LOCK or an
//      RLIMIT_MEMLOCK (ulimit -l) larger than the process.
//   2. sched_setaffinity: pin the calling thread to the given CPUs (ideally isolated ones).
//   3. prctl(PR_SET_TIMERSLACK): absolute sleeps end within this much of their deadline instead of
//      the default 50 µs. Always permitted. Recent kernels (observed on 6.18) give a SCHED_FIFO
//      thread a slack of 0 anyway; the step matters when SCHED_FIFO is refused.
//   4. /dev/cpu_dma_latency: write 0 (µs) and keep the file open, so the CPUs stay out of deep
//      idle states (their exit latency is tens to hundreds of µs). Needs root (the device is 0600).
//      Released by `releaseDMALatency()` or at process exit.
//   5. sched_setscheduler(SCHED_FIFO, priority): the thread preempts every normal one. Needs root,
//      CAP_SYS_NICE or an RLIMIT_RTPRIO (ulimit -r) ≥ the priority.
// Scheduling policy, affinity and timer slack are per THREAD (and inherited by threads created
// afterwards): call `apply` on the thread that runs the executive, before starting others.
//
// Nothing here fails the process: every step reports granted, refused (with errno and a hint),
// invalid (a request out of range, with the accepted range) or not requested. The report also
// records the environment: kernel, clocksource, and the policy, priority, CPUs and slack actually
// in effect afterwards, so a benchmark states the conditions it ran under.

import CTaktPlatform
import Glibc
import Synchronization
import TaktTime

/// What to ask for. A nil or false field is not requested (and reported as such).
public struct RealTimeRequest: Hashable, Sendable {
    /// SCHED_FIFO with this priority (1–99); nil leaves the scheduling policy alone.
    public var fifoPriority: Int32?
    /// mlockall(MCL_CURRENT | MCL_FUTURE).
    public var lockMemory: Bool
    /// Pin the calling thread to exactly these CPUs (0-based); nil leaves the affinity alone.
    public var cpus: [Int]?
    /// The calling thread's timer slack (≥ 1 ns; 1 ns is the usual choice); nil leaves it alone.
    public var timerSlack: Interval?
    /// Hold /dev/cpu_dma_latency open with 0 written.
    public var holdDMALatencyZero: Bool

    public init(fifoPriority: Int32?, lockMemory: Bool, cpus: [Int]?, timerSlack: Interval?, holdDMALatencyZero: Bool) {
        self.fifoPriority = fifoPriority
        self.lockMemory = lockMemory
        self.cpus = cpus
        self.timerSlack = timerSlack
        self.holdDMALatencyZero = holdDMALatencyZero
    }

    /// Nothing: `apply` then only reports the environment.
    public static let nothing = RealTimeRequest(fifoPriority: nil, lockMemory: false, cpus: nil, timerSlack: nil, holdDMALatencyZero: false)
}

/// The answer to one step of the request.
public struct RealTimeStep: Hashable, Sendable, CustomStringConvertible {
    public enum Status: String, Hashable, Sendable {
        /// The kernel did it.
        case granted
        /// The kernel refused; `error` says why and `detail` how to grant it.
        case refused
        /// The request was out of range and was not attempted; `detail` gives the accepted range.
        case invalid
        /// Not asked for.
        case notRequested = "not requested"
    }

    /// "mlockall", "affinity", "timer slack", "cpu_dma_latency", "SCHED_FIFO".
    public var name: String
    /// What was asked for: "priority 80", "CPUs 2,3", "1 ns"; empty when not requested.
    public var requested: String
    public var status: Status
    /// The errno of a refusal.
    public var error: Errno?
    /// A hint for refusals and invalid requests; empty otherwise.
    public var detail: String

    public init(name: String, requested: String, status: Status, error: Errno?, detail: String) {
        self.name = name
        self.requested = requested
        self.status = status
        self.error = error
        self.detail = detail
    }

    /// "SCHED_FIFO (priority 80): refused: EPERM (Operation not permitted); needs …".
    public var description: String {
        var text = name + (requested.isEmpty ? "" : " (\(requested))") + ": " + status.rawValue
        if let error { text += ": \(error)" }
        if !detail.isEmpty { text += "; " + detail }
        return text
    }
}

/// Facts about the machine and the calling thread, read without privileges.
public struct EnvironmentFacts: Hashable, Sendable {
    /// uname -r.
    public var kernelRelease: String
    /// uname -v (mentions PREEMPT_RT or PREEMPT_DYNAMIC).
    public var kernelVersion: String
    /// uname -m.
    public var machine: String
    /// True when /sys/kernel/realtime reads 1 (a PREEMPT_RT kernel).
    public var preemptRT: Bool
    /// /sys/devices/system/clocksource/clocksource0/current_clocksource ("tsc", "kvm-clock"…); nil
    /// when unreadable.
    public var clocksource: String?
    /// The calling thread's policy in effect: "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR"…
    public var schedulingPolicy: String
    /// The calling thread's static priority in effect (0 for SCHED_OTHER).
    public var schedulingPriority: Int32
    /// The CPUs the calling thread may run on.
    public var cpus: [Int]
    /// Online CPUs.
    public var onlineCPUs: Int
    /// The calling thread's timer slack; nil when unreadable.
    public var timerSlack: Interval?
    /// RLIMIT_RTPRIO (soft, hard); UInt64.max is unlimited; nil when unreadable.
    public var realtimePriorityLimit: UInt64?
    /// RLIMIT_MEMLOCK soft limit in bytes; UInt64.max is unlimited; nil when unreadable.
    public var lockedMemoryLimitBytes: UInt64?
    /// /proc/sys/kernel/sched_rt_runtime_us: real-time tasks may use this many µs per
    /// sched_rt_period_us (-1: no throttling); nil when unreadable.
    public var realtimeRuntimeMicroseconds: Int64?

    /// Reads the facts for the calling thread.
    public static func read() -> EnvironmentFacts {
        var names = utsname()
        uname(&names)
        let policy = sched_getscheduler(0)
        var parameters = sched_param()
        let priority: Int32 = sched_getparam(0, &parameters) == 0 ? parameters.sched_priority : -1
        let slack = takt_timer_slack()
        var soft: UInt64 = 0, hard: UInt64 = 0
        let rtprio: UInt64? = takt_resource_limit(0, &soft, &hard) == 0 ? soft : nil
        let memlock: UInt64? = takt_resource_limit(1, &soft, &hard) == 0 ? soft : nil
        return EnvironmentFacts(
            kernelRelease: fieldString(&names.release), kernelVersion: fieldString(&names.version),
            machine: fieldString(&names.machine),
            preemptRT: readSmallFile("/sys/kernel/realtime") == "1",
            clocksource: readSmallFile("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
            schedulingPolicy: policyName(policy), schedulingPriority: priority,
            cpus: currentCPUs(), onlineCPUs: sysconf(Int32(_SC_NPROCESSORS_ONLN)),
            timerSlack: slack >= 0 ? Interval(nanoseconds: slack) : nil,
            realtimePriorityLimit: rtprio, lockedMemoryLimitBytes: memlock,
            realtimeRuntimeMicroseconds: readSmallFile("/proc/sys/kernel/sched_rt_runtime_us").flatMap { Int64($0) })
    }

    static func policyName(_ policy: Int32) -> String {
        if policy < 0 { return "unknown" }
        switch policy & ~0x4000_0000 {  // SCHED_RESET_ON_FORK is a flag on the policy
        case 0: return "SCHED_OTHER"
        case 1: return "SCHED_FIFO"
        case 2: return "SCHED_RR"
        case 3: return "SCHED_BATCH"
        case 5: return "SCHED_IDLE"
        case 6: return "SCHED_DEADLINE"
        default: return "policy \(policy)"
        }
    }

    static func currentCPUs() -> [Int] {
        var buffer = [Int32](repeating: 0, count: 1024)
        let found = buffer.withUnsafeMutableBufferPointer { takt_affinity($0.baseAddress, Int32($0.count)) }
        if found <= 0 { return [] }
        return buffer.prefix(Int(Swift.min(found, 1024))).map { Int($0) }
    }

    static func fieldString<T>(_ field: inout T) -> String {
        withUnsafeBytes(of: &field) { bytes in
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }

    /// A small text file's contents without surrounding white space; nil when unreadable.
    static func readSmallFile(_ path: String) -> String? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { _ = Glibc.close(fd) }
        var bytes = [UInt8](repeating: 0, count: 256)
        var length = 0
        while length < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + length, $0.count - length) }
            if n < 0 && errno == EINTR { continue }  // EINTR: retry
            if n <= 0 { break }
            length += n
        }
        let text = String(decoding: bytes[..<length], as: UTF8.self)
        return String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

/// The outcome of `RealTimeSetup.apply`: one step per facility, then the environment.
public struct RealTimeReport: Hashable, Sendable, CustomStringConvertible {
    public var memoryLock: RealTimeStep
    public var affinity: RealTimeStep
    public var timerSlack: RealTimeStep
    public var dmaLatency: RealTimeStep
    public var scheduling: RealTimeStep
    /// Read after the steps, so it shows what is in effect.
    public var environment: EnvironmentFacts

    /// The steps in the order applied.
    public var steps: [RealTimeStep] { [memoryLock, affinity, timerSlack, dmaLatency, scheduling] }

    /// True when every requested step was granted.
    public var allRequestedGranted: Bool {
        steps.allSatisfy { $0.status == .granted || $0.status == .notRequested }
    }

    /// One line per step, then the environment.
    public var description: String {
        var lines = steps.map(\.description)
        let e = environment
        lines.append("kernel: \(e.kernelRelease) \(e.machine)\(e.preemptRT ? " PREEMPT_RT" : "") (\(e.kernelVersion))")
        lines.append("clocksource: \(e.clocksource ?? "unknown")")
        lines.append("in effect: \(e.schedulingPolicy) priority \(e.schedulingPriority), CPUs \(e.cpus.map(String.init).joined(separator: ",")) of \(e.onlineCPUs) online, timer slack \(e.timerSlack.map { "\($0)" } ?? "unknown")")
        lines.append("limits: RLIMIT_RTPRIO \(RealTimeReport.limitText(e.realtimePriorityLimit)), RLIMIT_MEMLOCK \(RealTimeReport.limitText(e.lockedMemoryLimitBytes))\(e.lockedMemoryLimitBytes == nil || e.lockedMemoryLimitBytes == .max ? "" : " bytes"), sched_rt_runtime_us \(e.realtimeRuntimeMicroseconds.map(String.init) ?? "unknown")")
        return lines.joined(separator: "\n")
    }

    /// A number, "unlimited", or null when unreadable.
    static func limitJSON(_ limit: UInt64?) -> String {
        guard let limit else { return "null" }
        return limit == .max ? "\"unlimited\"" : String(limit)
    }

    static func limitText(_ limit: UInt64?) -> String {
        guard let limit else { return "unknown" }
        return limit == .max ? "unlimited" : String(limit)
    }

    /// A JSON object: "steps" (name, requested, status, errno name and text, detail) and
    /// "environment". Keys in a fixed order; resource limits are numbers or "unlimited"; facts that
    /// could not be read are null.
    public func json() -> String {
        let stepObjects = steps.map { step in
            var object = JSONText.Object()
            object.add("name", step.name)
            object.add("requested", step.requested)
            object.add("status", step.status.rawValue)
            object.add("errno", step.error?.name)
            object.add("error", step.error?.description)
            object.add("detail", step.detail)
            return object.text
        }
        let e = environment
        var environmentObject = JSONText.Object()
        environmentObject.add("kernel_release", e.kernelRelease)
        environmentObject.add("kernel_version", e.kernelVersion)
        environmentObject.add("machine", e.machine)
        environmentObject.add("preempt_rt", e.preemptRT)
        environmentObject.add("clocksource", e.clocksource)
        environmentObject.add("scheduling_policy", e.schedulingPolicy)
        environmentObject.add("scheduling_priority", Int64(e.schedulingPriority))
        environmentObject.addRaw("cpus", "[" + e.cpus.map(String.init).joined(separator: ", ") + "]")
        environmentObject.add("online_cpus", Int64(e.onlineCPUs))
        environmentObject.add("timer_slack_ns", e.timerSlack?.nanoseconds)
        environmentObject.addRaw("rlimit_rtprio", RealTimeReport.limitJSON(e.realtimePriorityLimit))
        environmentObject.addRaw("rlimit_memlock_bytes", RealTimeReport.limitJSON(e.lockedMemoryLimitBytes))
        environmentObject.add("sched_rt_runtime_us", e.realtimeRuntimeMicroseconds)
        var object = JSONText.Object()
        object.addRaw("steps", "[" + stepObjects.joined(separator: ", ") + "]")
        object.addRaw("environment", environmentObject.text)
        return object.text
    }
}

/// Applies a `RealTimeRequest`. See the file header.
public enum RealTimeSetup {
    /// The open /dev/cpu_dma_latency descriptor, or -1. Process-wide, like the setting it holds.
    private static let dmaLatencyDescriptor = Atomic<Int32>(-1)

    /// Applies each requested step on the calling thread and reports every answer. Never throws,
    /// never traps on a refused or out-of-range request.
    public static func apply(_ request: RealTimeRequest) -> RealTimeReport {
        let memoryLock = request.lockMemory ? lockMemory() : notRequested("mlockall")
        let affinity = request.cpus.map(setAffinity) ?? notRequested("affinity")
        let timerSlack = request.timerSlack.map(setTimerSlack) ?? notRequested("timer slack")
        let dmaLatency = request.holdDMALatencyZero ? holdDMALatency() : notRequested("cpu_dma_latency")
        let scheduling = request.fifoPriority.map(setFIFO) ?? notRequested("SCHED_FIFO")
        return RealTimeReport(memoryLock: memoryLock, affinity: affinity, timerSlack: timerSlack,
                              dmaLatency: dmaLatency, scheduling: scheduling, environment: .read())
    }

    /// Makes the calling thread an ordinary one: SCHED_OTHER (a thread created by a real-time
    /// thread inherits its policy and CPU set) and, when `avoiding` is given and other CPUs are
    /// allowed, every allowed CPU but that one. For helper threads (a benchmark's load) that must
    /// never compete with the measured thread. Best effort: returns whether both steps took.
    @discardableResult
    public static func makeCurrentThreadOrdinary(avoiding cpu: Int?) -> Bool {
        var parameters = sched_param()
        parameters.sched_priority = 0
        var ok = pthread_setschedparam(pthread_self(), Int32(SCHED_OTHER), &parameters) == 0
        if let cpu {
            var buffer = [Int32](repeating: 0, count: 1024)
            let found = buffer.withUnsafeMutableBufferPointer { takt_affinity($0.baseAddress, Int32($0.count)) }
            let others = found > 0 ? buffer[0..<Int(found)].filter { $0 != Int32(cpu) } : []
            if others.isEmpty {
                ok = false
            } else {
                do { try Syscall.setAffinity(Array(others)) } catch { ok = false }
            }
        }
        return ok
    }

    /// The CPUs the calling thread may run on now (sched_getaffinity); empty if unknown.
    public static var allowedCPUs: [Int] { EnvironmentFacts.currentCPUs() }

    /// Pins the calling thread to `cpus` (after `apply`, to move a measuring thread between CPUs).
    public static func pin(to cpus: [Int]) -> RealTimeStep { setAffinity(cpus) }

    /// Runs `body` with the calling thread made ordinary — SCHED_OTHER, on `cpus` (when given and
    /// not empty) — and then puts its policy, priority and CPU set back. Threads and processes
    /// created meanwhile inherit the ordinary settings: a real-time thread that spawns a child
    /// process through Foundation (whose helper threads are created then, and would otherwise run
    /// at the same SCHED_FIFO priority on the same CPU, delaying the thread's wake-ups for as
    /// long as they run) calls it around the spawn. Best effort, like the rest of the set-up.
    public static func asOrdinaryThread<T>(on cpus: [Int]?, _ body: () throws -> T) rethrows -> T {
        var policy: Int32 = 0
        var saved = sched_param()
        let known = pthread_getschedparam(pthread_self(), &policy, &saved) == 0
        let savedCPUs = EnvironmentFacts.currentCPUs().map(Int32.init)
        var ordinary = sched_param()
        ordinary.sched_priority = 0
        _ = pthread_setschedparam(pthread_self(), Int32(SCHED_OTHER), &ordinary)
        if let cpus, !cpus.isEmpty { try? Syscall.setAffinity(cpus.map(Int32.init)) }
        defer {
            if !savedCPUs.isEmpty { try? Syscall.setAffinity(savedCPUs) }
            if known { _ = pthread_setschedparam(pthread_self(), policy, &saved) }
        }
        return try body()
    }

    /// Whether this process holds /dev/cpu_dma_latency open.
    public static var holdsDMALatency: Bool { dmaLatencyDescriptor.load(ordering: .acquiring) >= 0 }

    /// Closes /dev/cpu_dma_latency if held (the kernel then forgets the 0 µs request).
    public static func releaseDMALatency() {
        let fd = dmaLatencyDescriptor.exchange(-1, ordering: .acquiringAndReleasing)
        if fd >= 0 { Syscall.close(fd) }
    }

    static func notRequested(_ name: String) -> RealTimeStep {
        RealTimeStep(name: name, requested: "", status: .notRequested, error: nil, detail: "")
    }

    static func lockMemory() -> RealTimeStep {
        let requested = "MCL_CURRENT|MCL_FUTURE"
        do {
            try Syscall.lockAllMemory()
            return RealTimeStep(name: "mlockall", requested: requested, status: .granted, error: nil, detail: "")
        } catch {
            let hint = error == .outOfMemory
                ? "RLIMIT_MEMLOCK (ulimit -l) is smaller than the process; raise it (limits.conf memlock) or grant CAP_IPC_LOCK"
                : "needs CAP_IPC_LOCK (root, or setcap cap_ipc_lock+ep on the binary) or a large enough RLIMIT_MEMLOCK (ulimit -l)"
            return RealTimeStep(name: "mlockall", requested: requested, status: .refused, error: error, detail: hint)
        }
    }

    static func setAffinity(_ cpus: [Int]) -> RealTimeStep {
        let requested = "CPUs " + cpus.map(String.init).joined(separator: ",")
        guard !cpus.isEmpty, cpus.allSatisfy({ $0 >= 0 && $0 < 1024 }) else {
            return RealTimeStep(name: "affinity", requested: requested, status: .invalid, error: nil,
                                detail: "give one or more CPU numbers from 0 to 1023")
        }
        do {
            try Syscall.setAffinity(cpus.map { Int32($0) })
            return RealTimeStep(name: "affinity", requested: requested, status: .granted, error: nil, detail: "")
        } catch {
            let hint = error == .invalidArgument
                ? "none of these CPUs is online and allowed to this process (see nproc, taskset -p, the cpuset)"
                : "the kernel refused the CPU set"
            return RealTimeStep(name: "affinity", requested: requested, status: .refused, error: error, detail: hint)
        }
    }

    static func setTimerSlack(_ slack: Interval) -> RealTimeStep {
        let requested = "\(slack)"
        guard slack >= .nanoseconds(1) else {
            // prctl treats 0 as "back to the default" (50 µs), the opposite of what was meant.
            return RealTimeStep(name: "timer slack", requested: requested, status: .invalid, error: nil,
                                detail: "the timer slack must be at least 1 ns")
        }
        do {
            try Syscall.setTimerSlack(nanoseconds: UInt64(slack.nanoseconds))
            return RealTimeStep(name: "timer slack", requested: requested, status: .granted, error: nil, detail: "")
        } catch {
            return RealTimeStep(name: "timer slack", requested: requested, status: .refused, error: error,
                                detail: "prctl(PR_SET_TIMERSLACK) refused")
        }
    }

    static func holdDMALatency() -> RealTimeStep {
        let name = "cpu_dma_latency", requested = "0 us, held open"
        if holdsDMALatency {
            return RealTimeStep(name: name, requested: requested, status: .granted, error: nil, detail: "")
        }
        let fd: Int32
        do { fd = try Syscall.open("/dev/cpu_dma_latency", flags: O_RDWR) } catch {
            let hint = error == Errno(rawValue: ENOENT)
                ? "this kernel has no /dev/cpu_dma_latency (PM QoS); common in VMs and containers"
                : "needs root (the device is mode 0600) or a udev rule granting access"
            return RealTimeStep(name: name, requested: requested, status: .refused, error: error, detail: hint)
        }
        var zero: Int32 = 0
        while true {
            do {
                // The kernel takes a binary s32 (or ASCII); the request lasts while the file is open.
                let written = try withUnsafeBytes(of: &zero) { bytes throws(Errno) in try Syscall.write(fd, bytes) }
                if written != MemoryLayout<Int32>.size {
                    Syscall.close(fd)
                    return RealTimeStep(name: name, requested: requested, status: .refused, error: nil,
                                        detail: "short write (\(written) of 4 bytes)")
                }
                break
            } catch {
                if error == .interrupted { continue }  // EINTR: retry the write
                Syscall.close(fd)
                return RealTimeStep(name: name, requested: requested, status: .refused, error: error,
                                    detail: "writing 0 to /dev/cpu_dma_latency failed")
            }
        }
        // Keep one descriptor: if another thread stored one meanwhile, close ours.
        let (exchanged, _) = dmaLatencyDescriptor.compareExchange(expected: -1, desired: fd, ordering: .acquiringAndReleasing)
        if !exchanged { Syscall.close(fd) }
        return RealTimeStep(name: name, requested: requested, status: .granted, error: nil, detail: "")
    }

    static func setFIFO(_ priority: Int32) -> RealTimeStep {
        let name = "SCHED_FIFO", requested = "priority \(priority)"
        let lowest = sched_get_priority_min(SCHED_FIFO), highest = sched_get_priority_max(SCHED_FIFO)
        guard priority >= lowest && priority <= highest else {
            return RealTimeStep(name: name, requested: requested, status: .invalid, error: nil,
                                detail: "SCHED_FIFO priorities are \(lowest)–\(highest)")
        }
        do {
            try Syscall.setScheduler(policy: SCHED_FIFO, priority: priority)
            return RealTimeStep(name: name, requested: requested, status: .granted, error: nil, detail: "")
        } catch {
            let hint = error == .notPermitted
                ? "needs root, CAP_SYS_NICE (setcap cap_sys_nice+ep on the binary) or RLIMIT_RTPRIO ≥ \(priority) (ulimit -r, limits.conf rtprio); in Docker also --cap-add=SYS_NICE (and --cpu-rt-runtime when the kernel has RT group scheduling)"
                : "the kernel refused SCHED_FIFO"
            return RealTimeStep(name: name, requested: requested, status: .refused, error: error, detail: hint)
        }
    }
}
