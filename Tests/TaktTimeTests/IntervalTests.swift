import Testing
import TaktTestSupport
@testable import TaktTime

// Mixing frames of reference must not compile. Each of these lines, uncommented, is a type error
// (checked by hand when writing this file; there is no compile-failure test harness in SwiftPM):
//   _ = LocalInstant.zero - ClusterInstant.zero          // no `-` (LocalInstant, ClusterInstant)
//   _ = LocalInstant.zero < ClusterInstant.zero          // no `<` across frames
//   let l: LocalInstant = ClusterInstant.zero + .zero     // a ClusterInstant is not a LocalInstant
//   _ = LocalInstant.zero + (ClusterInstant.zero - ClusterInstant.zero) + LocalInstant.zero // no instant + instant
//   _ = Interval.zero + 5                                // no bare integers as durations

@Suite(.hostShared) struct IntervalTests {
    @Test func constructorsAndConstants() {
        #expect(Interval.nanoseconds(7).nanoseconds == 7)
        #expect(Interval.microseconds(3).nanoseconds == 3_000)
        #expect(Interval.milliseconds(-3).nanoseconds == -3_000_000)
        #expect(Interval.seconds(2).nanoseconds == 2_000_000_000)
        #expect(Interval(nanoseconds: 5) == .nanoseconds(5))
        #expect(Interval.zero.nanoseconds == 0)
        #expect(Interval.max.nanoseconds == Int64.max)
        #expect(Interval.min.nanoseconds == Int64.min)
        #expect(Interval.seconds(9_223_372_036) < Interval.max)
        #expect(Interval.milliseconds(1) > Interval.microseconds(999))
        #expect(TimeUnit.allCases.map(\.nanosecondsPerUnit) == [1, 1_000, 1_000_000, 1_000_000_000])
        #expect(TimeUnit.allCases.map(\.rawValue) == ["ns", "us", "ms", "s"])
    }

    @Test func trappingOperatorsInRange() {
        let a = Interval.microseconds(10)
        let b = Interval.nanoseconds(-3)
        #expect((a + b).nanoseconds == 9_997)
        #expect((a - b).nanoseconds == 10_003)
        #expect((-a).nanoseconds == -10_000)
        #expect((a * 3).nanoseconds == 30_000)
        #expect((3 * a).nanoseconds == 30_000)
        #expect((Interval.nanoseconds(-7) / 2).nanoseconds == -3)  // truncating
        #expect(Interval.nanoseconds(-7) / Interval.nanoseconds(2) == -3)
        #expect(Interval.milliseconds(10) / Interval.microseconds(3) == 3_333)
        #expect((Interval.nanoseconds(-7) % Interval.nanoseconds(2)).nanoseconds == -1)
        var c = Interval.zero
        c += a
        c -= b
        c *= 2
        #expect(c.nanoseconds == 20_006)
        #expect((Interval.max + Interval.min).nanoseconds == -1)
        #expect((Interval.min / 1) == .min)
    }

    @Test func reportingOverflow() {
        let sum = Interval.max.addingReportingOverflow(.nanoseconds(1))
        #expect(sum.overflow && sum.partialValue == .min)
        let ok = Interval.max.addingReportingOverflow(.nanoseconds(-1))
        #expect(!ok.overflow && ok.partialValue.nanoseconds == Int64.max - 1)
        let low = Interval.min.addingReportingOverflow(.nanoseconds(-1))
        #expect(low.overflow && low.partialValue == .max)
        let diff = Interval.min.subtractingReportingOverflow(.nanoseconds(1))
        #expect(diff.overflow && diff.partialValue == .max)
        let product = Interval.seconds(10).multipliedReportingOverflow(by: 1_000_000_000)
        #expect(product.overflow)
        let fine = Interval.seconds(10).multipliedReportingOverflow(by: 1_000)
        #expect(!fine.overflow && fine.partialValue == .seconds(10_000))
        #expect(Interval.min.multipliedReportingOverflow(by: -1).overflow)
    }

