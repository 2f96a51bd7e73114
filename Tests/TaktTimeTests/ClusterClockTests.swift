import Testing
import TaktTestSupport
import TaktTime

@inline(never) private func consume<T>(_ value: T) {
    if "\(value)".isEmpty { print("unreachable") }
}

private let onePercent = DriftRate.partsPerBillion(10_000_000)
private func local(_ ns: Int64) -> LocalInstant { LocalInstant(nanoseconds: ns) }
private func cluster(_ ns: Int64) -> ClusterInstant { ClusterInstant(nanoseconds: ns) }

/// Checks the inverse property of `localTime(at:)` at `c`; returns a description of the failure or nil.
private func inverseFailure(_ clock: ClusterClock, _ c: ClusterInstant) -> String? {
    let l = clock.localTime(at: c)
    if l.nanoseconds == .max { return nil }  // documented saturation: c not reached in the local range
    if clock.clusterTime(at: l) < c { return "clusterTime(localTime(\(c))=\(l)) < c" }
    if l.nanoseconds != .min && clock.clusterTime(at: l - .nanoseconds(1)) >= c {
        return "clusterTime(localTime(\(c))=\(l) - 1 ns) >= c"
    }
    return nil
}

/// A random clock state: random anchor, slew (including the extremes), rate adjustments and corrections
/// applied at increasing local instants.
private func randomClock(_ rng: inout SplitMix64) -> ClusterClock {
    let slew = DriftRate.partsPerBillion(rng.pick([1, 1_000, 10_000_000, rng.int(in: 1...999_999_999), 999_999_999]))
    var now = local(rng.int(in: -(1 << 50)...(1 << 50)))
    var clock = ClusterClock(anchor: now, cluster: cluster(rng.int(in: -(1 << 50)...(1 << 50))), maximumSlew: slew)
    for _ in 0..<rng.int(in: 0...4) {
        now += .nanoseconds(rng.int(in: 0...20_000_000))
        switch rng.int(in: 0...2) {
        case 0: clock.adjustRate(by: .partsPerBillion(rng.int(in: -700_000...700_000)), at: now)
        case 1: clock.applyCorrection(.nanoseconds(rng.int(in: -50_000...50_000)), at: now)
        default: clock.applyCorrection(.nanoseconds(rng.int(in: -2_000_000_000...2_000_000_000)), at: now)
        }
    }
    return clock
}

@Suite(.hostShared) struct ClusterClockTests {
    @Test func identityWithoutCorrection() {
        let clock = ClusterClock(anchor: local(5_000_000), cluster: cluster(7_000_000), maximumSlew: onePercent)
        for offset: Int64 in [-3_000_000_000, -1, 0, 1, 999, 10_000_000, 1 << 40] {
            #expect(clock.clusterTime(at: local(5_000_000 + offset)) == cluster(7_000_000 + offset))
            #expect(clock.localTime(at: cluster(7_000_000 + offset)) == local(5_000_000 + offset))
        }
        #expect(clock.pendingCorrection == .zero)
        #expect(clock.amortizationDuration == .zero)
        #expect(clock.amortizationEnd == local(5_000_000))
        #expect(clock.anchorCluster == cluster(7_000_000))
        #expect(clock.rateAdjustment == .zero)
    }

    @Test func positiveCorrectionIsLinearAndExactAtOnePercent() {
        let l0: Int64 = 123_456_789, c0: Int64 = -987_654_321
        var clock = ClusterClock(anchor: local(0), cluster: cluster(c0 - l0), maximumSlew: onePercent)
        clock.applyCorrection(.microseconds(10), at: local(l0))
        #expect(clock.pendingCorrection == .microseconds(10))
        #expect(clock.amortizationDuration == .milliseconds(1))  // 10 us / 1 %
        #expect(clock.amortizationEnd == local(l0 + 1_000_000))
        #expect(clock.remainingCorrection(at: local(l0 + 500_000)) == .microseconds(5))
        #expect(clock.remainingCorrection(at: local(l0 + 2_000_000)) == .zero)
        #expect(clock.clusterTime(at: local(l0 + 1_000_000)) == cluster(c0 + 1_000_000 + 10_000))  // exactly +10 us
        var mismatches = 0
        for d in stride(from: Int64(0), through: 1_000_000, by: 7) {  // linear: rate 1.01, rounded down
            if clock.clusterTime(at: local(l0 + d)) != cluster(c0 + d + d / 100) { mismatches += 1 }
        }
        for d in stride(from: Int64(1_000_000), through: 5_000_000, by: 997) {  // base rate afterwards
            if clock.clusterTime(at: local(l0 + d)) != cluster(c0 + d + 10_000) { mismatches += 1 }
        }
        #expect(mismatches == 0)
        // Before the anchor the clock extrapolates at its base rate.
        #expect(clock.clusterTime(at: local(l0 - 1_000)) == cluster(c0 - 1_000))
    }

