// Real-time set-up reports what it got, granted or not, and never fails the process. The requests
// that would change this test process for everyone (SCHED_FIFO, mlockall, affinity,
// cpu_dma_latency) run in a child process (an exit test); in-process, refusals are forced with
// the fault injector so the "not permitted" path is tested even when running as root.

import Foundation
import Testing
import TaktTestSupport
@testable import TaktPlatform
import TaktTime

@Suite("Real-time set-up", .hostShared)
struct RealTimeTests {
    @Test func askingForNothingOnlyReportsTheEnvironment() {
        let report = RealTimeSetup.apply(.nothing)
        #expect(report.steps.allSatisfy { $0.status == .notRequested })
        #expect(report.allRequestedGranted)
        let environment = report.environment
        #expect(!environment.kernelRelease.isEmpty)
        #expect(!environment.cpus.isEmpty && environment.onlineCPUs >= 1)
        #expect(environment.schedulingPolicy.hasPrefix("SCHED_"))
        #expect(report.description.contains("kernel: \(environment.kernelRelease)"))
        #expect(report.description.contains("clocksource: "))
        let json = report.json()
        #expect(json.hasPrefix("{\"steps\": [") && json.hasSuffix("}}"))
        #expect(json.contains("\"kernel_release\": "))
        #expect(json.contains("\"status\": \"not requested\""))
    }

    @Test func refusalsAreReportedWithTheirErrnoAndAHint() {
        defer { SyscallFaults.clearAll() }
        SyscallFaults.inject(.notPermitted, into: .setScheduler, count: 1)
        SyscallFaults.inject(.notPermitted, into: .lockMemory, count: 1)
        SyscallFaults.inject(.invalidArgument, into: .setAffinity, count: 1)
        SyscallFaults.inject(.invalidArgument, into: .timerSlack, count: 1)
        SyscallFaults.inject(.permissionDenied, into: .open, count: 1)
        let wasHoldingDMALatency = RealTimeSetup.holdsDMALatency
        let report = RealTimeSetup.apply(RealTimeRequest(fifoPriority: 80, lockMemory: true, cpus: [0],
                                                         timerSlack: .nanoseconds(1), holdDMALatencyZero: !wasHoldingDMALatency))
        #expect(report.scheduling.status == .refused && report.scheduling.error == .notPermitted)
        #expect(report.scheduling.detail.contains("CAP_SYS_NICE"))
        #expect(report.memoryLock.status == .refused && report.memoryLock.detail.contains("CAP_IPC_LOCK"))
        #expect(report.affinity.status == .refused && report.affinity.error == .invalidArgument)
        #expect(report.timerSlack.status == .refused)
        if !wasHoldingDMALatency {
            #expect(report.dmaLatency.status == .refused && report.dmaLatency.error == .permissionDenied)
        }
        #expect(!report.allRequestedGranted)
        #expect(report.scheduling.description == "SCHED_FIFO (priority 80): refused: EPERM (Operation not permitted); " + report.scheduling.detail)
        let json = report.json()
        #expect(json.contains("\"errno\": \"EPERM\""))
        #expect(json.contains("\"error\": \"EPERM (Operation not permitted)\""))
        // The refused requests changed nothing.
        #expect(report.environment.schedulingPolicy != "SCHED_FIFO")
    }

    @Test func requestsOutOfRangeAreReportedInvalidWithoutCallingTheKernel() {
        for priority: Int32 in [0, 100, -5] {
            let report = RealTimeSetup.apply(RealTimeRequest(fifoPriority: priority, lockMemory: false, cpus: nil, timerSlack: nil, holdDMALatencyZero: false))
            #expect(report.scheduling.status == .invalid && report.scheduling.detail.contains("1–99"))
        }
        for cpus in [[], [-1], [4096]] {
            let report = RealTimeSetup.apply(RealTimeRequest(fifoPriority: nil, lockMemory: false, cpus: cpus, timerSlack: nil, holdDMALatencyZero: false))
            #expect(report.affinity.status == .invalid)
        }
        for slack in [Interval.zero, .nanoseconds(-1)] {
            let report = RealTimeSetup.apply(RealTimeRequest(fifoPriority: nil, lockMemory: false, cpus: nil, timerSlack: slack, holdDMALatencyZero: false))
            #expect(report.timerSlack.status == .invalid)
        }
    }