    @Test func saturation() {
        #expect(Interval.max.saturatingAdd(.nanoseconds(1)) == .max)
        #expect(Interval.max.saturatingAdd(.max) == .max)
        #expect(Interval.min.saturatingAdd(.nanoseconds(-1)) == .min)
        #expect(Interval.min.saturatingAdd(.min) == .min)
        #expect(Interval.max.saturatingAdd(.min).nanoseconds == -1)
        #expect(Interval.seconds(5).saturatingAdd(.seconds(-7)) == .seconds(-2))
        #expect(Interval.seconds(5).saturatingMultiply(by: Int64.max) == .max)
        #expect(Interval.seconds(-5).saturatingMultiply(by: Int64.max) == .min)
        #expect(Interval.seconds(5).saturatingMultiply(by: Int64.min) == .min)
        #expect(Interval.seconds(-5).saturatingMultiply(by: Int64.min) == .max)
        #expect(Interval.min.saturatingMultiply(by: -1) == .max)
        #expect(Interval.seconds(5).saturatingMultiply(by: -3) == .seconds(-15))
        #expect(Interval.min.magnitude == .max)
        #expect(Interval.nanoseconds(-5).magnitude == .nanoseconds(5))
        #expect(Interval.nanoseconds(5).magnitude == .nanoseconds(5))
        #expect(Interval.zero.magnitude == .zero)
    }

    @Test(arguments: [
        (Int64(2_500_000), "2.5 ms"), (1_234_567, "1234.567 us"), (7, "7 ns"), (0, "0 ns"),
        (3_000_000_000, "3 s"), (-1_500, "-1.5 us"), (1_000_001, "1000.001 us"), (999, "999 ns"),
        (1_000, "1 us"), (500_000, "500 us"), (1_500_000_000, "1.5 s"), (1_001_000_000, "1.001 s"),
        (1_000_100_000, "1000.1 ms"), (-7, "-7 ns"), (10_000_000, "10 ms"),
        (Int64.max, "9223372036854775.807 us"), (Int64.min, "-9223372036854775.808 us"),
    ])
    func description(_ nanoseconds: Int64, _ expected: String) {
        #expect(Interval(nanoseconds: nanoseconds).description == expected)
    }

    @Test func formatted() {
        #expect(Interval.microseconds(1_500).formatted(fractionDigits: 3, unit: .ms) == "1.500 ms")
        #expect(Interval.nanoseconds(1_500).formatted(fractionDigits: 0, unit: .us) == "2 us")  // half away from zero
        #expect(Interval.nanoseconds(-1_500).formatted(fractionDigits: 0, unit: .us) == "-2 us")
        #expect(Interval.nanoseconds(1_499).formatted(fractionDigits: 0, unit: .us) == "1 us")
        #expect(Interval.nanoseconds(-1_499).formatted(fractionDigits: 0, unit: .us) == "-1 us")
        #expect(Interval.nanoseconds(-400).formatted(fractionDigits: 0, unit: .us) == "0 us")
        #expect(Interval.nanoseconds(1_234_567).formatted(fractionDigits: 2, unit: .ms) == "1.23 ms")
        #expect(Interval.nanoseconds(1_235_000).formatted(fractionDigits: 2, unit: .ms) == "1.24 ms")
        #expect(Interval.nanoseconds(7).formatted(fractionDigits: 2, unit: .ns) == "7.00 ns")
        #expect(Interval.nanoseconds(7).formatted(fractionDigits: 12, unit: .s) == "0.000000007000 s")
        #expect(Interval.zero.formatted(fractionDigits: 1, unit: .s) == "0.0 s")
        #expect(Interval.max.formatted(fractionDigits: 0, unit: .s) == "9223372037 s")
        #expect(Interval.min.formatted(fractionDigits: 9, unit: .s) == "-9223372036.854775808 s")
        #expect(Interval.min.formatted(fractionDigits: 0, unit: .ns) == "-9223372036854775808 ns")
        #expect(Interval.min.formatted(fractionDigits: 3, unit: .ms) == "-9223372036854.776 ms")
    }

    @Test func instants() {
        let t = LocalInstant(nanoseconds: 1_000)
        #expect((t + .microseconds(1)).nanoseconds == 2_000)
        #expect((t - .microseconds(2)).nanoseconds == -1_000)
        #expect(LocalInstant(nanoseconds: 5) - LocalInstant(nanoseconds: 8) == .nanoseconds(-3))
        #expect(t.advanced(by: .nanoseconds(5)) == LocalInstant(nanoseconds: 1_005))
        #expect(t.distance(to: .zero) == .nanoseconds(-1_000))
        #expect(t.addingReportingOverflow(.max).overflow)
        #expect(!t.addingReportingOverflow(.nanoseconds(-1)).overflow)
        #expect(LocalInstant(nanoseconds: 2_500_000).description == "@2.5 ms")
        #expect(LocalInstant.zero < t)
        var u = t
        u += .nanoseconds(1)
        u -= .nanoseconds(2)
        #expect(u.nanoseconds == 999)

        let c = ClusterInstant(nanoseconds: 1_000)
        #expect((c + .microseconds(1)).nanoseconds == 2_000)
        #expect((c - .microseconds(2)).nanoseconds == -1_000)
        #expect(ClusterInstant(nanoseconds: 5) - ClusterInstant(nanoseconds: 8) == .nanoseconds(-3))
        #expect(c.advanced(by: .nanoseconds(5)) == ClusterInstant(nanoseconds: 1_005))
        #expect(c.distance(to: .zero) == .nanoseconds(-1_000))
        let wrapped = ClusterInstant(nanoseconds: .min).addingReportingOverflow(.nanoseconds(-1))
        #expect(wrapped.overflow && wrapped.partialValue.nanoseconds == .max)
        #expect(ClusterInstant(nanoseconds: -1_500).description == "@-1.5 us")
        #expect(ClusterInstant.zero.description == "@0 ns")
        var d = c
        d += .nanoseconds(1)
        d -= .nanoseconds(2)
        #expect(d.nanoseconds == 999)
    }

