// CLOCK_MONOTONIC readings, absolute sleeps, the deadline waiter and the realtime offset: the
// properties that hold on any machine, however loaded (no upper bounds on lateness are asserted).

import Testing
import TaktTestSupport
@testable import TaktPlatform
import TaktTime

@Suite("Monotonic clock and absolute sleeps", .hostShared)
struct ClockTests {
    @Test func monotonicClockNeverDecreases() {
        var previous = MonotonicClock.now()
        #expect(previous > .zero)
        for _ in 0..<100_000 {
            let reading = MonotonicClock.now()
            #expect(reading >= previous)
            previous = reading
        }
    }

    @Test func absoluteSleepNeverReturnsBeforeItsDeadline() {
        for step in 0..<20 {
            let deadline = MonotonicClock.now() + .microseconds(Int64(50 + step * 100))
            MonotonicClock.sleep(until: deadline)
            #expect(MonotonicClock.now() >= deadline)
        }
    }

    @Test func sleepRetriesAfterEINTRWithTheSameDeadline() {
        defer { SyscallFaults.clearAll() }
        SyscallFaults.inject(.interrupted, into: .clockNanosleep, count: 3)
        let deadline = MonotonicClock.now() + .milliseconds(2)
        MonotonicClock.sleep(until: deadline)
        #expect(MonotonicClock.now() >= deadline)
        #expect(remainingFaults(.clockNanosleep) == 0)
    }

    @Test func sleepUntilAPastOrNonPositiveDeadlineReturnsAtOnce() {
        let before = MonotonicClock.now()
        MonotonicClock.sleep(until: .zero)
        MonotonicClock.sleep(until: LocalInstant(nanoseconds: -5))
        MonotonicClock.sleep(until: before - .seconds(1))
        #expect(MonotonicClock.now() - before < .seconds(1))
    }
}

/// How many injected faults of `operation` are left on this thread (consumes and restores them).
func remainingFaults(_ operation: FaultableOperation) -> Int {
    var taken: [Errno] = []
    while let error = Syscall.injected(operation) { taken.append(error) }
    if let first = taken.first { SyscallFaults.inject(first, into: operation, count: taken.count) }
    return taken.count
}

@Suite("Deadline waiter", .hostShared)
struct DeadlineWaiterTests {
    @Test(arguments: [Interval.zero, .microseconds(20), .microseconds(200)])
    func latenessIsNonNegativeAndMatchesAReadingTakenAfter(spin: Interval) throws {
        var waiter = try DeadlineWaiter(spin: spin)
        for step in 0..<20 {
            let deadline = MonotonicClock.now() + .microseconds(Int64(30 + step * 37))
            let lateness = waiter.wait(until: deadline)
            let after = MonotonicClock.now()
            #expect(lateness >= .zero)
            #expect(deadline + lateness <= after)
        }
        #expect(waiter.statistics.waits == 20)
    }

    @Test func aPassedDeadlineIsCountedAndItsLatenessReported() throws {
        var waiter = try DeadlineWaiter(spin: .microseconds(10))
        let deadline = MonotonicClock.now() - .milliseconds(3)
        let lateness = waiter.wait(until: deadline)
        #expect(lateness >= .milliseconds(3))
        #expect(waiter.statistics.lateOnEntry == 1)
        #expect(waiter.statistics.sleeps == 0)
    }

    @Test func aDeadlineFarBeyondTheSpinWindowSleepsFirst() throws {
        var waiter = try DeadlineWaiter(spin: .microseconds(50))
        _ = waiter.wait(until: MonotonicClock.now() + .milliseconds(2))
        #expect(waiter.statistics.sleeps == 1)
        #expect(waiter.statistics.lateOnEntry == 0)
    }

    @Test func aPeriodicLoopOnAbsoluteDeadlinesDoesNotDrift() throws {
        var waiter = try DeadlineWaiter(spin: .microseconds(20))
        let period = Interval.microseconds(500)
        let start = MonotonicClock.now()
        var next = start
        for _ in 0..<20 {
            next += period
            #expect(waiter.wait(until: next) >= .zero)
        }
        // The 20th wake-up is measured from the start, not accumulated from relative sleeps.
        #expect(MonotonicClock.now() - start >= period * 20)
    }

    @Test(arguments: [Interval.nanoseconds(-1), .seconds(2), .min])
    func spinWindowsOutOfRangeAreRejected(spin: Interval) {
        #expect(throws: PlatformError.self) { try DeadlineWaiter(spin: spin) }
    }

    @Test func monotonicTimeSourceIsATimeSource() throws {
        var source = MonotonicTimeSource(waiter: try DeadlineWaiter(spin: .microseconds(10)))
        let first = source.now()
        let lateness = waitThroughProtocol(&source, until: first + .microseconds(300))
        #expect(lateness >= .zero)
        #expect(source.now() >= first + .microseconds(300) + lateness)
    }

    func waitThroughProtocol<Source: TimeSource>(_ source: inout Source, until deadline: LocalInstant) -> Interval {
        source.wait(until: deadline)
    }
}

@Suite("Realtime to monotonic conversion", .hostShared)
struct RealtimeOffsetTests {
    @Test func theOffsetConvertsARealtimeReadingToTheMonotonicInstantBetweenTwoReadings() {
        var offset = RealtimeOffset(samples: 16)
        #expect(offset.uncertainty >= .zero)
        // Tens of ns with a vDSO clock; allow a loaded VM plenty.
        #expect(offset.uncertainty < .milliseconds(5))
        for _ in 0..<100 {
            offset.refresh()
            let before = MonotonicClock.now()
            let realtime = MonotonicClock.realtimeNanoseconds()
            let after = MonotonicClock.now()
            let converted = offset.monotonic(fromRealtimeNanoseconds: realtime)
            #expect(converted >= before - offset.uncertainty)
            #expect(converted <= after + offset.uncertainty)
        }
        #expect(offset.stepsDetected == 0)
    }
}
