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
        precondition(abs(rate.partsPerBillion) < 500_000_000, "an oscillator must run forwards, within ±50 %")
        anchorTrue = t
        anchorLocal = LocalInstant(nanoseconds: t) + offset
        ratePartsPerBillion = rate.partsPerBillion
    }

    /// The local reading at true time t (t ≥ anchorTrue is the normal use; earlier t extrapolates).
    /// local = anchor + e + ⌊e·rate / 10⁹⌋ with e = t − anchorTrue: the product is taken full width
    /// and divided by the hardware's 128/64-bit divide (|e·rate/10⁹| < |e| always fits).
    public func local(atTrueTime t: Int64) -> LocalInstant {
        let elapsed = t &- anchorTrue  // &-: true times are within ±2^62 of each other (the run's horizon)
        let (small, overflow) = elapsed.multipliedReportingOverflow(by: ratePartsPerBillion)
        if !overflow {
            // The usual case (|e| below 2^63 / ρ: hours): a 64-bit division by a constant.
            let q = small / 1_000_000_000
            return anchorLocal + Interval(nanoseconds: elapsed + (small % 1_000_000_000 < 0 ? q - 1 : q))
        }
        let product = elapsed.multipliedFullWidth(by: ratePartsPerBillion)
        var (q, r) = Int64(1_000_000_000).dividingFullWidth(product)
        if r < 0 { q -= 1 }  // floor
        return anchorLocal + Interval(nanoseconds: elapsed + q)
    }

    /// The earliest true time at which the local reading is ≥ `local` (for timers set in local time).
    public func trueTime(atLocal local: LocalInstant) -> Int64 {
        let delta = (local - anchorLocal).nanoseconds
        let rate = 1_000_000_000 + ratePartsPerBillion
        // delta·1e9 / rate = delta − delta·p / rate (p = rate − 1e9), so e = delta − ⌊delta·p / rate⌋:
        // in 64 bits whenever delta·p fits (|delta| below 2^63 / ρ: hours).
        let (small, overflow) = delta.multipliedReportingOverflow(by: ratePartsPerBillion)
        if !overflow {
            let q = small / rate
            return anchorTrue + delta - (small % rate < 0 ? q - 1 : q)
        }
        // Smallest e with floor(e·rate / 1e9) ≥ delta  ⇔  e·rate ≥ delta·1e9  ⇔  e = ceil(delta·1e9 / rate).
        // |delta·1e9 / rate| ≤ 2|delta| for a forward-running oscillator (rate > 5·10⁸ here), so the
        // quotient fits in Int64 for the run's horizon.
        let numerator = delta.multipliedFullWidth(by: 1_000_000_000)
        var (e, remainder) = rate.dividingFullWidth(numerator)
        if remainder > 0 { e += 1 }
        return anchorTrue + e
    }

    /// Changes the rate from true time t on (wander, or a fault), keeping local time continuous.
    public mutating func setRate(_ rate: DriftRate, atTrueTime t: Int64) {
        precondition(abs(rate.partsPerBillion) < 500_000_000, "an oscillator must run forwards, within ±50 %")
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
