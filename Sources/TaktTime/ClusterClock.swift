// ClusterClock: the corrected cluster clock of one node, and the ONLY place that converts a
// `LocalInstant` (this node's free-running oscillator) into a `ClusterInstant` (synchronized global
// time) and back (STYLE.md rule 1; REFERENCE.md §2).
//
// Algorithm: amortized (slewed) state correction, as practised in MARS and TTP/C (Kopetz,
// Real-Time Systems §3.4, "the correction term is applied by a rate change over part of the
// resynchronization interval"), plus an optional FlexRay-style rate correction. Once per round the
// clock-synchronization state machine computes a correction (FTA/FTM of the measured deviations,
// `Convergence`) and hands it to `applyCorrection(_:at:)`. The correction is NEVER stepped: the clock
// runs faster (positive correction: this clock is behind) or slower (negative: it is ahead) by at
// most the maximum slew s until the whole correction has been applied, then returns to its base
// rate. A correction that arrives while the previous one is still being amortized is added to the
// remaining amount. The only place time may jump is `set(cluster:at:)`, used at (re)integration.
//
// Symbols and identifiers (B = 10⁹; "as" = attosecond = 10⁻⁹ ns, the sub-nanosecond unit in which
// the state is kept so that re-anchoring is exact and never loses or invents a fraction of a ns):
//   L        a local instant (`LocalInstant`, ns)
//   L₀       `anchorLocal`                 local instant of the last (re-)anchoring
//   Ĉ₀       cluster time at L₀, in as, kept as C₀·B + f with 0 ≤ f < B (`anchorClusterNanoseconds`,
//            `anchorClusterFraction`; C₀ = ⌊Ĉ₀ / B⌋ = `anchorCluster`)
//   r        `rateAdjustment`              rate correction in ppb, |r| ≤ r_max = 500 ppm
//                                          (`maximumRateAdjustment`)
//   s        `maximumSlew`                 largest temporary rate change used to amortize, ppb, 0 < s < B
//   P̂        `pendingCorrectionAttoseconds` correction still to be applied at L₀, in as
//                                          (P = P̂ / B truncated = `pendingCorrection`)
//   s_P      `effectiveSlew`               s when P̂ > 0; min(s, B + r − 1) when P̂ < 0, so the clock
//                                          slows down but never stops (matters only for s > 99.95 %)
//   d        L − L₀                        elapsed local time since the anchor, ns
//   D        `amortizationDuration`        ⌈|P̂| / s_P⌉ ns: local time until P̂ is fully applied
//
//   N(d) = d·(B + r)                               for d ≤ 0 (extrapolates before the anchor)
//   N(d) = d·(B + r) + sgn(P̂)·min(d·s_P, |P̂|)      for d ≥ 0 (as; slewed for d < D, base rate after)
//   clusterTime(L) = ⌊(Ĉ₀ + N(L − L₀)) / B⌋          rounded toward −∞, SATURATED to the Int64 range
//
// Invariants:
//   - N is continuous and strictly increasing: N(d + 1) − N(d) ≥ min(B + r, B + r − s_P) ≥ 1 as,
//     so clusterTime is non-decreasing in L for every state, and strictly increasing over any step
//     Δ ≥ 1 ns with ⌊Δ·(B + r − s_P)/B⌋ ≥ 1 (Δ ≥ 2 ns at s = 1 %, |r| ≤ 500 ppm) away from saturation.
//   - Re-anchoring (`applyCorrection`, `adjustRate`) at L sets Ĉ₀ := Ĉ₀ + N(L − L₀) exactly and
//     P̂ := what is left of it, so the clock function is unchanged up to L and continuous at L;
//     re-anchoring only moves forward (PRECONDITION L ≥ L₀), so readings at increasing local instants
//     never decrease across any sequence of corrections and rate adjustments.
//   - |P̂| ≤ Int64.max·B (a pending correction SATURATES at ±`Interval.max`); |r| ≤ r_max.
//   - All arithmetic is exact in Int128: |d| < 2^64, B + r + s < 2^31, |P̂| < 2^93, and Ĉ₀ stays below
//     2^96 because the anchors only move forward (Σd < 2^64, each step adds < d·2^31); nothing traps
//     for any Int64 input. Results that do not fit an Int64 instant SATURATE.
// No allocation, no Foundation; a value type, `Sendable`.