    @Test func ratesAndSizes() {
        #expect(DriftRate.partsPerMillion(100).partsPerBillion == 100_000)
        #expect(DriftRate.partsPerMillion(100).description == "100 ppm")
        #expect(DriftRate(partsPerBillion: 500).description == "0.5 ppm")
        #expect(DriftRate(partsPerBillion: -1).description == "-0.001 ppm")
        #expect(DriftRate.zero.description == "0 ppm")
        #expect(DriftRate.partsPerMillion(1) < .partsPerMillion(2))
        // |ρ|·interval, rounded up.
        #expect(DriftRate.partsPerMillion(100).driftOver(.milliseconds(10)) == .microseconds(1))
        #expect(DriftRate.partsPerMillion(-100).driftOver(.milliseconds(10)) == .microseconds(1))
        #expect(DriftRate(partsPerBillion: 1).driftOver(.nanoseconds(1)) == .nanoseconds(1))
        #expect(DriftRate(partsPerBillion: 1).driftOver(.nanoseconds(-1)) == .zero)
        #expect(DriftRate.zero.driftOver(.max) == .zero)
        // No overflow for any interval up to Int64.max: 9223372036854775807 · 10^-4 = 922337203685477.5807.
        #expect(DriftRate.partsPerMillion(100).driftOver(.max) == .nanoseconds(922_337_203_685_478))
        #expect(DriftRate(partsPerBillion: 1_000_000_000).driftOver(.max) == .max)
        #expect(DriftRate(partsPerBillion: .max).driftOver(.max) == .max)  // saturates
        #expect(DriftRate(partsPerBillion: .min).driftOver(.min) == .min)  // saturates

        #expect(Bitrate.megabitsPerSecond(10).description == "10 Mbit/s")
        #expect(Bitrate.kilobitsPerSecond(500).description == "500 kbit/s")
        #expect(Bitrate(bitsPerSecond: 9_600).description == "9600 bit/s")
        #expect(Bitrate.gigabitsPerSecond(1).description == "1 Gbit/s")
        #expect(Bitrate(bitsPerSecond: 1_500_000).description == "1500 kbit/s")
        #expect(Bitrate(bitsPerSecond: 0).description == "0 bit/s")
        #expect(Bitrate.bitsPerSecond(1) < .kilobitsPerSecond(1))
        #expect(Bitrate.megabitsPerSecond(10).transmissionTime(bits: 1) == .nanoseconds(100))
        #expect(Bitrate(bitsPerSecond: 3).transmissionTime(bits: 1) == .nanoseconds(333_333_334))  // ceil
        #expect(Bitrate.megabitsPerSecond(100).transmissionTime(bytes: .bytes(1_500)) == .microseconds(120))
        #expect(Bitrate.megabitsPerSecond(10).transmissionTime(bits: 0) == .zero)
        #expect(Bitrate(bitsPerSecond: 0).transmissionTime(bits: 1) == nil)
        #expect(Bitrate(bitsPerSecond: -5).transmissionTime(bits: 1) == nil)
        #expect(Bitrate.megabitsPerSecond(10).transmissionTime(bits: -1) == nil)
        #expect(Bitrate(bitsPerSecond: 1).transmissionTime(bits: 9_223_372_036) == .seconds(9_223_372_036))
        #expect(Bitrate(bitsPerSecond: 1).transmissionTime(bits: 9_223_372_037) == nil)  // overflow
        #expect(Bitrate(bitsPerSecond: 1).transmissionTime(bits: .max) == nil)
        #expect(Bitrate(bitsPerSecond: .max).transmissionTime(bits: .max) == .seconds(1))
        #expect(Bitrate.gigabitsPerSecond(1).transmissionTime(bytes: .bytes(.max)) == nil)  // bits overflow

        #expect(ByteCount.bytes(64).description == "64 bytes")
        #expect(ByteCount(bytes: 1).description == "1 byte")
        #expect(ByteCount.zero.description == "0 bytes")
        #expect(ByteCount.kibibytes(2).bytes == 2_048)
        #expect(ByteCount.bytes(64).bits == 512)
        #expect(ByteCount.bytes(1) < .bytes(2))
    }
}

