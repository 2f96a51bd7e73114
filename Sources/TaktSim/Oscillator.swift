// A simulated oscillator: one node's free-running local clock as a function of true time.
//
//     local(t) = anchorLocal + (t − anchorTrue) · (1 + rate)        rate in parts per billion
//
// The rate is piecewise constant: wander changes it at discrete instants (a bounded random walk
// clamped to ±ρ for a correct oscillator), and a step fault moves the local time at an instant.
// Both re-anchor, so local(t) stays exact in integer nanoseconds (128-bit intermediates, rounded
// toward negative infinity). True time is `Int64` nanoseconds of the simulation's reference clock.

import TaktTime

public struct SimulatedOscillator: Sendable, Equatable {
    public private(set) var anchorTrue: Int64
    public private(set) var anchorLocal: LocalInstant
    /// Current rate deviation in ppb; a correct oscillator keeps |rate| ≤ ρ.
    public private(set) var ratePartsPerBillion: Int64

    public init(offset: Interval, rate: DriftRate, atTrueTime t: Int64 = 0) {
        precondition(abs(rate.partsPerBillion) < 1_000_000_000, "an oscillator must run forwards")
        anchorTrue = t
        anchorLocal = LocalInstant(nanoseconds: t) + offset
        ratePartsPerBillion = rate.partsPerBillion
    }

    /// The local reading at true time t (t ≥ anchorTrue is the normal use; earlier t extrapolates).
    public func local(atTrueTime t: Int64) -> LocalInstant {
        let elapsed = Int128(t) - Int128(anchorTrue)
        let scaled = elapsed * Int128(1_000_000_000 + ratePartsPerBillion)
        var q = scaled / 1_000_000_000
        if scaled % 1_000_000_000 < 0 { q -= 1 }  // floor
        return anchorLocal + Interval(nanoseconds: Int64(q))
    }

    /// The earliest true time at which the local reading is ≥ `local` (for timers set in local time).
    public func trueTime(atLocal local: LocalInstant) -> Int64 {
        let delta = Int128((local - anchorLocal).nanoseconds)
        let rate = Int128(1_000_000_000 + ratePartsPerBillion)
        // Smallest e with floor(e·rate / 1e9) ≥ delta  ⇔  e·rate ≥ delta·1e9  ⇔  e = ceil(delta·1e9 / rate).
        let numerator = delta * 1_000_000_000
        var e = numerator / rate
        if numerator % rate > 0 { e += 1 }
        return Int64(Int128(anchorTrue) + e)
    }

    /// Changes the rate from true time t on (wander, or a fault), keeping local time continuous.
    public mutating func setRate(_ rate: DriftRate, atTrueTime t: Int64) {
        precondition(abs(rate.partsPerBillion) < 1_000_000_000, "an oscillator must run forwards")
        anchorLocal = local(atTrueTime: t)
        anchorTrue = t
        ratePartsPerBillion = rate.partsPerBillion
    }

    /// Moves the local time by `step` at true time t (a step fault; may go backwards).
    public mutating func step(by step: Interval, atTrueTime t: Int64) {
        anchorLocal = local(atTrueTime: t) + step
        anchorTrue = t
    }
}