/// The corrected cluster clock of one node: converts this node's oscillator readings (`LocalInstant`)
/// into synchronized cluster time (`ClusterInstant`) and back, applying clock-synchronization
/// corrections by amortization (a bounded temporary rate change), never by stepping.
///
/// Units: instants and intervals in ns, rates in ppb. `clusterTime(at:)` and `localTime(at:)` never
/// trap and SATURATE at the Int64 instant range; the mutating methods TRAP (precondition) if asked to
/// re-anchor at a local instant earlier than `anchorLocal`; a pending correction and the rate
/// adjustment SATURATE at their documented limits.
public struct ClusterClock: Sendable {
    /// B: attoseconds (10⁻⁹ ns) per nanosecond, and ppb per unit rate.
    static let scale: Int128 = 1_000_000_000

    /// r_max = 500 ppm: the rate adjustment `adjustRate(by:at:)` accumulates is clamped to ±this
    /// (FlexRay clamps its rate correction the same way; a correct oscillator drifts ≤ 100 ppm).
    public static let maximumRateAdjustment = DriftRate.partsPerMillion(500)

    /// s: the largest temporary rate change used to amortize a correction (ppb; e.g. 10 000 000 ppb =
    /// 1 %). A correction of size c takes ⌈|c|/s⌉ of local time to apply.
    public let maximumSlew: DriftRate

    /// L₀: the local instant of the last (re-)anchoring.
    public private(set) var anchorLocal: LocalInstant

    /// Ĉ₀: the cluster time at `anchorLocal`, in attoseconds (10⁻⁹ ns), exact, kept split as
    /// Ĉ₀ = `anchorClusterNanoseconds`·B + `anchorClusterFraction` with 0 ≤ fraction < B, so that the
    /// hot path divides only what accrued since the anchor (a number that fits in 64 bits for
    /// seconds after it) rather than the whole cluster time in attoseconds.
    private var anchorClusterNanoseconds: Int128
    private var anchorClusterFraction: Int128

    /// r: the accumulated rate correction (ppb, positive = the cluster clock runs faster than the
    /// oscillator), always within ±`maximumRateAdjustment`.
    public private(set) var rateAdjustment: DriftRate

    /// P̂: the part of the corrections not yet applied at `anchorLocal`, in attoseconds (10⁻⁹ ns),
    /// |P̂| ≤ Int64.max·B.
    private var pendingCorrectionAttoseconds: Int128

    /// Derived from the state above whenever it changes (`derive()`), so the hot path does not
    /// recompute them: s_P, D, and N(D) = D·(B + r) + P̂ (the cluster time gained by the end of the
    /// slewed segment).
    private var slewCache: Int128 = 0
    private var durationCache: Int128 = 0
    private var slewedReachCache: Int128 = 0

    /// A clock that reads `cluster` at local instant `local`, with no rate adjustment and no pending
    /// correction. PRECONDITION 0 < `maximumSlew` < 10⁹ ppb (100 %): with a slew of 100 % a
    /// negative correction would stop the clock. Never traps otherwise.
    public init(anchor local: LocalInstant, cluster: ClusterInstant, maximumSlew: DriftRate) {
        precondition(maximumSlew.partsPerBillion > 0 && Int128(maximumSlew.partsPerBillion) < Self.scale,
                     "maximumSlew must be more than 0 ppb and less than 10^9 ppb (100 %)")
        self.maximumSlew = maximumSlew
        self.anchorLocal = local
        self.anchorClusterNanoseconds = Int128(cluster.nanoseconds)
        self.anchorClusterFraction = 0
        self.rateAdjustment = .zero
        self.pendingCorrectionAttoseconds = 0
        derive()
    }

