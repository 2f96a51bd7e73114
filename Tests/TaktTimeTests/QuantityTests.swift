import Testing
import TaktTestSupport
@testable import TaktTime

private func parse(_ number: String, _ unit: String) -> Result<Quantity, QuantityError> {
    Quantity.parse(number: Substring(number), unit: Substring(unit))
}

@Suite(.hostShared) struct QuantityTests {
    @Test(arguments: [
        ("7", "ns", Quantity.interval(.nanoseconds(7))),
        ("3", "us", .interval(.microseconds(3))),
        ("3", "\u{00B5}s", .interval(.microseconds(3))),  // MICRO SIGN
        ("3", "\u{03BC}s", .interval(.microseconds(3))),  // GREEK SMALL LETTER MU
        ("2.5", "ms", .interval(.nanoseconds(2_500_000))),
        ("1", "s", .interval(.seconds(1))),
        ("0.000000001", "s", .interval(.nanoseconds(1))),
        ("100", "ppm", .drift(.partsPerMillion(100))),
        ("0.5", "ppm", .drift(DriftRate(partsPerBillion: 500))),
        ("250", "ppb", .drift(DriftRate(partsPerBillion: 250))),
        ("9600", "bit/s", .bitrate(Bitrate(bitsPerSecond: 9_600))),
        ("500", "kbit/s", .bitrate(.kilobitsPerSecond(500))),
        ("10", "Mbit/s", .bitrate(.megabitsPerSecond(10))),
        ("1.25", "Gbit/s", .bitrate(Bitrate(bitsPerSecond: 1_250_000_000))),
        ("1", "byte", .bytes(.bytes(1))),
        ("64", "bytes", .bytes(.bytes(64))),
        ("64", "B", .bytes(.bytes(64))),
        ("2", "KiB", .bytes(.bytes(2_048))),
        ("0.5", "KiB", .bytes(.bytes(512))),
        ("0.0009765625", "KiB", .bytes(.bytes(1))),  // 1/1024 KiB: 10 fractional digits, exact
        ("1", "round", .rounds(1)),
        ("4", "rounds", .rounds(4)),
        ("1_000", "us", .interval(.milliseconds(1))),
        ("1_000.000_5", "ms", .interval(.nanoseconds(1_000_000_500))),
        ("0", "s", .interval(.zero)),
        ("007", "ns", .interval(.nanoseconds(7))),
        ("2.50000000000000000000000000000", "ms", .interval(.nanoseconds(2_500_000))),  // trailing zeros are exact
        ("9223372036854775807", "ns", .interval(.max)),
        ("9223372036.854775807", "s", .interval(.max)),
        ("9223372036854775807", "bytes", .bytes(.bytes(.max))),
    ])
    func parsesEveryUnit(_ number: String, _ unit: String, _ expected: Quantity) {
        #expect(parse(number, unit) == .success(expected))
    }

    @Test func unitKinds() {
        let expected: [(String, QuantityKind)] = [
            ("ns", .time), ("us", .time), ("\u{00B5}s", .time), ("\u{03BC}s", .time), ("ms", .time), ("s", .time),
            ("ppm", .drift), ("ppb", .drift),
            ("bit/s", .bitrate), ("kbit/s", .bitrate), ("Mbit/s", .bitrate), ("Gbit/s", .bitrate),
            ("byte", .size), ("bytes", .size), ("B", .size), ("KiB", .size),
            ("round", .rounds), ("rounds", .rounds),
        ]
        for (unit, kind) in expected {
            #expect(Quantity.unitKind(Substring(unit)) == kind, "\(unit)")
        }
        for unit in ["bps", "msec", "MS", "Ms", "kB", "kib", "mbit/s", "sec", "", " ms", "ms ", "u s", "\u{03BC}", "\u{00B5}"] {
            #expect(Quantity.unitKind(Substring(unit)) == nil, "\(unit)")
        }
        #expect(Quantity.interval(.zero).kind == .time)
        #expect(Quantity.drift(.zero).kind == .drift)
        #expect(Quantity.bitrate(.bitsPerSecond(1)).kind == .bitrate)
        #expect(Quantity.bytes(.zero).kind == .size)
        #expect(Quantity.rounds(3).kind == .rounds)
        #expect(Quantity.rounds(3).description == "3 rounds")
        #expect(Quantity.rounds(1).description == "1 round")
    }

    @Test func notWhole() {
        #expect(parse("0.5", "ns") == .failure(.notWhole(.time, "ns")))
        #expect(parse("1.0001", "us") == .failure(.notWhole(.time, "ns")))
        #expect(parse("0.0000000001", "s") == .failure(.notWhole(.time, "ns")))
        #expect(parse("0.0005", "ppm") == .failure(.notWhole(.drift, "ppb")))
        #expect(parse("1.5", "bit/s") == .failure(.notWhole(.bitrate, "bit/s")))
        #expect(parse("0.5", "byte") == .failure(.notWhole(.size, "byte")))
        #expect(parse("0.1", "KiB") == .failure(.notWhole(.size, "byte")))
        #expect(parse("1.5", "rounds") == .failure(.notWhole(.rounds, "round")))
        // Long fractions are rejected without big-number arithmetic.
        let longFraction = "1." + String(repeating: "0", count: 9_998) + "1"
        #expect(parse(longFraction, "s") == .failure(.notWhole(.time, "ns")))
        #expect(parse("0.0000000000000000005", "s") == .failure(.notWhole(.time, "ns")))
    }