/// Consumes `value` through a side effect that depends on it, so that an optimized build (`swift test
/// -c release`) cannot drop the unused, trapping computation that produced it.
@inline(never) func use<T>(_ value: T) {
    if "\(value)".isEmpty { print("unreachable") }
}

/// Operations documented to TRAP, checked with Swift Testing exit tests (supported on Linux since
/// Swift 6.2; this toolchain is 6.3.1). Each runs in a child process and must crash.
@Suite(.hostShared) struct TrapTests {
    @Test func intervalAdditionOverflowTraps() async {
        await #expect(processExitsWith: .failure) { use(Interval.max + .nanoseconds(1)) }
        await #expect(processExitsWith: .failure) { use(Interval.min - .nanoseconds(1)) }
        await #expect(processExitsWith: .failure) { var v = Interval.max; v += .nanoseconds(1); use(v) }
    }

    @Test func intervalNegationOfMinTraps() async {
        await #expect(processExitsWith: .failure) { use(-Interval.min) }
    }

    @Test func intervalMultiplicationOverflowTraps() async {
        await #expect(processExitsWith: .failure) { use(Interval.max * 2) }
        await #expect(processExitsWith: .failure) { use(Int64(2) * Interval.min) }
    }

    @Test func intervalDivisionTraps() async {
        await #expect(processExitsWith: .failure) { use(Interval.min / -1) }
        await #expect(processExitsWith: .failure) { use(Interval.seconds(1) / Int64(0)) }
        await #expect(processExitsWith: .failure) { use(Interval.seconds(1) / Interval.zero) }
        await #expect(processExitsWith: .failure) { use(Interval.seconds(1) % Interval.zero) }
    }

    @Test func intervalConstructorOverflowTraps() async {
        await #expect(processExitsWith: .failure) { use(Interval.seconds(9_223_372_037)) }
        await #expect(processExitsWith: .failure) { use(Interval.milliseconds(Int64.min)) }
        await #expect(processExitsWith: .failure) { use(Interval.microseconds(Int64.max)) }
    }

    @Test func instantOverflowTraps() async {
        await #expect(processExitsWith: .failure) { use(LocalInstant(nanoseconds: .max) + .nanoseconds(1)) }
        await #expect(processExitsWith: .failure) { use(ClusterInstant(nanoseconds: .min) - .nanoseconds(1)) }
        await #expect(processExitsWith: .failure) { use(ClusterInstant(nanoseconds: .max) - ClusterInstant(nanoseconds: -1)) }
        await #expect(processExitsWith: .failure) { use(LocalInstant(nanoseconds: .min).distance(to: LocalInstant(nanoseconds: 1))) }
    }

    @Test func unitConstructorOverflowTraps() async {
        await #expect(processExitsWith: .failure) { use(ByteCount(bytes: .max).bits) }
        await #expect(processExitsWith: .failure) { use(DriftRate.partsPerMillion(.max)) }
        await #expect(processExitsWith: .failure) { use(Bitrate.gigabitsPerSecond(.max)) }
    }

    @Test func integerMathTraps() async {
        await #expect(processExitsWith: .failure) { use(IntegerMath.floorDivide(.min, -1)) }
        await #expect(processExitsWith: .failure) { use(IntegerMath.ceilDivide(1, 0)) }
        await #expect(processExitsWith: .failure) { use(IntegerMath.floorMod(1, 0)) }
        await #expect(processExitsWith: .failure) { use(IntegerMath.gcd(.min, 0)) }
    }

    @Test func preconditionsTrap() async {
        await #expect(processExitsWith: .failure) { use(Convergence.correction(.faultTolerantAverage, of: [.zero], discarding: -1)) }
        await #expect(processExitsWith: .failure) { use(Interval.zero.formatted(fractionDigits: -1, unit: .ms)) }
        await #expect(processExitsWith: .failure) { use(PrecisionBound.lowerBound(readingError: .zero, clocks: 0)) }
    }
}
