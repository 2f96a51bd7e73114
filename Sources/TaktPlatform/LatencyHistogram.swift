// LatencyHistogram: cyclictest's measurement, pre-allocated (STYLE.md rules 4 and 13).
//
// Layout: `bucketCount` buckets of `bucketWidth` w; bucket i counts samples v (integer ns) with
// i·w ≤ v ≤ i·w + w − 1. Samples ≥ bucketCount·w go to the overflow bucket, negative samples to
// the underflow bucket (a waiter's lateness is never negative, but an arrival measured against an
// expected instant can be). Count, sum, minimum and maximum are exact for every sample, inside
// the range or not. The bucket array is allocated once, in `init`; `record` allocates nothing.
//
// Percentiles (exact rank, bucket resolution): the p-quantile is the k-th smallest sample,
// k = ⌈p · count⌉ (k ≥ 1), computed in integer arithmetic (p in parts per million). The histogram
// finds the bucket holding that sample by cumulative counts and reports the bucket's range,
// narrowed by the observed minimum and maximum: lowerBound ≤ k-th smallest ≤ upperBound, and
// upperBound − lowerBound ≤ w − 1 ns. With w = 1 ns both bounds are the exact sample. When the
// k-th sample is in the overflow bucket, the range is [bucketCount·w, maximum] and `isOverflow` is
// set: widen the histogram rather than trust such a figure.

import TaktTime

/// The percentiles a latency report prints, in parts per million.
public enum Percentile: Int, CaseIterable, Sendable {
    case p50 = 500_000
    case p90 = 900_000
    case p99 = 990_000
    case p99_9 = 999_000
    case p99_99 = 999_900

    /// "p50", "p90", "p99", "p99.9", "p99.99".
    public var label: String {
        switch self {
        case .p50: return "p50"
        case .p90: return "p90"
        case .p99: return "p99"
        case .p99_9: return "p99.9"
        case .p99_99: return "p99.99"
        }
    }
}

/// Where the k-th smallest sample lies: lowerBound ≤ sample ≤ upperBound (both inclusive).
public struct PercentileEstimate: Hashable, Sendable, CustomStringConvertible {
    /// The sample is at least this.
    public var lowerBound: Interval
    /// The sample is at most this. Equals `lowerBound` when the estimate is exact.
    public var upperBound: Interval
    /// True when the sample lies beyond the last bucket (the bounds are then [range end, maximum]).
    public var isOverflow: Bool

    public init(lowerBound: Interval, upperBound: Interval, isOverflow: Bool) {
        self.lowerBound = lowerBound
        self.upperBound = upperBound
        self.isOverflow = isOverflow
    }

    /// "12 us" when exact, "12 us…12.009 us" otherwise, with "(overflow)" appended beyond the range.
    public var description: String {
        let range = lowerBound == upperBound ? "\(upperBound)" : "\(lowerBound)…\(upperBound)"
        return isOverflow ? range + " (overflow)" : range
    }
}

/// A fixed-width latency histogram with overflow and underflow buckets; see the file header.
public struct LatencyHistogram: Sendable {
    /// Accepted bucket widths: 1 ns to 1 s.
    public static let bucketWidthRange = Interval.nanoseconds(1)...Interval.seconds(1)
    /// Accepted bucket counts: 1 to 10 000 000 (80 MB of counters).
    public static let bucketCountRange = 1...10_000_000

    /// The width of every bucket.
    public let bucketWidth: Interval
    /// How many buckets (not counting overflow and underflow).
    public let bucketCount: Int
    private var buckets: [UInt64]
    /// Samples ≥ bucketCount · bucketWidth.
    public private(set) var overflowCount: UInt64 = 0
    /// Samples < 0.
    public private(set) var underflowCount: UInt64 = 0
    /// All samples recorded.
    public private(set) var count: UInt64 = 0
    private var sumNanoseconds: Int128 = 0
    private var minimumNanoseconds: Int64 = .max
    private var maximumNanoseconds: Int64 = .min

    /// A histogram of `bucketCount` buckets of `bucketWidth`, covering [0, bucketCount · bucketWidth).
    /// Throws `.invalidConfiguration` when either is outside its accepted range.
    public init(bucketWidth: Interval, bucketCount: Int) throws(PlatformError) {
        guard LatencyHistogram.bucketWidthRange.contains(bucketWidth) else {
            throw .invalidConfiguration("histogram bucket width must be between 1 ns and 1 s, got \(bucketWidth)")
        }
        guard LatencyHistogram.bucketCountRange.contains(bucketCount) else {
            throw .invalidConfiguration("histogram bucket count must be between 1 and 10000000, got \(bucketCount)")
        }
        self.bucketWidth = bucketWidth
        self.bucketCount = bucketCount
        self.buckets = [UInt64](repeating: 0, count: bucketCount)
    }

    /// The end of the covered range: samples from here on overflow.
    public var rangeEnd: Interval { Interval(nanoseconds: bucketWidth.nanoseconds * Int64(bucketCount)) }

