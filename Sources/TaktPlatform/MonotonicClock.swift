// The node's local clock on Linux: CLOCK_MONOTONIC read as a `LocalInstant`, absolute sleeps on
// it, and the offset that converts CLOCK_REALTIME kernel timestamps into it.
//
// Frame of reference: a `LocalInstant` from this file counts nanoseconds since CLOCK_MONOTONIC's
// epoch (boot, excluding suspend). It is the oscillator of the node in the protocol's terms; the
// cluster clock (TaktTime.ClusterClock) is built on top of it and is the only conversion to
// cluster time.
//
// Absolute sleeps (STYLE.md rule 13): `sleep(until:)` calls clock_nanosleep with TIMER_ABSTIME,
// so a period loop written `next += period; sleep(until: next)` never accumulates the error of
// relative sleeps. The kernel never wakes an absolute sleep before its deadline; the wake-up comes
// later by the timer slack (set it to 1 ns, RealTimeSetup) plus the scheduling latency.
//
// Realtime → monotonic (kernel receive timestamps are CLOCK_REALTIME): Linux derives both clocks
// from one timekeeper, CLOCK_REALTIME = CLOCK_MONOTONIC + offs_real, and NTP frequency slewing
// changes the rate of both alike. So REALTIME − MONOTONIC is constant except when the wall clock
// is STEPPED (settimeofday, clock_settime, adjtimex ADJ_SETOFFSET, a leap second). `RealtimeOffset`
// samples it by bracketing one REALTIME read between two MONOTONIC reads: with readings
// m1 ≤ r ≤ m2 (in time) the true offset lies in [r − m2, r − m1], so the estimate
// r − (m1 + m2)/2 errs by at most (m2 − m1)/2 (`uncertainty`, tens of ns with a vDSO clock).
// `refresh()` keeps the tightest bracket seen and adopts a new one only when the two disagree by
// more than both uncertainties together (a step).

import CTaktPlatform
import Glibc
import TaktTime

/// CLOCK_MONOTONIC as `LocalInstant`s, and absolute sleeps on it.
public enum MonotonicClock {
    /// The current CLOCK_MONOTONIC reading, ns since boot. Never allocates; about 20–50 ns through
    /// the vDSO. Traps only if clock_gettime fails for CLOCK_MONOTONIC, which Linux never does.
    @inline(__always)
    public static func now() -> LocalInstant {
        LocalInstant(nanoseconds: read(CLOCK_MONOTONIC))
    }

    /// Blocks until CLOCK_MONOTONIC reaches `deadline` (clock_nanosleep, TIMER_ABSTIME). Never
    /// returns before the deadline; returns at once if it has passed. Never allocates.
    ///
    /// EINTR: retried with the same absolute deadline (a signal does not shorten the sleep and the
    /// retry cannot drift, because the deadline is absolute).
    public static func sleep(until deadline: LocalInstant) {
        // CLOCK_MONOTONIC is positive once the system has booted, so a deadline ≤ 0 has passed
        // (and clock_nanosleep would reject its negative tv_sec with EINVAL).
        if deadline.nanoseconds <= 0 { return }
        while let error = Syscall.sleepMonotonic(untilNanoseconds: deadline.nanoseconds) {
            // EINTR: retry (see above). Any other error means a malformed timespec, which the
            // conversion above rules out: a programmer error.
            guard error == .interrupted else { preconditionFailure("clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) failed: \(error)") }
        }
    }

    /// The current CLOCK_REALTIME reading in ns since 1970 (wall time: may step). Internal: only
    /// `RealtimeOffset` uses it, to convert kernel timestamps.
    @inline(__always)
    static func realtimeNanoseconds() -> Int64 { read(CLOCK_REALTIME) }

    @inline(__always)
    static func read(_ clock: clockid_t) -> Int64 {
        var reading = timespec()
        let result = clock_gettime(clock, &reading)
        precondition(result == 0, "clock_gettime failed for a clock Linux always provides")
        // tv_sec · 10⁹ fits in Int64 for 292 years of uptime or wall time after 1970.
        return Int64(reading.tv_sec) * 1_000_000_000 + Int64(reading.tv_nsec)
    }
}

/// CLOCK_REALTIME − CLOCK_MONOTONIC, sampled by bracketing, with its uncertainty; converts kernel
/// (CLOCK_REALTIME) timestamps to `LocalInstant`s. See the file header for the error analysis.
public struct RealtimeOffset: Sendable {
    /// The estimate of REALTIME − MONOTONIC.
    public private(set) var offset: Interval
    /// The estimate errs by at most this much (half the tightest bracketing window seen since the
    /// last step).
    public private(set) var uncertainty: Interval
    /// How many wall-clock steps `refresh()` has detected.
    public private(set) var stepsDetected: Int = 0

    /// Samples the offset `samples` times and keeps the tightest bracket. PRECONDITION: samples ≥ 1.
    public init(samples: Int) {
        precondition(samples >= 1, "at least one sample")
        (offset, uncertainty) = RealtimeOffset.sample()
        for _ in 1..<samples { refresh() }
    }

    /// One bracketed reading: (estimate, uncertainty). Three clock reads, no allocation.
    static func sample() -> (Interval, Interval) {
        let before = MonotonicClock.read(CLOCK_MONOTONIC)
        let realtime = MonotonicClock.realtimeNanoseconds()
        let after = MonotonicClock.read(CLOCK_MONOTONIC)
        let window = after - before
        // Midpoint without overflow: before + window/2; uncertainty rounds up so it is a bound.
        let estimate = realtime - (before + window / 2)
        return (Interval(nanoseconds: estimate), Interval(nanoseconds: (window + 1) / 2))
    }

    /// Takes one more sample. Keeps the tighter estimate when the two agree within their combined
    /// uncertainty; adopts the new one (and counts a step) when they do not. No allocation.
    public mutating func refresh() {
        let (estimate, bound) = RealtimeOffset.sample()
        let disagreement = (estimate - offset).magnitude
        if disagreement > uncertainty + bound {
            offset = estimate
            uncertainty = bound
            stepsDetected += 1
        } else if bound < uncertainty {
            offset = estimate
            uncertainty = bound
        }
    }

    /// The CLOCK_MONOTONIC instant of a CLOCK_REALTIME reading (ns since 1970), within
    /// ± `uncertainty` unless the wall clock stepped between the reading and the last `refresh()`.
    @inline(__always)
    public func monotonic(fromRealtimeNanoseconds realtime: Int64) -> LocalInstant {
        LocalInstant(nanoseconds: realtime - offset.nanoseconds)
    }
}
