// The latency histogram against inputs whose percentiles are known exactly.

import Testing
import TaktTestSupport
import TaktPlatform
import TaktTime

@Suite("Latency histogram", .hostShared)
struct HistogramTests {
    @Test func oneNanosecondBucketsGiveExactPercentiles() throws {
        var histogram = try LatencyHistogram(bucketWidth: .nanoseconds(1), bucketCount: 1_000)
        // Samples 1…100 ns, recorded in a scrambled order.
        for i in 0..<100 { histogram.record(.nanoseconds(Int64((i * 37) % 100 + 1))) }
        #expect(histogram.count == 100)
        #expect(histogram.minimum == .nanoseconds(1))
        #expect(histogram.maximum == .nanoseconds(100))
        #expect(histogram.sum == .nanoseconds(5_050))
        #expect(histogram.mean == .nanoseconds(50))
        // k = ⌈p · 100⌉: p50 → 50th smallest = 50, p90 → 90, p99 → 99, p99.9 → ⌈99.9⌉ = 100.
        let expected: [(Percentile, Int64)] = [(.p50, 50), (.p90, 90), (.p99, 99), (.p99_9, 100), (.p99_99, 100)]
        for (p, value) in expected {
            let estimate = try #require(histogram.percentile(p))
            #expect(estimate == PercentileEstimate(lowerBound: .nanoseconds(value), upperBound: .nanoseconds(value), isOverflow: false), "\(p.label)")
        }
    }

    @Test func percentilesOfTenThousandSamplesUseTheExactRank() throws {
        var histogram = try LatencyHistogram(bucketWidth: .nanoseconds(1), bucketCount: 20_000)
        for v in 1...10_000 { histogram.record(.nanoseconds(Int64(v))) }
        #expect(histogram.percentile(.p50)?.upperBound == .nanoseconds(5_000))
        #expect(histogram.percentile(.p90)?.upperBound == .nanoseconds(9_000))
        #expect(histogram.percentile(.p99)?.upperBound == .nanoseconds(9_900))
        #expect(histogram.percentile(.p99_9)?.upperBound == .nanoseconds(9_990))
        #expect(histogram.percentile(.p99_99)?.upperBound == .nanoseconds(9_999))
        #expect(histogram.percentile(partsPerMillion: 1)?.upperBound == .nanoseconds(1))
        #expect(histogram.percentile(partsPerMillion: 1_000_000)?.upperBound == .nanoseconds(10_000))
    }

    @Test func widerBucketsBracketTheTrueValueWithinOneBucket() throws {
        var histogram = try LatencyHistogram(bucketWidth: .nanoseconds(10), bucketCount: 100)
        let samples: [Int64] = (1...200).map { ($0 * 7919) % 997 }  // pseudo-random in 0…996
        for s in samples { histogram.record(.nanoseconds(s)) }
        let sorted = samples.sorted()
        for p in Percentile.allCases {
            let rank = (samples.count * p.rawValue + 999_999) / 1_000_000
            let truth = Interval.nanoseconds(sorted[rank - 1])
            let estimate = try #require(histogram.percentile(p))
            #expect(estimate.lowerBound <= truth && truth <= estimate.upperBound, "\(p.label): \(truth) not in \(estimate)")
            #expect(estimate.upperBound - estimate.lowerBound <= .nanoseconds(9))
            #expect(!estimate.isOverflow)
        }
    }