    // MARK: State

    /// C₀: the cluster time at `anchorLocal`, rounded toward −∞ to whole ns; SATURATES at the
    /// `ClusterInstant` range. Equal to `clusterTime(at: anchorLocal)`.
    public var anchorCluster: ClusterInstant {
        ClusterInstant(nanoseconds: WideMath.clamp(anchorClusterNanoseconds))
    }

    /// P: the correction still to be applied as of `anchorLocal` (positive = the clock is still
    /// behind and runs fast), truncated toward zero to whole ns. Never traps; `.zero` when nothing is
    /// pending. See `remainingCorrection(at:)` for the amount left at a later instant.
    public var pendingCorrection: Interval {
        // |P̂| ≤ Int64.max·B, so the quotient fits in Int64.
        Interval(nanoseconds: Int64(pendingCorrectionAttoseconds / Self.scale))
    }

    /// The correction still to be applied at local instant `local` (≥ `anchorLocal`; before the anchor
    /// the whole `pendingCorrection`), truncated toward zero to whole ns. Never traps.
    public func remainingCorrection(at local: LocalInstant) -> Interval {
        let elapsed = Int128(local.nanoseconds) - Int128(anchorLocal.nanoseconds)
        let remaining = pendingCorrectionAttoseconds - appliedAttoseconds(elapsed: elapsed)
        return Interval(nanoseconds: Int64(remaining / Self.scale))  // |remaining| ≤ |P̂|, fits
    }

    /// D = ⌈|P̂| / s_P⌉: the local time after `anchorLocal` at which the pending correction is fully
    /// applied, at the maximum slew. `.zero` when nothing is pending. SATURATES at `Interval.max`
    /// (only for corrections of years at tiny slews).
    public var amortizationDuration: Interval {
        Interval(nanoseconds: WideMath.clamp(durationCache))
    }

    /// L₀ + D: the local instant from which the clock runs at its base rate again (the pending
    /// correction fully applied). `anchorLocal` when nothing is pending. SATURATES at the
    /// `LocalInstant` range.
    public var amortizationEnd: LocalInstant {
        LocalInstant(nanoseconds: WideMath.clamp(Int128(anchorLocal.nanoseconds) + durationCache))
    }

    // MARK: Conversion (the hot path: pure, no allocation, never traps)

    /// The cluster time at local instant `local`: ⌊(Ĉ₀ + N(local − L₀)) / 10⁹⌋ ns, rounded toward −∞,
    /// including the part of the pending correction amortized by then. Pure; exact (Int128).
    /// Non-decreasing in `local` for every state (strictly increasing over steps of ≥ 2 ns at 1 % slew);
    /// before `anchorLocal` it extrapolates backwards at the base rate 1 + r. Never traps: SATURATES
    /// at `ClusterInstant(nanoseconds: .min/.max)` when the value does not fit.
    public func clusterTime(at local: LocalInstant) -> ClusterInstant {
        let elapsed = Int128(local.nanoseconds) - Int128(anchorLocal.nanoseconds)  // |elapsed| < 2^64
        // Ĉ₀ + N(d) = (C₀ + d)·B + (fraction + d·r + applied): only the second part is divided.
        let accrued = accruedAttoseconds(elapsed: elapsed, applied: appliedAttoseconds(elapsed: elapsed))
        return ClusterInstant(nanoseconds: WideMath.clamp(anchorClusterNanoseconds + elapsed + WideMath.floorDivide(accrued, Self.scale)))
    }