    @Test func negativeCorrectionSlowsButNeverGoesBackwards() {
        var clock = ClusterClock(anchor: local(1_000), cluster: cluster(2_000), maximumSlew: onePercent)
        clock.applyCorrection(.microseconds(-10), at: local(1_000))
        #expect(clock.amortizationDuration == .milliseconds(1))
        #expect(clock.clusterTime(at: local(1_000 + 1_000_000)) == cluster(2_000 + 1_000_000 - 10_000))
        var previous = clock.clusterTime(at: local(0))
        var strictViolations = 0, formulaMismatches = 0
        for d in stride(from: Int64(0), through: 1_200_000, by: 2) {  // 2 ns grid: strictly increasing
            let now = clock.clusterTime(at: local(1_000 + d))
            if now <= previous { strictViolations += 1 }
            previous = now
            // Rate 0.99 rounded down while amortizing: ⌊0.99·d⌋ = d − ⌈d/100⌉.
            let expected = d <= 1_000_000 ? d - (d + 99) / 100 : d - 10_000
            if now != cluster(2_000 + expected) { formulaMismatches += 1 }
        }
        var decreases = 0
        previous = clock.clusterTime(at: local(0))
        for l in Int64(0)...20_000 {  // 1 ns grid: never decreases
            let now = clock.clusterTime(at: local(l))
            if now < previous { decreases += 1 }
            previous = now
        }
        #expect(strictViolations == 0)
        #expect(formulaMismatches == 0)
        #expect(decreases == 0)
    }

    /// At a slew just under 100 % a negative correction nearly stops the clock (the slow-down is capped
    /// at 1 + r − 1 ppb) but never stops or reverses it, and localTime finds the end of the slewed segment.
    @Test func nearlyFullSlewNeverStopsTheClock() {
        var clock = ClusterClock(anchor: local(0), cluster: cluster(0), maximumSlew: .partsPerBillion(999_999_999))
        clock.applyCorrection(.nanoseconds(-1), at: local(0))
        #expect(clock.amortizationDuration == .nanoseconds(2))  // ⌈10⁹ as / 999 999 999 ppb⌉
        #expect(clock.clusterTime(at: local(1)) == cluster(0))  // advanced by 1 as only
        #expect(clock.clusterTime(at: local(2)) == cluster(1))  // 2 ns − 1 ns
        #expect(clock.localTime(at: cluster(1)) == local(2))
        #expect(clock.clusterTime(at: local(3)) == cluster(2))

        var slowest = ClusterClock(anchor: local(0), cluster: cluster(0), maximumSlew: .partsPerBillion(999_999_999))
        slowest.adjustRate(by: .partsPerMillion(-500), at: local(0))
        slowest.applyCorrection(.microseconds(-1), at: local(0))
        let end = slowest.amortizationEnd
        #expect(end == local(1_001))  // ⌈10¹² as / (10⁹ − 500 000 − 1) ppb⌉
        #expect(slowest.clusterTime(at: end - .nanoseconds(1)) == cluster(0))  // 1 000 as in 1 000 ns
        var failures: [String] = []
        for c in Int64(-5)...3_000 {
            if let failure = inverseFailure(slowest, cluster(c)) { failures.append(failure) }
        }
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        var previous = slowest.clusterTime(at: local(-10))
        var decreases = 0
        for l in Int64(-10)...5_000 {
            let now = slowest.clusterTime(at: local(l))
            if now < previous { decreases += 1 }
            previous = now
        }
        #expect(decreases == 0)
    }

