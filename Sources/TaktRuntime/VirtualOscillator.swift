// A node's local clock on top of the host's CLOCK_MONOTONIC, with an injected offset and drift
// (`takt node --offset D --drift PPM`), so that several nodes on one host really disagree and
// clock synchronization is exercised against a shared reference (the host clock):
//
//     local(h) = h + offset + ⌊(h − base)·drift / 10⁹⌋        drift in parts per billion
//
// Exact integer arithmetic (full-width multiply, hardware 128/64 divide); the inverse gives the
// earliest host instant at which the local clock reaches a deadline.

import TaktTime

public struct VirtualOscillator: Sendable, Equatable {
    public let base: LocalInstant
    public let offset: Interval
    public let drift: DriftRate

    /// PRECONDITION |drift| < 10 % (a real oscillator is within a few hundred ppm).
    public init(base: LocalInstant, offset: Interval, drift: DriftRate) {
        precondition(abs(drift.partsPerBillion) < 100_000_000, "injected drift must be below 10 %")
        self.base = base
        self.offset = offset
        self.drift = drift
    }

    /// The host clock itself.
    public static let identity = VirtualOscillator(base: .zero, offset: .zero, drift: .zero)

    /// The local reading at host instant `host`.
    public func local(atHost host: LocalInstant) -> LocalInstant {
        let elapsed = (host - base).nanoseconds
        var (q, r) = Int64(1_000_000_000).dividingFullWidth(elapsed.multipliedFullWidth(by: drift.partsPerBillion))
        if r < 0 { q -= 1 }  // floor
        return host + offset + Interval(nanoseconds: q)
    }

    /// The earliest host instant at which the local reading is ≥ `local`.
    public func host(atLocal local: LocalInstant) -> LocalInstant {
        // local = base + offset + e·(1 + d) with e = host − base  ⇒  e = ⌈(local − base − offset)·10⁹ / (10⁹ + d)⌉.
        let delta = (local - base - offset).nanoseconds
        var (e, r) = (1_000_000_000 + drift.partsPerBillion).dividingFullWidth(delta.multipliedFullWidth(by: 1_000_000_000))
        if r > 0 { e += 1 }
        var host = base + Interval(nanoseconds: e)
        // Floor rounding in `local(atHost:)` can leave the reading 1 ns short: step forward.
        while self.local(atHost: host) < local { host = host + .nanoseconds(1) }
        return host
    }
}