    /// The earliest local instant whose cluster time is ≥ `cluster`: the instant the executive sleeps
    /// until to act at `cluster`. Satisfies `clusterTime(at: localTime(at: c)) >= c` and
    /// `clusterTime(at: localTime(at: c) - 1 ns) < c` whenever the exact answer lies within the
    /// `LocalInstant` range. Never traps; SATURATES: returns `LocalInstant(nanoseconds: .max)` when the
    /// clock does not reach `cluster` before the end of the local range (then the first property
    /// fails), and `LocalInstant(nanoseconds: .min)` when it is already there at the start of the range
    /// (always for `cluster == ClusterInstant(nanoseconds: .min)`).
    public func localTime(at cluster: ClusterInstant) -> LocalInstant {
        if cluster.nanoseconds == .min { return LocalInstant(nanoseconds: .min) }  // every reading is ≥ .min
        // ⌊(Ĉ₀ + N(d))/B⌋ ≥ c  ⇔  N(d) ≥ c·B − Ĉ₀ =: target; N is strictly increasing, so find the
        // smallest integer d with N(d) ≥ target, segment by segment. |target| < 2^97.
        let target = (Int128(cluster.nanoseconds) - anchorClusterNanoseconds) * Self.scale - anchorClusterFraction
        let baseRate = Self.scale + Int128(rateAdjustment.partsPerBillion)  // > 0
        let elapsed: Int128
        if target <= 0 {
            // N(0) = 0 ≥ target: the answer is at or before the anchor, where N(d) = d·(B + r).
            elapsed = WideMath.ceilDivide(target, baseRate)
        } else {
            let duration = durationCache  // D ≤ 2^93; N(D) < 2^125
            let slewedRate = baseRate + (pendingCorrectionAttoseconds > 0 ? slewCache : -slewCache)  // ≥ 1
            if duration > 0 && target <= slewedReachCache {
                // In the slewed segment 0 < d ≤ D, where N(d) = d·(B + r ± s_P) for d < D; at d = D
                // N reaches its value at D, which is ≥ target here.
                elapsed = Swift.min(WideMath.ceilDivide(target, slewedRate), duration)
            } else {
                // After the slewed segment: N(d) = d·(B + r) + P̂, and N(D) < target so the result is > D.
                elapsed = WideMath.ceilDivide(target - pendingCorrectionAttoseconds, baseRate)
            }
        }
        return LocalInstant(nanoseconds: WideMath.clamp(Int128(anchorLocal.nanoseconds) + elapsed))
    }

    // MARK: Corrections (once per round, by the clock-synchronization state machine)

    /// Adds `correction` (ns; positive = this clock is behind and must advance faster, negative = it is
    /// ahead and must slow down) to the amount being amortized, re-anchoring at `local`. The clock is
    /// never stepped: it runs at 1 + r ± s until the total is applied (`amortizationEnd`), so a negative
    /// correction slows it down but never stops or reverses it. Whatever of an earlier correction is
    /// still pending at `local` is kept and added to. Limits such as TTP/C's "freeze if the correction
    /// exceeds Π/2" are the caller's decision. The pending total SATURATES at ±`Interval.max`.
    /// PRECONDITION `local >= anchorLocal` (local time runs forward).
    public mutating func applyCorrection(_ correction: Interval, at local: LocalInstant) {
        reanchor(at: local)
        let limit = Int128(Int64.max) * Self.scale
        let sum = pendingCorrectionAttoseconds + Int128(correction.nanoseconds) * Self.scale  // < 2^94
        pendingCorrectionAttoseconds = Swift.max(-limit, Swift.min(limit, sum))
        derive()
    }

    /// Adds `delta` (ppb; positive = the cluster clock runs faster relative to the oscillator) to the
    /// rate adjustment r, re-anchoring at `local` so that time before `local` is unaffected; the result
    /// SATURATES at ±`maximumRateAdjustment` (500 ppm). Any pending correction continues to be
    /// amortized from `local`. PRECONDITION `local >= anchorLocal`.
    public mutating func adjustRate(by delta: DriftRate, at local: LocalInstant) {
        reanchor(at: local)
        let limit = Int128(Self.maximumRateAdjustment.partsPerBillion)
        let sum = Int128(rateAdjustment.partsPerBillion) + Int128(delta.partsPerBillion)  // no overflow in Int128
        rateAdjustment = DriftRate(partsPerBillion: Int64(Swift.max(-limit, Swift.min(limit, sum))))
        derive()
    }

