// Precision bounds of fault-tolerant internal clock synchronization (REFERENCE.md §2;
// Kopetz, Real-Time Systems §3.4; Lundelius & Lynch 1984).
//
// Symbols and identifiers:
//   ε  `readingError`               spread of the measured deviations of one frame at different receivers
//   ρ  `drift`                       maximum drift rate of a correct oscillator (|ρ| is used)
//   R  `resynchronizationInterval`   time between corrections (one TDMA round)
//   Γ  `driftOffset`                 = 2ρR
//   N  `clocks`, k `faulty`          ensemble size and number of (Byzantine) faulty clocks tolerated
//   μ(N, k) = (N − 2k)/(N − 3k)      defined only for N ≥ 3k + 1
//   Π  `precision`                   = (ε + Γ)·μ(N, k)
//   lower bound                      = ε(1 − 1/N): no algorithm does better, even without drift or faults
//
// Worked example: N = 4, k = 1, ε = 10 µs, ρ = 100 ppm, R = 10 ms gives Γ = 2 µs, μ = 2, Π = 24 µs,
// lower bound 7.5 µs.

/// Bounds on the precision an ensemble of clocks can reach. All results in `Interval` (ns), computed
/// exactly in Int128 and rounded in the safe direction; none traps on overflow (see each function).
public enum PrecisionBound {
    /// Γ = 2·|ρ|·R, rounded UP to whole ns. SATURATES at `Interval.max`/`.min` (unreachable for
    /// |ρ| ≤ 100 %).
    public static func driftOffset(drift: DriftRate, resynchronizationInterval: Interval) -> Interval {
        // |ρ|·R ≤ 2^126 fits in Int128; doubling it can overflow only for absurd rates (> 100 %), so the
        // doubling is overflow-checked and saturates.
        let product = Int128(drift.partsPerBillion.magnitude) * Int128(resynchronizationInterval.nanoseconds)
        let (doubled, overflow) = product.multipliedReportingOverflow(by: 2)
        if overflow { return product > 0 ? .max : .min }
        return Interval(nanoseconds: WideMath.clamp(WideMath.ceilDivide(doubled, 1_000_000_000)))
    }

    /// μ(N, k) = (N − 2k)/(N − 3k) as a fraction in lowest terms, or nil when k < 0 or N ≤ 3k
    /// (the Byzantine bound N ≥ 3k + 1 fails). Never traps.
    public static func mu(clocks n: Int, faulty k: Int) -> (numerator: Int, denominator: Int)? {
        guard k >= 0 else { return nil }
        let (threeK, overflow3) = k.multipliedReportingOverflow(by: 3)
        guard !overflow3, n > threeK else { return nil }
        // n > 3k ≥ 2k ≥ 0, so neither subtraction overflows and both results are positive.
        let numerator = n - 2 * k
        let denominator = n - threeK
        var (x, y) = (numerator, denominator)
        while y != 0 { (x, y) = (y, x % y) }
        return (numerator / x, denominator / x)
    }

    /// Π = (ε + 2·|ρ|·R)·(N − 2k)/(N − 3k), computed exactly and rounded UP to whole ns.
    /// Returns nil (never traps) when N ≤ 3k, k < 0, or the result does not fit in an `Interval`.
    public static func precision(readingError: Interval, drift: DriftRate, resynchronizationInterval: Interval,
                                 clocks n: Int, faulty k: Int) -> Interval? {
        guard let (numerator, denominator) = mu(clocks: n, faulty: k) else { return nil }
        // (ε·10⁹ + 2·|ρ_ppb|·R)·num / (10⁹·den), every step overflow-checked in Int128.
        let scaledDrift = Int128(drift.partsPerBillion.magnitude) * Int128(resynchronizationInterval.nanoseconds)
        let (twiceDrift, o1) = scaledDrift.multipliedReportingOverflow(by: 2)
        let (sum, o2) = (Int128(readingError.nanoseconds) * 1_000_000_000).addingReportingOverflow(twiceDrift)
        let (product, o3) = sum.multipliedReportingOverflow(by: Int128(numerator))
        let (divisor, o4) = Int128(denominator).multipliedReportingOverflow(by: 1_000_000_000)
        guard !o1, !o2, !o3, !o4 else { return nil }
        let result = WideMath.ceilDivide(product, divisor)
        guard result >= Int128(Int64.min), result <= Int128(Int64.max) else { return nil }
        return Interval(nanoseconds: Int64(result))
    }

    /// ε·(1 − 1/N) = ε·(N − 1)/N, rounded DOWN to whole ns (Lundelius & Lynch 1984): the best precision
    /// any algorithm can guarantee. Never traps for N ≥ 1 (computed in Int128); PRECONDITION N ≥ 1.
    public static func lowerBound(readingError: Interval, clocks n: Int) -> Interval {
        precondition(n >= 1, "an ensemble has at least one clock")
        let product = Int128(readingError.nanoseconds) * Int128(n - 1)
        // |result| ≤ |ε|, so it fits in Int64.
        return Interval(nanoseconds: Int64(WideMath.floorDivide(product, Int128(n))))
    }
}
