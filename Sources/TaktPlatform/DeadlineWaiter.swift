// DeadlineWaiter: wake at an absolute instant as precisely as the machine allows, by sleeping until
// shortly before it and spinning on the clock for the rest. The one dispatch primitive of Takt:
// the periodic executive and the jitter benchmark both wait with it.
//
// Algorithm, for deadline d and spin window s:
//   1. t ← now. If t ≥ d: return t − d (called late; counted in `lateOnEntry`).
//   2. If t < d − s: clock_nanosleep(TIMER_ABSTIME, d − s); t ← now. If t ≥ d: return t − d
//      (the sleep overshot the whole window; counted in `sleepOvershoots`: make s larger).
//   3. Spin: while t < d { t ← now }. Return t − d.
// The returned lateness L = t − d ≥ 0 is the reading taken at wake-up minus the deadline, so a
// clock reading taken after the call is ≥ d + L. Sleep alone wakes late by the timer slack plus
// the scheduler's wake-up latency (tens of µs on a stock kernel, a few µs with PREEMPT_RT);
// spinning turns that into one clock read (tens of ns) at the cost of a busy CPU for s.
//
// No allocation, no syscall in the spin, one clock read per spin step (STYLE.md rule 12).

import TaktTime

/// Counters a `DeadlineWaiter` keeps; wrapping increments (2⁶⁴ waits do not happen).
public struct DeadlineWaiterStatistics: Hashable, Sendable {
    /// Calls of `wait(until:)`.
    public var waits: UInt64 = 0
    /// Calls whose deadline had already passed on entry.
    public var lateOnEntry: UInt64 = 0
    /// Calls that slept (the deadline was more than the spin window away).
    public var sleeps: UInt64 = 0
    /// Sleeps that woke after the deadline itself: the spin window was too short to absorb the
    /// wake-up latency of that sleep.
    public var sleepOvershoots: UInt64 = 0

    public init() {}
}

/// Sleep-then-spin waiting for an absolute CLOCK_MONOTONIC deadline. See the file header.
public struct DeadlineWaiter: Sendable {
    /// The largest spin window accepted: a full second of busy waiting is a configuration mistake.
    public static let maximumSpin = Interval.seconds(1)

    /// How long before the deadline the sleep ends and the spin begins.
    public let spin: Interval
    /// What the waits so far did.
    public private(set) var statistics = DeadlineWaiterStatistics()

    /// A waiter that spins for the last `spin` before each deadline. Throws `.invalidConfiguration`
    /// unless 0 ≤ spin ≤ `maximumSpin` (0 means sleep only).
    public init(spin: Interval) throws(PlatformError) {
        guard spin >= .zero && spin <= DeadlineWaiter.maximumSpin else {
            throw .invalidConfiguration("spin window must be between 0 ns and \(DeadlineWaiter.maximumSpin), got \(spin)")
        }
        self.spin = spin
    }

    /// Returns at `deadline` or after it, never before; returns the lateness: the CLOCK_MONOTONIC
    /// reading taken on waking minus `deadline` (≥ 0). Never allocates.
    public mutating func wait(until deadline: LocalInstant) -> Interval {
        // Counters wrap (&+=): 2⁶⁴ waits take longer than the machine's life.
        statistics.waits &+= 1
        var now = MonotonicClock.now()
        if now >= deadline {
            statistics.lateOnEntry &+= 1
            return now - deadline
        }
        // deadline > now ≥ 0 and 0 ≤ spin ≤ 1 s, so deadline − spin cannot overflow.
        let wakeUp = deadline - spin
        if now < wakeUp {
            MonotonicClock.sleep(until: wakeUp)
            statistics.sleeps &+= 1
            now = MonotonicClock.now()
            if now >= deadline {
                statistics.sleepOvershoots &+= 1
                return now - deadline
            }
        }
        while now < deadline { now = MonotonicClock.now() }
        return now - deadline
    }
}