    /// Counts one sample. Never allocates, never traps (counters wrap after 2⁶⁴ samples).
    @inline(__always)
    public mutating func record(_ sample: Interval) {
        let value = sample.nanoseconds
        count &+= 1
        // Int128 cannot overflow: 2⁶⁴ samples of at most 2⁶³ ns sum to less than 2¹²⁷.
        sumNanoseconds += Int128(value)
        if value < minimumNanoseconds { minimumNanoseconds = value }
        if value > maximumNanoseconds { maximumNanoseconds = value }
        if value < 0 {
            underflowCount &+= 1
            return
        }
        let index = value / bucketWidth.nanoseconds
        if index < Int64(bucketCount) {
            buckets[Int(index)] &+= 1
        } else {
            overflowCount &+= 1
        }
    }

    /// Forgets every sample; keeps the buckets' memory.
    public mutating func reset() {
        for i in 0..<bucketCount { buckets[i] = 0 }
        overflowCount = 0
        underflowCount = 0
        count = 0
        sumNanoseconds = 0
        minimumNanoseconds = .max
        maximumNanoseconds = .min
    }

    /// The count in bucket `index` (samples in [index·w, index·w + w − 1]).
    /// PRECONDITION: 0 ≤ index < bucketCount.
    public func count(inBucket index: Int) -> UInt64 {
        precondition(index >= 0 && index < bucketCount, "bucket index out of range")
        return buckets[index]
    }

    /// The smallest sample; nil when empty.
    public var minimum: Interval? { count == 0 ? nil : Interval(nanoseconds: minimumNanoseconds) }
    /// The largest sample; nil when empty.
    public var maximum: Interval? { count == 0 ? nil : Interval(nanoseconds: maximumNanoseconds) }
    /// The sum of all samples, SATURATING at `Interval.min`/`.max`.
    public var sum: Interval {
        if sumNanoseconds > Int128(Int64.max) { return .max }
        if sumNanoseconds < Int128(Int64.min) { return .min }
        return Interval(nanoseconds: Int64(sumNanoseconds))
    }
    /// The mean, truncated toward zero to whole ns; nil when empty.
    public var mean: Interval? {
        count == 0 ? nil : Interval(nanoseconds: Int64(sumNanoseconds / Int128(count)))
    }

    /// Where the named percentile lies; nil when empty.
    public func percentile(_ percentile: Percentile) -> PercentileEstimate? {
        self.percentile(partsPerMillion: percentile.rawValue)
    }

    /// Where the k-th smallest sample lies, k = ⌈partsPerMillion · count / 10⁶⌉ (at least 1); nil
    /// when empty. PRECONDITION: 1 ≤ partsPerMillion ≤ 1 000 000.
    public func percentile(partsPerMillion: Int) -> PercentileEstimate? {
        precondition(partsPerMillion >= 1 && partsPerMillion <= 1_000_000, "a percentile is 1…1000000 parts per million")
        if count == 0 { return nil }
        // ⌈count · ppm / 10⁶⌉ in 128 bits: count · ppm can exceed 2⁶⁴.
        let product = UInt128(count) * UInt128(partsPerMillion)
        let rank = UInt64((product + 999_999) / 1_000_000)
        let minimum = Interval(nanoseconds: minimumNanoseconds), maximum = Interval(nanoseconds: maximumNanoseconds)
        var cumulative = underflowCount
        if rank <= cumulative {
            return PercentileEstimate(lowerBound: minimum, upperBound: Swift.min(.nanoseconds(-1), maximum), isOverflow: false)
        }
        let width = bucketWidth.nanoseconds
        for index in 0..<bucketCount {
            cumulative &+= buckets[index]
            if rank <= cumulative {
                let low = Interval(nanoseconds: Int64(index) * width)
                let high = Interval(nanoseconds: Int64(index) * width + width - 1)
                return PercentileEstimate(lowerBound: Swift.max(low, minimum), upperBound: Swift.min(high, maximum), isOverflow: false)
            }
        }
        return PercentileEstimate(lowerBound: Swift.max(rangeEnd, minimum), upperBound: maximum, isOverflow: true)
    }

    /// A JSON object: configuration, count, min/max/mean/sum (ns), overflow/underflow counts, and
    /// for each `Percentile` its bounds as `[lower, upper]` ns plus an overflow flag. Empty
    /// histograms print `null` for the statistics.
    public func summaryJSON() -> String {
        var json = JSONText.Object()
        json.add("bucket_width_ns", bucketWidth.nanoseconds)
        json.add("bucket_count", Int64(bucketCount))
        json.add("count", count)
        json.add("overflow", overflowCount)
        json.add("underflow", underflowCount)
        json.add("min_ns", minimum?.nanoseconds)
        json.add("max_ns", maximum?.nanoseconds)
        json.add("mean_ns", mean?.nanoseconds)
        json.add("sum_ns", sum.nanoseconds)
        for p in Percentile.allCases {
            if let estimate = percentile(p) {
                json.addRaw(p.label + "_ns", "[\(estimate.lowerBound.nanoseconds), \(estimate.upperBound.nanoseconds)]")
                json.add(p.label + "_overflow", estimate.isOverflow)
            } else {
                json.addRaw(p.label + "_ns", "null")
            }
        }
        return json.text
    }
}