    @Test func backToBackCorrectionsAccumulate() {
        var clock = ClusterClock(anchor: local(0), cluster: cluster(0), maximumSlew: onePercent)
        clock.applyCorrection(.microseconds(10), at: local(0))
        clock.applyCorrection(.microseconds(10), at: local(500_000))  // 5 us of the first still pending
        #expect(clock.anchorLocal == local(500_000))
        #expect(clock.anchorCluster == cluster(505_000))
        #expect(clock.pendingCorrection == .microseconds(15))
        #expect(clock.amortizationDuration == .microseconds(1_500))
        #expect(clock.amortizationEnd == local(2_000_000))
        #expect(clock.clusterTime(at: local(2_000_000)) == cluster(2_020_000))
        #expect(clock.clusterTime(at: local(3_000_000)) == cluster(3_020_000))

        // A correction in the opposite direction cancels what is still pending.
        var mixed = ClusterClock(anchor: local(0), cluster: cluster(0), maximumSlew: onePercent)
        mixed.applyCorrection(.microseconds(10), at: local(0))
        mixed.applyCorrection(.microseconds(-10), at: local(500_000))
        #expect(mixed.pendingCorrection == .microseconds(-5))
        #expect(mixed.amortizationDuration == .microseconds(500))
        #expect(mixed.clusterTime(at: local(1_000_000)) == cluster(1_000_000))  // +5 us − 5 us
        #expect(mixed.clusterTime(at: local(1_500_000)) == cluster(1_500_000))

        // Two corrections at the same instant are one correction of their sum.
        var twice = ClusterClock(anchor: local(0), cluster: cluster(0), maximumSlew: onePercent)
        twice.applyCorrection(.microseconds(3), at: local(100))
        twice.applyCorrection(.microseconds(4), at: local(100))
        var once = ClusterClock(anchor: local(0), cluster: cluster(0), maximumSlew: onePercent)
        once.applyCorrection(.microseconds(7), at: local(100))
        for l: Int64 in [0, 100, 101, 350_100, 700_100, 900_000] {
            #expect(twice.clusterTime(at: local(l)) == once.clusterTime(at: local(l)))
        }
    }

    /// Re-anchoring carries the sub-nanosecond remainder: a clock re-anchored at arbitrary instants is
    /// the same function as one anchored once.
    @Test func reanchoringIsExact() {
        var rng = SplitMix64(seed: 0xC10C)
        for _ in 0..<50 {
            var reference = ClusterClock(anchor: local(0), cluster: cluster(0), maximumSlew: .partsPerBillion(rng.int(in: 1...20_000_000)))
            reference.adjustRate(by: .partsPerBillion(rng.int(in: -500_000...500_000)), at: local(0))
            reference.applyCorrection(.nanoseconds(rng.int(in: -100_000...100_000)), at: local(0))
            var reanchored = reference
            var now: Int64 = 0
            var mismatches = 0
            for _ in 0..<40 {
                now += rng.int(in: 0...400_000)
                if rng.next() % 2 == 0 {
                    reanchored.applyCorrection(.zero, at: local(now))
                } else {
                    reanchored.adjustRate(by: .zero, at: local(now))
                }
                for probe in [now, now + 1, now + rng.int(in: 0...10_000_000)]
                where reanchored.clusterTime(at: local(probe)) != reference.clusterTime(at: local(probe)) {
                    mismatches += 1
                }
                // The amortization ends at the same instant (or "now", once it is over).
                if reanchored.amortizationEnd != max(reference.amortizationEnd, reanchored.anchorLocal) { mismatches += 1 }
            }
            #expect(mismatches == 0)
        }
    }

