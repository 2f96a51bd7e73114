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
// The in-place variant runs once per round on the hot path: it allocates nothing and never traps
// for any Int64 deviations (sums in Int128). It does not sort: k + 1 passes of selection move the
// k + 1 smallest values to the front and the k + 1 largest to the back, O(N·k) — for a 256-node
// cluster with k = 1, about 500 comparisons instead of an insertion sort's ~16,000.

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
    /// Reorders `values` in place (no heap allocation) so that positions 0...k hold the k + 1
    /// smallest in ascending order and positions count−k−1..<count the k + 1 largest in ascending
    /// order, drops the `k` smallest and `k` largest, and returns FTA (mean, truncated toward zero)
    /// or FTM ((min + max)/2, truncated toward zero) of the rest. Returns nil when
    /// `values.count <= 2k`. Never traps for any Int64 inputs (sums in Int128); PRECONDITION `k >= 0`.
    public static func correction(_ function: ConvergenceFunction, sortingInPlace values: UnsafeMutableBufferPointer<Interval>,
                                  discarding k: Int) -> Interval? {
        precondition(k >= 0, "the number of discarded values at each end must be non-negative")
        let count = values.count
        guard count - k > k else { return nil }  // count - k cannot overflow: both are non-negative
        selectExtremes(values, k + 1)
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

    /// Moves the `m` smallest values to positions 0..<m (ascending) and, among the rest, the `m`
    /// largest to positions count−m..<count (ascending). O(count·m), no allocation. When
    /// count < 2m the two ends overlap and the whole buffer ends up sorted.
    static func selectExtremes(_ values: UnsafeMutableBufferPointer<Interval>, _ m: Int) {
        let count = values.count
        if count <= 2 * m { insertionSort(values); return }
        for i in 0..<m {  // smallest first
            var best = i
            for j in (i + 1)..<count where values[j] < values[best] { best = j }
            values.swapAt(i, best)
        }
        for i in 0..<m {  // then the largest, filling from the back
            let slot = count - 1 - i
            var best = slot
            var j = m
            while j < slot {
                if values[j] > values[best] { best = j }
                j += 1
            }
            values.swapAt(slot, best)
        }
    }

    /// Stable ascending insertion sort: O(n²), no allocation, for short buffers. (The stdlib `sort`
    /// may allocate a temporary buffer.)
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
