// Fault-tolerant convergence functions for clock synchronization (REFERENCE.md §2).
//
// Each node measures, once per frame, deviation = actual arrival − expected arrival. Once per
// round it sorts the deviations of the round (its own clock counts as deviation 0 if the protocol
// includes it), drops the k largest and the k smallest, and computes a correction:
//
// - Fault-tolerant average, FTA (Kopetz & Ochsenreiter 1987, MARS; TTP/C): the arithmetic mean of
//   the remaining N − 2k values.
// - Fault-tolerant midpoint, FTM (Lundelius Welch & Lynch 1988; FlexRay): (min + max)/2 of the
//   remaining values.
//
// Fault hypothesis: at most k of the N clocks are faulty, possibly two-faced (Byzantine), which
// requires N ≥ 3k + 1 (Dolev, Halpern & Strong) for the precision bound Π of `PrecisionBound` to
// hold. With fewer values than 2k + 1 no value survives and there is no correction (nil).
//
// The in-place variant runs once per round on the hot path: it allocates nothing (insertion sort
// over the caller's buffer, N is small) and never traps for any Int64 deviations (sums in Int128).

/// Which convergence function a cluster uses; the raw value is its schedule spelling.
public enum ConvergenceFunction: String, Sendable, CaseIterable {
    /// Fault-tolerant average: mean of the values that remain after dropping k at each end.
    case faultTolerantAverage = "fta"
    /// Fault-tolerant midpoint: (min + max)/2 of the values that remain after dropping k at each end.
    case faultTolerantMidpoint = "ftm"
}

/// The convergence functions (unit of inputs and result: `Interval`, ns). Never trap on values;
/// PRECONDITION k ≥ 0.
public enum Convergence {
    /// Sorts `values` in place (ascending, insertion sort, no heap allocation), drops the `k` smallest
    /// and `k` largest, and returns FTA (mean, truncated toward zero) or FTM ((min + max)/2, truncated
    /// toward zero) of the rest. Returns nil when `values.count <= 2k`.
    /// Never traps for any Int64 inputs (sums in Int128); PRECONDITION `k >= 0`.
    public static func correction(_ function: ConvergenceFunction, sortingInPlace values: UnsafeMutableBufferPointer<Interval>,
                                  discarding k: Int) -> Interval? {
        precondition(k >= 0, "the number of discarded values at each end must be non-negative")
        insertionSort(values)
        let count = values.count
        guard count - k > k else { return nil }  // count - k cannot overflow: both are non-negative
        let low = k
        let high = count - k - 1
        switch function {
        case .faultTolerantAverage:
            // At most Int.max values of magnitude ≤ 2^63: |sum| < 2^126, fits in Int128.
            var sum: Int128 = 0
            for index in low...high { sum += Int128(values[index].nanoseconds) }
            // The mean lies between two Int64 values, so it fits; Int128 `/` truncates toward zero.
            return Interval(nanoseconds: Int64(sum / Int128(high - low + 1)))
        case .faultTolerantMidpoint:
            let sum = Int128(values[low].nanoseconds) + Int128(values[high].nanoseconds)
            return Interval(nanoseconds: Int64(sum / 2))
        }
    }

    /// Like `correction(_:sortingInPlace:discarding:)` on a copy of `values` (allocates; not for the
    /// hot path). Returns nil when `values.count <= 2k`. PRECONDITION `k >= 0`.
    public static func correction(_ function: ConvergenceFunction, of values: [Interval], discarding k: Int) -> Interval? {
        var copy = values
        return copy.withUnsafeMutableBufferPointer { correction(function, sortingInPlace: $0, discarding: k) }
    }

    /// Stable ascending insertion sort: O(n²), no allocation, fine for the N ≤ a few dozen clocks of a
    /// cluster. (The stdlib `sort` may allocate a temporary buffer.)
    static func insertionSort(_ values: UnsafeMutableBufferPointer<Interval>) {
        guard values.count > 1 else { return }
        for next in 1..<values.count {
            let value = values[next]
            var hole = next
            while hole > 0 && values[hole - 1] > value {
                values[hole] = values[hole - 1]
                hole -= 1
            }
            values[hole] = value
        }
    }
}