    @Test func overflow() {
        #expect(parse("9223372036854775808", "ns") == .failure(.overflow(.time)))
        #expect(parse("9223372036.854775808", "s") == .failure(.overflow(.time)))
        #expect(parse("9223372037", "s") == .failure(.overflow(.time)))
        #expect(parse("9223372036854775807", "ppm") == .failure(.overflow(.drift)))
        #expect(parse("9223372036854775808", "bit/s") == .failure(.overflow(.bitrate)))
        #expect(parse("9007199254740992", "KiB") == .failure(.overflow(.size)))
        #expect(parse("9007199254740991", "KiB") == .success(.bytes(.bytes(9_223_372_036_854_774_784))))
        #expect(parse("99999999999999999999", "rounds") == .failure(.overflow(.rounds)))
        // A 10,000-digit number returns quickly, never traps.
        let huge = String(repeating: "9", count: 10_000)
        #expect(parse(huge, "ns") == .failure(.overflow(.time)))
        #expect(parse(huge + "." + huge, "s") == .failure(.overflow(.time)))
        #expect(parse(String(repeating: "1_0", count: 5_000), "bytes") == .failure(.overflow(.size)))
        // Leading zeros are not overflow.
        #expect(parse(String(repeating: "0", count: 10_000) + "5", "ms") == .success(.interval(.milliseconds(5))))
    }

    @Test func malformed() {
        for number in ["", ".", "1.", ".5", "-1", "+1", "1e3", "1.2.3", "_1", "1_", "1__0", "1_.5", "1._5",
                       "0x10", " 1", "1 ", "1,5", "١", "1.5_"] {
            #expect(parse(number, "ms") == .failure(.malformedNumber), "\(number)")
        }
        // The number is checked before the unit.
        #expect(parse("x", "msec") == .failure(.malformedNumber))
        #expect(parse("1", "msec") == .failure(.unknownUnit("msec")))
        #expect(parse("1", "bps") == .failure(.unknownUnit("bps")))
    }

    @Test func messages() {
        #expect(QuantityError.unknownUnit("msec").message
            == "unknown unit 'msec'; expected one of ns, us, \u{00B5}s, ms, s, ppm, ppb, bit/s, kbit/s, Mbit/s, Gbit/s, byte, bytes, KiB, round, rounds")
        #expect(QuantityError.notWhole(.time, "ns").message == "the time value is not a whole number of ns, the smallest time unit")
        #expect(QuantityError.overflow(.size).message == "the size value is too large; it must be at most 9223372036854775807 byte")
        #expect(QuantityError.malformedNumber.message.hasPrefix("malformed number"))
    }

    /// For every Interval v, parsing the two halves of v.description gives v back. The parser takes no
    /// sign, so a leading "-" is removed and the result negated; `Interval.min`'s magnitude is not an
    /// Int64 and reports overflow.
    @Test func descriptionRoundTrips() {
        var rng = SplitMix64(seed: 0x7A4B_7_2024)
        var values: [Int64] = [0, 1, -1, 7, 999, 1_000, 1_001, 999_999, 1_000_000, 1_000_001, 2_500_000, 1_234_567,
                               3_000_000_000, .max, .max - 1, .min + 1, -1_500]
        let powersOfTen: [Int64] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
                                    1_000_000_000, 10_000_000_000, 100_000_000_000, 1_000_000_000_000]
        for _ in 0..<100_000 {
            let raw = Int64(bitPattern: rng.next())
            switch rng.next() % 3 {
            case 0: values.append(raw)  // full range
            case 1: values.append(raw % 10_000_000)  // small, mostly us/ns
            default:  // round numbers in every unit, e.g. 2_500 · 10^6
                let mantissa = raw % 100_000
                values.append(mantissa.saturatingMultiplied(by: powersOfTen[Int(rng.next() % UInt64(powersOfTen.count))]))
            }
        }
        var units: [String: Int] = [:]
        for v in values {
            let text = Interval(nanoseconds: v).description
            let halves = text.split(separator: " ")
            #expect(halves.count == 2)
            units[String(halves[1]), default: 0] += 1
            let negative = halves[0].hasPrefix("-")
            let number = negative ? halves[0].dropFirst() : halves[0]
            guard case .success(.interval(let parsed)) = Quantity.parse(number: number, unit: halves[1]) else {
                Issue.record("\(v): '\(text)' does not parse")
                continue
            }
            #expect((negative ? -parsed : parsed) == Interval(nanoseconds: v), "\(v) printed as '\(text)'")
            // At most 3 fractional digits.
            if let point = number.firstIndex(of: ".") {
                #expect(number.distance(from: point, to: number.endIndex) - 1 <= 3)
            }
        }
        #expect(Quantity.parse(number: "9223372036854775.808", unit: "us") == .failure(.overflow(.time)))
        #expect(Interval.min.description == "-9223372036854775.808 us")
        // Every unit occurs.
        #expect(Set(units.keys) == ["ns", "us", "ms", "s"])
    }

    @Test func otherDescriptionsRoundTrip() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<10_000 {
            let magnitude = Int64(bitPattern: rng.next() >> 1) >> Int64(rng.next() % 63)
            let drift = DriftRate(partsPerBillion: magnitude)
            let rate = Bitrate(bitsPerSecond: magnitude % 1_000 == 0 ? magnitude : magnitude / 1_000 * 1_000)
            let size = ByteCount(bytes: magnitude)
            for (text, expected) in [(drift.description, Quantity.drift(drift)), (rate.description, .bitrate(rate)),
                                     (size.description, .bytes(size))] {
                let halves = text.split(separator: " ")
                #expect(Quantity.parse(number: halves[0], unit: halves[1]) == .success(expected), "\(text)")
            }
        }
    }
}

extension Int64 {
    fileprivate func saturatingMultiplied(by other: Int64) -> Int64 {
        let (value, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : value
    }
}