    /// Hard set: from now on the clock reads `cluster` at `local`; any pending correction is dropped, the
    /// rate adjustment (a property of this node's oscillator) is kept. This is the ONE place cluster time
    /// may jump, forwards or backwards, and it is only for (re)integration, before the node counts as
    /// synchronized; a synchronized node corrects with `applyCorrection`. No precondition on `local`
    /// (a reintegrating node may restart its local epoch). Never traps.
    public mutating func set(cluster: ClusterInstant, at local: LocalInstant) {
        anchorLocal = local
        anchorClusterNanoseconds = Int128(cluster.nanoseconds)
        anchorClusterFraction = 0
        pendingCorrectionAttoseconds = 0
        derive()
    }

    // MARK: Internals

    /// s_P: the slew used for the pending correction, in ppb. For a negative correction it is capped at
    /// B + r − 1 so the clock keeps advancing by ≥ 1 as per ns (only bites when s > 99.95 %).
    private var effectiveSlew: Int128 {
        let slew = Int128(maximumSlew.partsPerBillion)
        if pendingCorrectionAttoseconds >= 0 { return slew }
        return Swift.min(slew, Self.scale + Int128(rateAdjustment.partsPerBillion) - 1)  // ≥ 999_499_999
    }

    /// Recomputes s_P, D = ⌈|P̂| / s_P⌉ (ns, ≤ 2^93, 0 when nothing is pending) and N(D) after the
    /// state changed.
    private mutating func derive() {
        slewCache = effectiveSlew
        durationCache = WideMath.ceilDivide(pendingCorrectionAttoseconds.magnitudeAsInt128, slewCache)
        slewedReachCache = durationCache * (Self.scale + Int128(rateAdjustment.partsPerBillion)) + pendingCorrectionAttoseconds
    }

    /// The part of P̂ applied `elapsed` ns after the anchor: sgn(P̂)·min(elapsed·s_P, |P̂|), 0 before it.
    private func appliedAttoseconds(elapsed: Int128) -> Int128 {
        if elapsed <= 0 || pendingCorrectionAttoseconds == 0 { return 0 }
        let ramp = Swift.min(elapsed * slewCache, pendingCorrectionAttoseconds.magnitudeAsInt128)  // < 2^94
        return pendingCorrectionAttoseconds > 0 ? ramp : -ramp
    }

    /// fraction + d·r + applied: the part of Ĉ₀ + N(d) beyond (C₀ + d)·B, in as (small for d of
    /// seconds, so that its division by B takes the 64-bit path).
    private func accruedAttoseconds(elapsed: Int128, applied: Int128) -> Int128 {
        anchorClusterFraction + elapsed * Int128(rateAdjustment.partsPerBillion) + applied
    }

    /// Moves the anchor to `local` without changing the clock function up to `local`: Ĉ₀ += N(d) and
    /// P̂ −= the part applied by then, both exact. PRECONDITION `local >= anchorLocal`.
    private mutating func reanchor(at local: LocalInstant) {
        precondition(local >= anchorLocal, "a ClusterClock is re-anchored only forwards in local time")
        let elapsed = Int128(local.nanoseconds) - Int128(anchorLocal.nanoseconds)
        let applied = appliedAttoseconds(elapsed: elapsed)
        // Ĉ₀ += N(d) = d·B + (d·r + applied), carried into the split form; Ĉ₀ stays < 2^96.
        let accrued = accruedAttoseconds(elapsed: elapsed, applied: applied)
        let carry = WideMath.floorDivide(accrued, Self.scale)
        anchorClusterNanoseconds += elapsed + carry
        anchorClusterFraction = accrued - carry * Self.scale
        pendingCorrectionAttoseconds -= applied
        anchorLocal = local
    }
}

extension Int128 {
    /// |self| as an Int128. Used only on values with |self| < 2^126, so it never overflows.
    fileprivate var magnitudeAsInt128: Int128 { self < 0 ? -self : self }
}