    @Test func localTimeIsTheInverseOverARandomGrid() {
        var rng = SplitMix64(seed: 20_240_601)
        for round in 0..<300 {
            let clock = randomClock(&rng)
            let center = clock.anchorCluster.nanoseconds
            var failures: [String] = []
            for _ in 0..<200 {
                let c: ClusterInstant
                switch rng.int(in: 0...3) {
                case 0: c = cluster(center + rng.int(in: -1_000...1_000))
                case 1: c = cluster(center + rng.int(in: -(1 << 40)...(1 << 40)))
                case 2: c = clock.clusterTime(at: clock.anchorLocal + .nanoseconds(rng.int(in: -1_000_000...3_000_000_000)))
                default: c = clock.clusterTime(at: clock.amortizationEnd + .nanoseconds(rng.int(in: -1_000...1_000)))
                }
                if let failure = inverseFailure(clock, c) { failures.append(failure) }
            }
            #expect(failures.isEmpty, "round \(round): \(failures.prefix(3))")
        }
    }

    @Test func monotonicUnderRandomCorrectionSequences() {
        let precision = Interval.microseconds(24)  // Π of the worked example (REFERENCE.md §2)
        for seed: UInt64 in 1...40 {
            var rng = SplitMix64(seed: seed)
            let slew = DriftRate.partsPerBillion(rng.pick([10_000_000, 1_000, rng.int(in: 1...999_999_999), 999_999_999]))
            var now = local(rng.int(in: -(1 << 40)...(1 << 40)))
            var clock = ClusterClock(anchor: now, cluster: cluster(rng.int(in: -(1 << 40)...(1 << 40))), maximumSlew: slew)
            var previous = clock.clusterTime(at: now)
            var decreases = 0
            for _ in 0..<400 {
                // Sample at a few increasing instants, then correct at the last one.
                for _ in 0..<rng.int(in: 1...4) {
                    now += .nanoseconds(rng.pick([0, 1, 2, rng.int(in: 0...1_000), rng.int(in: 0...20_000_000)]))
                    let reading = clock.clusterTime(at: now)
                    if reading < previous { decreases += 1 }
                    previous = reading
                }
                switch rng.int(in: 0...5) {
                case 0: clock.applyCorrection(.nanoseconds(rng.int(in: -precision.nanoseconds...precision.nanoseconds)), at: now)
                case 1: clock.applyCorrection(rng.pick([.seconds(1), .seconds(-1)]), at: now)
                case 2: clock.applyCorrection(.nanoseconds(rng.int(in: -(1 << 50)...(1 << 50))), at: now)
                case 3: clock.adjustRate(by: .partsPerBillion(rng.int(in: -1_000_000...1_000_000)), at: now)
                case 4: clock.applyCorrection(rng.pick([Interval.max, Interval.min]), at: now)  // saturates
                default: break
                }
                let reading = clock.clusterTime(at: now)  // re-anchoring is continuous
                if reading < previous { decreases += 1 }
                previous = reading
            }
            #expect(decreases == 0, "seed \(seed)")
        }
    }