    @Test func timerSlackIsGrantedAndInEffect() {
        // Timer slack is per thread and harmless; restore this worker thread's value afterwards.
        let previous = RealTimeSetup.apply(.nothing).environment.timerSlack ?? .microseconds(50)
        defer { _ = RealTimeSetup.apply(RealTimeRequest(fifoPriority: nil, lockMemory: false, cpus: nil, timerSlack: previous, holdDMALatencyZero: false)) }
        let report = RealTimeSetup.apply(RealTimeRequest(fifoPriority: nil, lockMemory: false, cpus: nil, timerSlack: .nanoseconds(1), holdDMALatencyZero: false))
        #expect(report.timerSlack.status == .granted)
        #expect(report.environment.timerSlack == .nanoseconds(1))
    }

    /// The full request, in a child process so this one keeps its policy, memory and CPUs. Whatever
    /// is granted, the child must finish and the report must agree with what is in effect.
    @Test func theFullRequestReportsConsistentlyWhetherOrNotPermitted() async {
        await #expect(processExitsWith: .success) {
            let report = RealTimeSetup.apply(RealTimeRequest(fifoPriority: 10, lockMemory: true, cpus: [0],
                                                             timerSlack: .nanoseconds(1), holdDMALatencyZero: true))
            let environment = report.environment
            var consistent = report.steps.allSatisfy { $0.status == .granted || $0.status == .refused }
            if report.scheduling.status == .granted {
                consistent = consistent && environment.schedulingPolicy == "SCHED_FIFO" && environment.schedulingPriority == 10
            } else {
                consistent = consistent && report.scheduling.error != nil
            }
            if report.affinity.status == .granted { consistent = consistent && environment.cpus == [0] }
            // Linux gives SCHED_FIFO/RR/DEADLINE threads a timer slack of 0 whatever was set before.
            if report.timerSlack.status == .granted { consistent = consistent && (environment.timerSlack ?? .max) <= .nanoseconds(1) }
            consistent = consistent && (report.dmaLatency.status == .granted) == RealTimeSetup.holdsDMALatency
            // A real-time thread still sleeps and wakes correctly.
            var waiter = try! DeadlineWaiter(spin: .microseconds(20))
            let deadline = MonotonicClock.now() + .milliseconds(1)
            consistent = consistent && waiter.wait(until: deadline) >= .zero
            RealTimeSetup.releaseDMALatency()
            consistent = consistent && !RealTimeSetup.holdsDMALatency
            if !consistent { fatalError("inconsistent real-time report:\n\(report)") }
        }
    }

    /// A thread created inside `asOrdinaryThread` is ordinary and runs on the CPUs given, however
    /// real-time its creator is; afterwards the creator has its policy and CPUs back. (A benchmark
    /// spawns cyclictest this way: Foundation's helper threads for the child had inherited
    /// SCHED_FIFO and the measured CPU.) In a child process, like the full request above.
    @Test func threadsCreatedAsAnOrdinaryThreadInheritNothingRealTime() async {
        await #expect(processExitsWith: .success) {
            let allowed = RealTimeSetup.allowedCPUs
            let report = RealTimeSetup.apply(RealTimeRequest(fifoPriority: 10, lockMemory: false, cpus: [allowed.first ?? 0],
                                                             timerSlack: nil, holdDMALatencyZero: false))
            let before = EnvironmentFacts.read()
            final class Seen: @unchecked Sendable { var facts: EnvironmentFacts? }
            let seen = Seen()
            let done = DispatchSemaphore(value: 0)
            let inside: EnvironmentFacts = RealTimeSetup.asOrdinaryThread(on: allowed) {
                let thread = Thread { seen.facts = EnvironmentFacts.read(); done.signal() }
                thread.start()
                done.wait()
                return EnvironmentFacts.read()
            }
            let after = EnvironmentFacts.read()
            var ok = inside.schedulingPolicy == "SCHED_OTHER" && seen.facts?.schedulingPolicy == "SCHED_OTHER"
            ok = ok && seen.facts?.cpus == allowed && inside.cpus == allowed
            ok = ok && after.schedulingPolicy == before.schedulingPolicy && after.schedulingPriority == before.schedulingPriority
            ok = ok && after.cpus == before.cpus
            if report.scheduling.status == .granted { ok = ok && after.schedulingPolicy == "SCHED_FIFO" }
            if report.affinity.status == .granted { ok = ok && after.cpus == [allowed.first ?? 0] }
            if !ok { fatalError("inherited: inside \(inside), new thread \(String(describing: seen.facts)), before \(before), after \(after)") }
        }
    }
}
