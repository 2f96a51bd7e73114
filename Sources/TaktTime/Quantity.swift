// Parsing of dimensioned numbers ("2.5 ms", "100 ppm", "10 Mbit/s", "64 bytes", "4 rounds"),
// used by the schedule parser.
//
// Conversion is exact integer arithmetic (no Double): the decimal literal is converted to the
// quantity's smallest unit (ns, ppb, bit/s, byte, round) and rejected with `.notWhole` if it is not
// a whole number of that unit, or with `.overflow` if it does not fit in Int64. Parsing runs in time
// linear in the length of the text and never traps, whatever the input (a 10 000-digit number is
// rejected as soon as its integer part exceeds Int64).

/// What a quantity measures.
public enum QuantityKind: String, Sendable {
    /// A duration (`Interval`), smallest unit ns.
    case time
    /// An oscillator drift rate (`DriftRate`), smallest unit ppb.
    case drift
    /// A link bit rate (`Bitrate`), smallest unit bit/s.
    case bitrate
    /// A size (`ByteCount`), smallest unit byte.
    case size
    /// A number of TDMA rounds, smallest unit round.
    case rounds

    /// The name of the smallest unit, the one every value of this kind is a whole number of.
    public var smallestUnit: String {
        switch self {
        case .time: return "ns"
        case .drift: return "ppb"
        case .bitrate: return "bit/s"
        case .size: return "byte"
        case .rounds: return "round"
        }
    }
}

/// Why a number and unit did not parse into a `Quantity`.
public enum QuantityError: Error, Equatable, Sendable {
    /// The number is not `digits[.digits]` (ASCII digits, `_` allowed between two digits).
    case malformedNumber
    /// The unit is not one of the accepted units; carries the unit as written.
    case unknownUnit(String)
    /// The value is not a whole number of the kind's smallest unit (the `String`), e.g. "0.5 ns".
    case notWhole(QuantityKind, String)
    /// The value does not fit in Int64 of the kind's smallest unit.
    case overflow(QuantityKind)

    /// A complete English sentence describing the error, for diagnostics.
    public var message: String {
        switch self {
        case .malformedNumber:
            return "malformed number; expected digits with an optional fractional part, such as 10, 2.5 or 1_000"
        case .unknownUnit(let unit):
            return "unknown unit '\(unit)'; expected one of \(Quantity.acceptedUnitsList)"
        case .notWhole(let kind, let unit):
            return "the \(kind.rawValue) value is not a whole number of \(unit), the smallest \(kind.rawValue) unit"
        case .overflow(let kind):
            return "the \(kind.rawValue) value is too large; it must be at most \(Int64.max) \(kind.smallestUnit)"
        }
    }
}

/// A parsed dimensioned number.
public enum Quantity: Sendable, Equatable, CustomStringConvertible {
    case interval(Interval)
    case drift(DriftRate)
    case bitrate(Bitrate)
    case bytes(ByteCount)
    case rounds(Int64)

    /// What this quantity measures.
    public var kind: QuantityKind {
        switch self {
        case .interval: return .time
        case .drift: return .drift
        case .bitrate: return .bitrate
        case .bytes: return .size
        case .rounds: return .rounds
        }
    }

    /// The value printed with its unit ("2.5 ms", "100 ppm", "4 rounds").
    public var description: String {
        switch self {
        case .interval(let v): return v.description
        case .drift(let v): return v.description
        case .bitrate(let v): return v.description
        case .bytes(let v): return v.description
        case .rounds(let v): return v == 1 ? "1 round" : "\(v) rounds"
        }
    }

    /// The accepted units, each with its kind and size in the kind's smallest unit.
    /// Both micro signs are accepted: U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU.
    static let units: [(name: String, kind: QuantityKind, scale: Int64)] = [
        ("ns", .time, 1), ("us", .time, 1_000), ("\u{00B5}s", .time, 1_000), ("\u{03BC}s", .time, 1_000),
        ("ms", .time, 1_000_000), ("s", .time, 1_000_000_000),
        ("ppm", .drift, 1_000), ("ppb", .drift, 1),
        ("bit/s", .bitrate, 1), ("kbit/s", .bitrate, 1_000), ("Mbit/s", .bitrate, 1_000_000),
        ("Gbit/s", .bitrate, 1_000_000_000),
        ("byte", .size, 1), ("bytes", .size, 1), ("B", .size, 1), ("KiB", .size, 1_024),
        ("round", .rounds, 1), ("rounds", .rounds, 1),
    ]