    @Test func largeInstantsNeitherTrapNorLoseMonotonicity() {
        let big: Int64 = 1 << 62
        let locals: [Int64] = [.min, -big - 1, -big, -big + 1, -1, 0, 1, big - 1, big, big + 1, .max]
        for anchorLocal: Int64 in [-big, 0, big] {
            for anchorCluster: Int64 in [-big, 0, big] {
                for rate: Int64 in [-500_000, 0, 500_000] {
                    for correction: Interval in [.zero, .seconds(1), .seconds(-1), .max, .min] {
                        var clock = ClusterClock(anchor: local(anchorLocal), cluster: cluster(anchorCluster),
                                                 maximumSlew: onePercent)
                        clock.adjustRate(by: .partsPerBillion(rate), at: local(anchorLocal))
                        clock.applyCorrection(correction, at: local(anchorLocal))
                        var previous = ClusterInstant(nanoseconds: .min)
                        for l in locals {
                            let reading = clock.clusterTime(at: local(l))
                            #expect(reading >= previous, "anchor \(anchorLocal)/\(anchorCluster) rate \(rate) correction \(correction) at \(l)")
                            previous = reading
                        }
                        for c: Int64 in [.min, -big, 0, big, .max] {
                            #expect(inverseFailure(clock, cluster(c)) == nil)
                        }
                        consume(clock.amortizationEnd)
                        consume(clock.amortizationDuration)
                    }
                }
            }
        }
        // Exact far from the origin: 2^62 ns (146 years) at +500 ppm gains ⌊2^62/2000⌋ ns.
        var fast = ClusterClock(anchor: local(0), cluster: cluster(0), maximumSlew: onePercent)
        fast.adjustRate(by: .partsPerMillion(500), at: local(0))
        #expect(fast.clusterTime(at: local(big)) == cluster(big + big / 2_000))
        #expect(fast.localTime(at: cluster(big + big / 2_000)) == local(big))
        // Saturation: 2^63·1.0005 ns after a cluster anchor of 2^62 does not fit.
        var saturating = ClusterClock(anchor: local(-big), cluster: cluster(big), maximumSlew: onePercent)
        saturating.adjustRate(by: .partsPerMillion(500), at: local(-big))
        #expect(saturating.clusterTime(at: local(big)) == cluster(.max))
        // At local .min (2^62 before the anchor) it reads 2^62 − ⌈2^62·1.0005⌉ = −⌈2^62/2000⌉.
        #expect(saturating.clusterTime(at: local(.min)) == cluster(-(big / 2_000) - 1))
        // A cluster instant the clock never reaches in the local range saturates localTime at .max.
        let slow = ClusterClock(anchor: local(0), cluster: cluster(-big), maximumSlew: onePercent)
        #expect(slow.localTime(at: cluster(.max)) == local(.max))
        #expect(slow.localTime(at: cluster(.min)) == local(.min))
        // A correction of Interval.max saturates instead of trapping and is amortized at the slew.
        var huge = ClusterClock(anchor: local(0), cluster: cluster(0), maximumSlew: onePercent)
        huge.applyCorrection(.max, at: local(0))
        huge.applyCorrection(.max, at: local(0))
        #expect(huge.pendingCorrection == .max)
        #expect(huge.amortizationDuration == .max)  // 100·Interval.max ns does not fit
        #expect(huge.amortizationEnd == local(.max))
    }

    @Test func rateAdjustmentIsClampedAndContinuous() {
        var clock = ClusterClock(anchor: local(0), cluster: cluster(0), maximumSlew: onePercent)
        clock.adjustRate(by: .partsPerMillion(100), at: local(1_000_000_000))
        #expect(clock.rateAdjustment == .partsPerMillion(100))
        #expect(clock.clusterTime(at: local(1_000_000_000)) == cluster(1_000_000_000))  // continuous at the anchor
        #expect(clock.clusterTime(at: local(2_000_000_000)) == cluster(2_000_100_000))  // +100 ppm of 1 s
        clock.adjustRate(by: .partsPerMillion(1_000), at: local(2_000_000_000))
        #expect(clock.rateAdjustment == ClusterClock.maximumRateAdjustment)
        clock.adjustRate(by: .partsPerBillion(.min), at: local(2_000_000_000))
        #expect(clock.rateAdjustment == .partsPerMillion(-500))
        clock.adjustRate(by: .partsPerBillion(.max), at: local(2_000_000_000))
        #expect(clock.rateAdjustment == .partsPerMillion(500))
        #expect(clock.clusterTime(at: local(3_000_000_000)) == cluster(3_000_600_000))
        #expect(clock.localTime(at: cluster(3_000_600_000)) == local(3_000_000_000))
    }

    @Test func setIsAHardJump() {
        var clock = ClusterClock(anchor: local(0), cluster: cluster(0), maximumSlew: onePercent)
        clock.adjustRate(by: .partsPerMillion(50), at: local(0))
        clock.applyCorrection(.microseconds(10), at: local(10))
        clock.set(cluster: cluster(-5_000_000), at: local(-7))  // backwards in both frames: allowed
        #expect(clock.pendingCorrection == .zero)
        #expect(clock.rateAdjustment == .partsPerMillion(50))  // kept: it describes the oscillator
        #expect(clock.clusterTime(at: local(-7)) == cluster(-5_000_000))
        #expect(clock.clusterTime(at: local(-7 + 1_000_000_000)) == cluster(-5_000_000 + 1_000_050_000))
    }