    @Test func samplesBeyondTheRangeGoToTheOverflowBucket() throws {
        var histogram = try LatencyHistogram(bucketWidth: .microseconds(1), bucketCount: 10)  // [0, 10 µs)
        for _ in 0..<98 { histogram.record(.microseconds(2)) }
        histogram.record(.microseconds(10))
        histogram.record(.milliseconds(7))
        #expect(histogram.overflowCount == 2)
        #expect(histogram.count == 100)
        #expect(histogram.maximum == .milliseconds(7))
        #expect(histogram.count(inBucket: 2) == 98)
        let p50 = try #require(histogram.percentile(.p50))
        // The 50th smallest is in bucket 2, [2 µs, 2.999 µs]; the minimum (2 µs) narrows nothing here.
        #expect(p50 == PercentileEstimate(lowerBound: .microseconds(2), upperBound: .nanoseconds(2_999), isOverflow: false))
        let p99 = try #require(histogram.percentile(.p99))  // 99th smallest: the 10 µs sample
        #expect(p99 == PercentileEstimate(lowerBound: .microseconds(10), upperBound: .milliseconds(7), isOverflow: true))
        #expect(histogram.percentile(.p99_99)?.isOverflow == true)
    }

    @Test func negativeSamplesGoToTheUnderflowBucket() throws {
        var histogram = try LatencyHistogram(bucketWidth: .nanoseconds(100), bucketCount: 10)
        histogram.record(.nanoseconds(-250))
        histogram.record(.nanoseconds(-40))
        histogram.record(.nanoseconds(150))
        #expect(histogram.underflowCount == 2)
        #expect(histogram.minimum == .nanoseconds(-250))
        #expect(histogram.sum == .nanoseconds(-140))
        #expect(histogram.percentile(.p50) == PercentileEstimate(lowerBound: .nanoseconds(-250), upperBound: .nanoseconds(-1), isOverflow: false))
        #expect(histogram.percentile(.p90) == PercentileEstimate(lowerBound: .nanoseconds(100), upperBound: .nanoseconds(150), isOverflow: false))
    }

    @Test func anEmptyHistogramHasNoStatistics() throws {
        var histogram = try LatencyHistogram(bucketWidth: .nanoseconds(1), bucketCount: 1)
        #expect(histogram.percentile(.p50) == nil)
        #expect(histogram.minimum == nil && histogram.maximum == nil && histogram.mean == nil)
        #expect(histogram.summaryJSON().contains("\"p50_ns\": null"))
        histogram.record(.nanoseconds(0))
        histogram.reset()
        #expect(histogram.count == 0 && histogram.count(inBucket: 0) == 0 && histogram.percentile(.p99) == nil)
    }

    @Test func theRankRoundsUpAtAMillionSamples() throws {
        var histogram = try LatencyHistogram(bucketWidth: .nanoseconds(1), bucketCount: 4)
        // k = ⌈p · count⌉: p99.99 of 10⁶ samples is rank 999 900 (a 1 ns sample); p100 is the 3 ns one.
        for _ in 0..<999_999 { histogram.record(.nanoseconds(1)) }
        histogram.record(.nanoseconds(3))
        #expect(histogram.percentile(.p99_99)?.upperBound == .nanoseconds(1))  // rank 999 900
        #expect(histogram.percentile(partsPerMillion: 1_000_000)?.upperBound == .nanoseconds(3))
    }

    @Test func theSummaryIsJSON() throws {
        var histogram = try LatencyHistogram(bucketWidth: .nanoseconds(1), bucketCount: 100)
        histogram.record(.nanoseconds(5))
        histogram.record(.nanoseconds(500))
        let json = histogram.summaryJSON()
        #expect(json.hasPrefix("{") && json.hasSuffix("}"))
        #expect(json.contains("\"count\": 2"))
        #expect(json.contains("\"overflow\": 1"))
        #expect(json.contains("\"p50_ns\": [5, 5]"))
        #expect(json.contains("\"p99_ns\": [100, 500]"))
        #expect(json.contains("\"p99_overflow\": true"))
    }

    @Test(arguments: [(Interval.zero, 10), (.nanoseconds(-1), 10), (.seconds(2), 10), (.nanoseconds(1), 0), (.nanoseconds(1), 10_000_001)])
    func configurationsOutOfRangeAreRejected(width: Interval, count: Int) {
        #expect(throws: PlatformError.self) { try LatencyHistogram(bucketWidth: width, bucketCount: count) }
    }
}