    /// The units named in the `unknownUnit` message (aliases B and Greek μs are accepted but not listed).
    static let acceptedUnitsList =
        "ns, us, \u{00B5}s, ms, s, ppm, ppb, bit/s, kbit/s, Mbit/s, Gbit/s, byte, bytes, KiB, round, rounds"

    private static func lookUp(_ unit: Substring) -> (kind: QuantityKind, scale: Int64)? {
        for entry in units where entry.name.unicodeScalars.elementsEqual(unit.unicodeScalars) {
            return (entry.kind, entry.scale)
        }
        return nil
    }

    /// The kind a unit measures, or nil if the unit is not accepted. Case-sensitive ("MS" is unknown).
    public static func unitKind(_ unit: Substring) -> QuantityKind? {
        lookUp(unit)?.kind
    }

    /// Parses a decimal literal `number` (`digits[.digits]`, no sign, no exponent, `_` allowed between
    /// two digits) with `unit` into a quantity, exactly. Never traps; linear time.
    ///
    /// Errors, in order of checking: `.malformedNumber`, `.unknownUnit`, `.overflow` (the integer
    /// part alone is too large), `.notWhole`, `.overflow` (the total is too large).
    public static func parse(number: Substring, unit: Substring) -> Result<Quantity, QuantityError> {
        // Syntax: split into integer and fraction digit sequences (ASCII digit values, underscores removed).
        let bytes = Array(number.utf8)
        var integerDigits: [UInt8] = []
        var fractionDigits: [UInt8] = []
        var inFraction = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            if isDigit {
                if inFraction { fractionDigits.append(byte - UInt8(ascii: "0")) } else { integerDigits.append(byte - UInt8(ascii: "0")) }
            } else if byte == UInt8(ascii: "_") {
                // Separator: a digit on each side.
                let digitBefore = index > 0 && bytes[index - 1] >= UInt8(ascii: "0") && bytes[index - 1] <= UInt8(ascii: "9")
                let digitAfter = index + 1 < bytes.count && bytes[index + 1] >= UInt8(ascii: "0") && bytes[index + 1] <= UInt8(ascii: "9")
                guard digitBefore && digitAfter else { return .failure(.malformedNumber) }
            } else if byte == UInt8(ascii: ".") && !inFraction {
                guard !integerDigits.isEmpty else { return .failure(.malformedNumber) }
                inFraction = true
            } else {
                return .failure(.malformedNumber)
            }
            index += 1
        }
        guard !integerDigits.isEmpty, !inFraction || !fractionDigits.isEmpty else { return .failure(.malformedNumber) }

        guard let (kind, scale) = lookUp(unit) else { return .failure(.unknownUnit(String(unit))) }

        // Integer part: stop as soon as it exceeds Int64.max (scale ≥ 1, so the total would too).
        var integerPart: Int64 = 0
        for digit in integerDigits {
            let (times10, overflow1) = integerPart.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(digit))
            if overflow1 || overflow2 { return .failure(.overflow(kind)) }
            integerPart = sum
        }

        // Fraction: trailing zeros do not change the value. After removing them the last digit is
        // non-zero, so the fraction F/10^m has 2∤F or 5∤F; scale·F/10^m is then whole only if 2^m or
        // 5^m divides scale ≤ 10^9 (or 2^10 for KiB), i.e. m ≤ 10. Longer fractions are never whole.
        while let last = fractionDigits.last, last == 0 { fractionDigits.removeLast() }
        var fractionValue: Int128 = 0
        if !fractionDigits.isEmpty {
            guard fractionDigits.count <= 18 else { return .failure(.notWhole(kind, kind.smallestUnit)) }
            var numerator: Int128 = 0  // < 10^18
            var denominator: Int128 = 1  // ≤ 10^18
            for digit in fractionDigits {
                numerator = numerator * 10 + Int128(digit)
                denominator *= 10
            }
            let scaled = numerator * Int128(scale)  // < 10^18 · 10^9, fits in Int128
            guard scaled % denominator == 0 else { return .failure(.notWhole(kind, kind.smallestUnit)) }
            fractionValue = scaled / denominator
        }

        // integerPart·scale < 2^63·2^30, fits in Int128.
        let total = Int128(integerPart) * Int128(scale) + fractionValue
        guard total <= Int128(Int64.max) else { return .failure(.overflow(kind)) }
        let value = Int64(total)
        switch kind {
        case .time: return .success(.interval(Interval(nanoseconds: value)))
        case .drift: return .success(.drift(DriftRate(partsPerBillion: value)))
        case .bitrate: return .success(.bitrate(Bitrate(bitsPerSecond: value)))
        case .size: return .success(.bytes(ByteCount(bytes: value)))
        case .rounds: return .success(.rounds(value))
        }
    }
}