    /// Two clocks at +100 ppm and −100 ppm exchange readings each R = 10 ms round and apply the FTA
    /// correction over both deviations (k = 0). They stay within 2Γ + 1 µs = 2·(2ρR) + 1 µs = 5 µs;
    /// free-running they diverge by 2ρ·10 000·R = 20 ms.
    @Test func twoDriftingClocksStaySynchronized() {
        let drifts: [Int64] = [100_000, -100_000]  // ppb
        let round: Int64 = 10_000_000  // R, ns
        let gamma = PrecisionBound.driftOffset(drift: .partsPerMillion(100), resynchronizationInterval: .nanoseconds(round))
        #expect(gamma == .microseconds(2))
        let bound = gamma * 2 + .microseconds(1)
        // The oscillator of node i at real time t (ns): t + ⌊t·ρᵢ⌋.
        func oscillator(_ node: Int, _ t: Int64) -> LocalInstant {
            local(t + Int64((Int128(t) * Int128(drifts[node])) / 1_000_000_000))
        }
        var clocks = [0, 1].map { _ in ClusterClock(anchor: local(0), cluster: cluster(0), maximumSlew: onePercent) }
        let free = clocks
        var worst = Interval.zero
        for n in Int64(1)...10_000 {
            for step in Int64(1)...10 {  // sample both clocks ten times per round
                let t = (n - 1) * round + step * round / 10
                let gap = clocks[0].clusterTime(at: oscillator(0, t)) - clocks[1].clusterTime(at: oscillator(1, t))
                worst = max(worst, gap.magnitude)
            }
            // Round boundary: each node's frame arrives (no delay, no reading error) at the other; the
            // arrival deviation is actual − expected = receiver's reading − sender's reading.
            let t = n * round
            let readings = [0, 1].map { clocks[$0].clusterTime(at: oscillator($0, t)) }
            for node in 0...1 {
                let deviations: [Interval] = [.zero, readings[node] - readings[1 - node]]  // own clock counts as 0
                let average = Convergence.correction(.faultTolerantAverage, of: deviations, discarding: 0)!
                clocks[node].applyCorrection(-average, at: oscillator(node, t))  // late arrival: this clock is ahead
            }
        }
        #expect(worst <= bound, "worst \(worst), bound \(bound)")
        #expect(worst >= .microseconds(1))  // the drift really is there between corrections
        let end = 10_000 * round
        let divergence = free[0].clusterTime(at: oscillator(0, end)) - free[1].clusterTime(at: oscillator(1, end))
        #expect(divergence == .milliseconds(20))  // 200 ppm of 100 s
        #expect(divergence >= .milliseconds(2))
    }
}

/// Preconditions, checked with exit tests (each runs in a child process and must crash).
@Suite(.hostShared) struct ClusterClockTrapTests {
    @Test func slewOutsideTheOpenIntervalTraps() async {
        await #expect(processExitsWith: .failure) {
            consume(ClusterClock(anchor: .zero, cluster: .zero, maximumSlew: .zero))
        }
        await #expect(processExitsWith: .failure) {
            consume(ClusterClock(anchor: .zero, cluster: .zero, maximumSlew: .partsPerBillion(1_000_000_000)))
        }
        await #expect(processExitsWith: .failure) {
            consume(ClusterClock(anchor: .zero, cluster: .zero, maximumSlew: .partsPerBillion(-1)))
        }
    }

    @Test func reanchoringBackwardsTraps() async {
        await #expect(processExitsWith: .failure) {
            var clock = ClusterClock(anchor: LocalInstant(nanoseconds: 10), cluster: .zero, maximumSlew: .partsPerMillion(10_000))
            clock.applyCorrection(.microseconds(1), at: LocalInstant(nanoseconds: 9))
            consume(clock)
        }
        await #expect(processExitsWith: .failure) {
            var clock = ClusterClock(anchor: LocalInstant(nanoseconds: 10), cluster: .zero, maximumSlew: .partsPerMillion(10_000))
            clock.adjustRate(by: .partsPerMillion(1), at: LocalInstant(nanoseconds: 9))
            consume(clock)
        }
    }
}
