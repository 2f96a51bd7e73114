import Testing
import TaktTestSupport
@testable import TaktTime

private func us(_ values: [Int64]) -> [Interval] { values.map { .microseconds($0) } }

@Suite(.hostShared) struct ConvergenceTests {
    @Test func handComputedCases() {
        let values = us([100, -5, 3, 1, 2])  // sorted: −5, 1, 2, 3, 100
        #expect(Convergence.correction(.faultTolerantAverage, of: values, discarding: 1) == .microseconds(2))  // (1+2+3)/3
        #expect(Convergence.correction(.faultTolerantMidpoint, of: values, discarding: 1) == .microseconds(2))  // (1+3)/2
        #expect(Convergence.correction(.faultTolerantAverage, of: us([1, 2]), discarding: 1) == nil)
        #expect(Convergence.correction(.faultTolerantMidpoint, of: us([1, 2]), discarding: 1) == nil)
        #expect(Convergence.correction(.faultTolerantAverage, of: [-3, 0, 4, 1_000].map(Interval.nanoseconds), discarding: 1)
            == .nanoseconds(2))  // mean of 0 and 4
        #expect(Convergence.correction(.faultTolerantAverage, of: [], discarding: 0) == nil)
        #expect(Convergence.correction(.faultTolerantAverage, of: us([7]), discarding: 0) == .microseconds(7))
        #expect(Convergence.correction(.faultTolerantAverage, of: us([1, 2, 3]), discarding: 1) == .microseconds(2))
        #expect(Convergence.correction(.faultTolerantAverage, of: us([1, 2, 3, 4]), discarding: 2) == nil)
        #expect(Convergence.correction(.faultTolerantAverage, of: us([1, 2, 3]), discarding: .max) == nil)
        // Truncation toward zero.
        #expect(Convergence.correction(.faultTolerantAverage, of: [-1, -2].map(Interval.nanoseconds), discarding: 0) == .nanoseconds(-1))
        #expect(Convergence.correction(.faultTolerantMidpoint, of: [-1, -2].map(Interval.nanoseconds), discarding: 0) == .nanoseconds(-1))
        #expect(Convergence.correction(.faultTolerantAverage, of: [1, 2].map(Interval.nanoseconds), discarding: 0) == .nanoseconds(1))
        #expect(Convergence.correction(.faultTolerantMidpoint, of: [0, 5, 100].map(Interval.nanoseconds), discarding: 0) == .nanoseconds(50))
        // FTA and FTM differ when the middle values are not symmetric.
        #expect(Convergence.correction(.faultTolerantAverage, of: [0, 1, 2, 9].map(Interval.nanoseconds), discarding: 0) == .nanoseconds(3))
        #expect(Convergence.correction(.faultTolerantMidpoint, of: [0, 1, 2, 9].map(Interval.nanoseconds), discarding: 0) == .nanoseconds(4))
        #expect(ConvergenceFunction(rawValue: "fta") == .faultTolerantAverage)
        #expect(ConvergenceFunction(rawValue: "ftm") == .faultTolerantMidpoint)
        #expect(ConvergenceFunction.allCases.count == 2)
    }

    @Test func neverTrapsOnExtremes() {
        for function in ConvergenceFunction.allCases {
            #expect(Convergence.correction(function, of: [.max, .max, .max], discarding: 0) == .max)
            #expect(Convergence.correction(function, of: [.min, .min, .min], discarding: 0) == .min)
            #expect(Convergence.correction(function, of: [.min, .max], discarding: 0) == .zero)  // −1/2 truncates to 0
            #expect(Convergence.correction(function, of: [.max, .min, .max, .min, .max], discarding: 1) != nil)
        }
    }

    @Test func selectsInPlaceAgainstOracle() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let count = Int(rng.next() % 40)
            let k = Int(rng.next() % 4)
            var values = (0..<count).map { _ in Interval(nanoseconds: Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64)) }
            let sorted = values.sorted()
            var results: [Interval?] = []
            for function in ConvergenceFunction.allCases {
                results.append(values.withUnsafeMutableBufferPointer {
                    Convergence.correction(function, sortingInPlace: $0, discarding: k)
                })
                // A permutation whose k + 1 first and k + 1 last positions hold the extremes in order.
                #expect(values.sorted() == sorted)
                if count > 2 * k {
                    #expect(Array(values[0...k]) == Array(sorted[0...k]))
                    #expect(Array(values[(count - k - 1)...]) == Array(sorted[(count - k - 1)...]))
                }
            }
            if count <= 2 * k {
                #expect(results == [nil, nil])
            } else {
                let kept = sorted[k..<(count - k)].map { Int128($0.nanoseconds) }
                let mean = kept.reduce(0, +) / Int128(kept.count)
                let midpoint = (kept.first! + kept.last!) / 2
                #expect(results == [Interval(nanoseconds: Int64(mean)), Interval(nanoseconds: Int64(midpoint))])
            }
        }
    }

    // MARK: Precision bound

    @Test func workedExample() {
        let epsilon = Interval.microseconds(10)
        let rho = DriftRate.partsPerMillion(100)
        let round = Interval.milliseconds(10)
        #expect(PrecisionBound.driftOffset(drift: rho, resynchronizationInterval: round) == .microseconds(2))
        #expect(PrecisionBound.precision(readingError: epsilon, drift: rho, resynchronizationInterval: round, clocks: 4, faulty: 1)
            == .microseconds(24))
        #expect(PrecisionBound.lowerBound(readingError: epsilon, clocks: 4) == .nanoseconds(7_500))
        #expect(PrecisionBound.precision(readingError: epsilon, drift: rho, resynchronizationInterval: round, clocks: 3, faulty: 1) == nil)
    }

    @Test func mu() {
        func value(_ n: Int, _ k: Int) -> (Int, Int)? {
            PrecisionBound.mu(clocks: n, faulty: k).map { ($0.numerator, $0.denominator) }
        }
        #expect(value(4, 1)! == (2, 1))
        #expect(value(5, 1)! == (3, 2))  // 1.5
        #expect(value(7, 1)! == (5, 4))  // 1.25
        #expect(value(7, 2)! == (3, 1))
        #expect(value(10, 3)! == (4, 1))
        #expect(value(8, 2)! == (2, 1))  // 4/2 in lowest terms
        #expect(value(1, 0)! == (1, 1))
        #expect(value(3, 1) == nil)
        #expect(value(6, 2) == nil)
        #expect(value(0, 0) == nil)
        #expect(value(4, -1) == nil)
        #expect(value(.max, .max / 2) == nil)  // 3k overflows
        #expect(value(.max, .max / 4) != nil)
    }

    @Test func boundsRoundInTheSafeDirection() {
        // Γ = 2·1 ppb·1 ns = 2e-9 ns → 1 ns (up); Π with ε = 0 → 1 ns·... rounded up; lower bound rounds down.
        #expect(PrecisionBound.driftOffset(drift: .partsPerBillion(1), resynchronizationInterval: .nanoseconds(1)) == .nanoseconds(1))
        #expect(PrecisionBound.driftOffset(drift: .partsPerBillion(-100_000), resynchronizationInterval: .milliseconds(10)) == .microseconds(2))
        #expect(PrecisionBound.driftOffset(drift: .zero, resynchronizationInterval: .max) == .zero)
        #expect(PrecisionBound.driftOffset(drift: .partsPerMillion(100), resynchronizationInterval: .max) == .nanoseconds(1_844_674_407_370_956))
        #expect(PrecisionBound.driftOffset(drift: .partsPerBillion(.max), resynchronizationInterval: .max) == .max)  // saturates
        #expect(PrecisionBound.driftOffset(drift: .partsPerBillion(.min), resynchronizationInterval: .min) == .min)  // saturates
        // Π = (1 + 0)·5/4 = 1.25 → 2 ns.
        #expect(PrecisionBound.precision(readingError: .nanoseconds(1), drift: .zero, resynchronizationInterval: .zero, clocks: 7, faulty: 1)
            == .nanoseconds(2))
        #expect(PrecisionBound.precision(readingError: .max, drift: .zero, resynchronizationInterval: .zero, clocks: 4, faulty: 1) == nil)
        #expect(PrecisionBound.precision(readingError: .max, drift: .zero, resynchronizationInterval: .zero, clocks: 1, faulty: 0) == .max)
        #expect(PrecisionBound.precision(readingError: .max, drift: .partsPerBillion(.max), resynchronizationInterval: .max,
                                         clocks: 4, faulty: 1) == nil)
        #expect(PrecisionBound.precision(readingError: .zero, drift: .zero, resynchronizationInterval: .zero, clocks: 4, faulty: -1) == nil)
        // ε(1 − 1/3) = 2/3 ns → 0 ns (down).
        #expect(PrecisionBound.lowerBound(readingError: .nanoseconds(1), clocks: 3) == .zero)
        #expect(PrecisionBound.lowerBound(readingError: .microseconds(10), clocks: 1) == .zero)
        #expect(PrecisionBound.lowerBound(readingError: .max, clocks: .max) == .nanoseconds(Int64.max - 1))
    }

    // MARK: Two-faced clocks (REFERENCE.md §2: N ≥ 3k + 1)

    /// A round-based simulation of FTA clock synchronization with one two-faced clock.
    ///
    /// `offsets[i]` is correct clock i's error against ideal time in ns. Each round every clock drifts
    /// by its rate over R; then each correct node reads the deviations [own 0, every other correct
    /// clock's offset difference ± reading error, the two-faced clock's reading for this node], applies
    /// FTA with k = 1, and corrects. The two-faced clock tells each node that it is further out on that
    /// node's side of the ensemble: `+lie` to nodes at or above the ensemble's mean, `−lie` to the
    /// others, where `lie` is either huge (always discarded) or the node's own most extreme correct
    /// reading (kept in the middle and pulling hardest). Returns the spread of the correct clocks
    /// (max − min) just before each correction, where it is largest.
    static func simulateTwoFaced(driftsPartsPerBillion: [Int64], readingError: Interval, round: Interval,
                                 extremeLies: Bool, rounds: Int, seed: UInt64) -> [Interval] {
        var rng = SplitMix64(seed: seed)
        let n = driftsPartsPerBillion.count
        var offsets = [Int64](repeating: 0, count: n)
        var readings = [Interval](repeating: .zero, count: n + 1)  // pre-allocated, as in the runtime
        var corrections = [Interval](repeating: .zero, count: n)
        var spreads: [Interval] = []
        let halfError = UInt64(readingError.nanoseconds / 2)
        for _ in 0..<rounds {
            for i in 0..<n { offsets[i] += driftsPartsPerBillion[i] * round.nanoseconds / 1_000_000_000 }
            spreads.append(.nanoseconds(offsets.max()! - offsets.min()!))
            let mean = offsets.reduce(0, +) / Int64(n)
            for i in 0..<n {
                var count = 0
                readings[count] = .zero
                count += 1
                var low: Int64 = 0
                var high: Int64 = 0
                for j in 0..<n where j != i {
                    // Reading error uniform in [−ε/2, +ε/2]: readings of one frame at two receivers differ by ≤ ε.
                    let error = halfError == 0 ? 0 : Int64(rng.next() % (2 * halfError + 1)) - Int64(halfError)
                    let reading = offsets[j] - offsets[i] + error
                    readings[count] = .nanoseconds(reading)
                    count += 1
                    low = Swift.min(low, reading)
                    high = Swift.max(high, reading)
                }
                let up = offsets[i] >= mean
                let lie: Int64 = extremeLies ? 1_000_000_000 : (up ? high : -low)
                readings[count] = .nanoseconds(up ? lie : -lie)
                count += 1
                corrections[i] = readings.withUnsafeMutableBufferPointer {
                    Convergence.correction(.faultTolerantAverage, sortingInPlace: UnsafeMutableBufferPointer(rebasing: $0[0..<count]),
                                           discarding: 1)!
                }
            }
            for i in 0..<n { offsets[i] += corrections[i].nanoseconds }
        }
        return spreads
    }

    @Test func threeClocksWithOneTwoFacedClockDiverge() {
        let rho = DriftRate.partsPerMillion(100)
        let round = Interval.milliseconds(10)
        let gamma = PrecisionBound.driftOffset(drift: rho, resynchronizationInterval: round)  // 2 µs
        // N = 3, k = 1 violates N ≥ 3k + 1: there is no bound to check against.
        #expect(PrecisionBound.mu(clocks: 3, faulty: 1) == nil)
        #expect(PrecisionBound.precision(readingError: .microseconds(10), drift: rho, resynchronizationInterval: round,
                                         clocks: 3, faulty: 1) == nil)
        let bound4 = PrecisionBound.precision(readingError: .microseconds(10), drift: rho, resynchronizationInterval: round,
                                              clocks: 4, faulty: 1)!

        // Two correct clocks A (+ρ) and B (−ρ); C tells A "+x" and B "−x". Each sees [0, other, C] and the
        // middle value is its own 0, so neither corrects: the distance grows by exactly Γ every round.
        for extremeLies in [true, false] {
            let exact = Self.simulateTwoFaced(driftsPartsPerBillion: [100_000, -100_000], readingError: .zero, round: round,
                                              extremeLies: extremeLies, rounds: 1_000, seed: 1)
            for r in exact.indices {
                #expect(exact[r] == gamma * Int64(r + 1), "round \(r)")
            }
            #expect(exact.last! == .milliseconds(2))
            #expect(exact.last! > bound4 * 80)
        }

        // With a reading error, corrections happen only while the clocks are within ε/2 of each other;
        // after that the distance grows by Γ every round, without limit.
        let noisy = Self.simulateTwoFaced(driftsPartsPerBillion: [100_000, -100_000], readingError: .microseconds(10),
                                          round: round, extremeLies: true, rounds: 1_000, seed: 2)
        let escaped = noisy.firstIndex { $0 > .microseconds(5) + gamma }!
        #expect(escaped < 10)
        for r in (escaped + 1)..<noisy.count {
            #expect(noisy[r] == noisy[r - 1] + gamma, "round \(r)")
        }
        #expect(noisy.last! > bound4 * 80)
    }

    @Test func fourClocksWithOneTwoFacedClockStayWithinPi() {
        let epsilon = Interval.microseconds(10)
        let rho = DriftRate.partsPerMillion(100)
        let round = Interval.milliseconds(10)
        let bound = PrecisionBound.precision(readingError: epsilon, drift: rho, resynchronizationInterval: round, clocks: 4, faulty: 1)!
        #expect(bound == .microseconds(24))
        // Three correct clocks (fast, slow, middle) and one two-faced clock; both lying strategies, several seeds.
        for drifts: [Int64] in [[100_000, -100_000, 0], [100_000, -100_000, 100_000], [100_000, 100_000, -100_000]] {
            for extremeLies in [true, false] {
                for seed: UInt64 in 1...5 {
                    let spreads = Self.simulateTwoFaced(driftsPartsPerBillion: drifts, readingError: epsilon, round: round,
                                                        extremeLies: extremeLies, rounds: 1_000, seed: seed)
                    let worst = spreads.max()!
                    #expect(worst <= bound, "drifts \(drifts), extreme lies \(extremeLies), seed \(seed): spread \(worst)")
                }
            }
        }
    }
}
