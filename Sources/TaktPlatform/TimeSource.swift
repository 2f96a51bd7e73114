// TimeSource: the time seam (STYLE.md rule 2). The executive is generic over it, so the hot path is
// specialized for the real clock, and tests drive it with a fake that advances simulated time.

import TaktTime

/// Where an executive gets the time and how it waits for an instant.
///
/// Contract for conformers: `now()` never decreases; `wait(until:)` returns at or after the
/// deadline and returns its lateness L ≥ 0 such that a `now()` right after reads ≥ deadline + L.
public protocol TimeSource {
    /// The current local instant.
    mutating func now() -> LocalInstant
    /// Waits until `deadline`; returns the lateness (wake-up instant − deadline, ≥ 0).
    mutating func wait(until deadline: LocalInstant) -> Interval
}

/// The real time source: CLOCK_MONOTONIC and a `DeadlineWaiter`. TRAPS if the monotonic clock is
/// ever read going backwards (that would break every guarantee the executive makes).
public struct MonotonicTimeSource: TimeSource, Sendable {
    /// The waiter, with its spin window and statistics.
    public private(set) var waiter: DeadlineWaiter
    private var latest: LocalInstant

    /// A time source that waits with `waiter`.
    public init(waiter: DeadlineWaiter) {
        self.waiter = waiter
        self.latest = MonotonicClock.now()
    }

    public mutating func now() -> LocalInstant {
        let reading = MonotonicClock.now()
        precondition(reading >= latest, "CLOCK_MONOTONIC went backwards: \(reading) after \(latest)")
        latest = reading
        return reading
    }

    public mutating func wait(until deadline: LocalInstant) -> Interval {
        let lateness = waiter.wait(until: deadline)
        let woke = deadline + lateness
        precondition(woke >= latest, "CLOCK_MONOTONIC went backwards: \(woke) after \(latest)")
        latest = woke
        return lateness
    }
}
