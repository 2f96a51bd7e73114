// Interval: a signed duration in integer nanoseconds.
//
// Time in Takt is a value type with a unit and a frame of reference (STYLE.md rule 1). An `Interval`
// has no frame of reference: it is the difference of two instants of the same frame
// (`LocalInstant`, `ClusterInstant`) or a configured duration (slot length, round, ε, R).
//
// Overflow policy, stated once and repeated on every operation:
// - The operators (`+`, `-`, `*`, `/`, `%`) and the static constructors TRAP on overflow, as the
//   stdlib integer operators do: an overflowing duration is a programmer error.
// - `addingReportingOverflow(_:)` and `multipliedReportingOverflow(by:)` report overflow and return
//   the wrapped value, like the stdlib methods of the same names.
// - `saturatingAdd(_:)`, `saturatingMultiply(by:)` and `magnitude` clamp to `Interval.min`/`.max`.

/// The units in which Takt prints and parses durations.
///
/// `nanosecondsPerUnit` is exact: 1 ns, 1 000 ns, 1 000 000 ns, 1 000 000 000 ns.
public enum TimeUnit: String, CaseIterable, Sendable {
    case ns, us, ms, s

    /// How many nanoseconds one of this unit is (exact, a power of ten).
    public var nanosecondsPerUnit: Int64 {
        switch self {
        case .ns: return 1
        case .us: return 1_000
        case .ms: return 1_000_000
        case .s: return 1_000_000_000
        }
    }

    /// log10(nanosecondsPerUnit): the number of decimal digits one nanosecond needs in this unit.
    var decimalExponent: Int {
        switch self {
        case .ns: return 0
        case .us: return 3
        case .ms: return 6
        case .s: return 9
        }
    }
}

/// A signed duration, stored as integer nanoseconds (unit: ns; range ±292 years).
///
/// Arithmetic operators and static constructors TRAP on overflow (programmer error);
/// `addingReportingOverflow`/`multipliedReportingOverflow` report it; `saturatingAdd`,
/// `saturatingMultiply` and `magnitude` SATURATE at `Interval.min`/`Interval.max`.
public struct Interval: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The duration in nanoseconds.
    public var nanoseconds: Int64

    /// A duration of `nanoseconds` ns. Never traps.
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// `v` nanoseconds. Never traps.
    public static func nanoseconds(_ v: Int64) -> Interval { Interval(nanoseconds: v) }
    /// `v` microseconds. TRAPS if `v`·10³ ns does not fit in Int64.
    public static func microseconds(_ v: Int64) -> Interval { Interval(nanoseconds: v * 1_000) }
    /// `v` milliseconds. TRAPS if `v`·10⁶ ns does not fit in Int64.
    public static func milliseconds(_ v: Int64) -> Interval { Interval(nanoseconds: v * 1_000_000) }
    /// `v` seconds. TRAPS if `v`·10⁹ ns does not fit in Int64.
    public static func seconds(_ v: Int64) -> Interval { Interval(nanoseconds: v * 1_000_000_000) }

    /// 0 ns.
    public static let zero = Interval(nanoseconds: 0)
    /// Int64.max ns (about 292 years).
    public static let max = Interval(nanoseconds: .max)
    /// Int64.min ns (about −292 years). Note `-Interval.min` traps; `Interval.min.magnitude` saturates.
    public static let min = Interval(nanoseconds: .min)

    public static func < (lhs: Interval, rhs: Interval) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    // MARK: Trapping arithmetic

    /// Sum. TRAPS on overflow.
    public static func + (lhs: Interval, rhs: Interval) -> Interval {
        Interval(nanoseconds: lhs.nanoseconds + rhs.nanoseconds)
    }
    /// Difference. TRAPS on overflow.
    public static func - (lhs: Interval, rhs: Interval) -> Interval {
        Interval(nanoseconds: lhs.nanoseconds - rhs.nanoseconds)
    }
    /// Negation. TRAPS for `Interval.min`.
    public static prefix func - (operand: Interval) -> Interval {
        Interval(nanoseconds: -operand.nanoseconds)
    }
    /// Scaling. TRAPS on overflow.
    public static func * (lhs: Interval, rhs: Int64) -> Interval {
        Interval(nanoseconds: lhs.nanoseconds * rhs)
    }
    /// Scaling. TRAPS on overflow.
    public static func * (lhs: Int64, rhs: Interval) -> Interval {
        Interval(nanoseconds: lhs * rhs.nanoseconds)
    }
    /// Division truncating toward zero. TRAPS when `rhs` is 0 or for `Interval.min / -1`.
    public static func / (lhs: Interval, rhs: Int64) -> Interval {
        Interval(nanoseconds: lhs.nanoseconds / rhs)
    }
    /// How many whole `rhs` fit in `lhs`, truncated toward zero. TRAPS when `rhs` is zero or for
    /// `Interval.min / .nanoseconds(-1)`.
    public static func / (lhs: Interval, rhs: Interval) -> Int64 {
        lhs.nanoseconds / rhs.nanoseconds
    }
    /// Remainder of the truncating division (sign of `lhs`, as Swift's `%`). TRAPS when `rhs` is
    /// zero or for `Interval.min % .nanoseconds(-1)`. Use `IntegerMath.floorMod` for a
    /// non-negative remainder.
    public static func % (lhs: Interval, rhs: Interval) -> Interval {
        Interval(nanoseconds: lhs.nanoseconds % rhs.nanoseconds)
    }

    /// `lhs = lhs + rhs`. TRAPS on overflow.
    public static func += (lhs: inout Interval, rhs: Interval) { lhs = lhs + rhs }
    /// `lhs = lhs - rhs`. TRAPS on overflow.
    public static func -= (lhs: inout Interval, rhs: Interval) { lhs = lhs - rhs }
    /// `lhs = lhs * rhs`. TRAPS on overflow.
    public static func *= (lhs: inout Interval, rhs: Int64) { lhs = lhs * rhs }

    // MARK: Reporting and saturating arithmetic

    /// Sum with overflow reported; `partialValue` wraps around. Never traps.
    public func addingReportingOverflow(_ other: Interval) -> (partialValue: Interval, overflow: Bool) {
        let (value, overflow) = nanoseconds.addingReportingOverflow(other.nanoseconds)
        return (Interval(nanoseconds: value), overflow)
    }

    /// Difference with overflow reported; `partialValue` wraps around. Never traps.
    public func subtractingReportingOverflow(_ other: Interval) -> (partialValue: Interval, overflow: Bool) {
        let (value, overflow) = nanoseconds.subtractingReportingOverflow(other.nanoseconds)
        return (Interval(nanoseconds: value), overflow)
    }

    /// Product with overflow reported; `partialValue` wraps around. Never traps.
    public func multipliedReportingOverflow(by factor: Int64) -> (partialValue: Interval, overflow: Bool) {
        let (value, overflow) = nanoseconds.multipliedReportingOverflow(by: factor)
        return (Interval(nanoseconds: value), overflow)
    }

    /// Sum clamped to `[Interval.min, Interval.max]`. SATURATES, never traps.
    public func saturatingAdd(_ other: Interval) -> Interval {
        let (value, overflow) = nanoseconds.addingReportingOverflow(other.nanoseconds)
        if !overflow { return Interval(nanoseconds: value) }
        // Overflow is only possible when both operands have the same sign.
        return other.nanoseconds < 0 ? .min : .max
    }

    /// Product clamped to `[Interval.min, Interval.max]`. SATURATES, never traps.
    public func saturatingMultiply(by factor: Int64) -> Interval {
        let (value, overflow) = nanoseconds.multipliedReportingOverflow(by: factor)
        if !overflow { return Interval(nanoseconds: value) }
        return (nanoseconds < 0) == (factor < 0) ? .max : .min
    }

    /// |self|. SATURATES: `Interval.min.magnitude == Interval.max` (1 ns short of the true value).
    public var magnitude: Interval {
        if nanoseconds == .min { return .max }
        return Interval(nanoseconds: nanoseconds < 0 ? -nanoseconds : nanoseconds)
    }

    // MARK: Printing

    /// The value, printed exactly, in the largest of s, ms, us, ns of which it is at least one
    /// whole unit and in which it needs at most 3 fractional digits; trailing zeros trimmed.
    /// `2_500_000` → "2.5 ms", `1_234_567` → "1234.567 us", `7` → "7 ns", `0` → "0 ns",
    /// `-1500` → "-1.5 us". Parsing the number and unit back (`Quantity.parse`, after removing a
    /// leading "-") gives the same value, except for `Interval.min` whose magnitude is not an Int64.
    public var description: String {
        let unit = Interval.descriptionUnit(nanoseconds.magnitude)
        return DecimalText.trimmed(magnitude: UInt128(nanoseconds.magnitude), fractionDigits: unit.decimalExponent,
                                   negative: nanoseconds < 0) + " " + unit.rawValue
    }

    static func descriptionUnit(_ magnitude: UInt64) -> TimeUnit {
        for unit in [TimeUnit.s, .ms, .us] {
            let perUnit = UInt64(unit.nanosecondsPerUnit)
            // At least one whole unit, and exact with 3 fractional digits: divisible by perUnit/1000.
            if magnitude >= perUnit && magnitude % (perUnit / 1_000) == 0 { return unit }
        }
        return .ns
    }

    /// The value in `unit` with exactly `fractionDigits` fractional digits (no trimming), followed by
    /// a space and the unit name: `Interval.microseconds(1500).formatted(fractionDigits: 3, unit: .ms)`
    /// is "1.500 ms". Rounds half away from zero; a value that rounds to zero prints without a sign.
    /// Never traps for any value; PRECONDITION `fractionDigits >= 0`.
    public func formatted(fractionDigits: Int, unit: TimeUnit) -> String {
        precondition(fractionDigits >= 0, "fractionDigits must be non-negative")
        // Digits beyond the unit's exponent are always zero (nanoseconds are whole), so compute with
        // at most `decimalExponent` digits and pad; this keeps the product below 2^63·10^9 < 2^128.
        let exactDigits = Swift.min(fractionDigits, unit.decimalExponent)
        let magnitude = UInt128(nanoseconds.magnitude)
        let scale = DecimalText.powerOfTen(unit.decimalExponent - exactDigits)
        var quotient = magnitude / scale
        let remainder = magnitude % scale
        if remainder * 2 >= scale && scale > 1 { quotient += 1 }  // half away from zero
        var text = DecimalText.fixed(magnitude: quotient, fractionDigits: exactDigits, negative: nanoseconds < 0 && quotient != 0)
        if fractionDigits > exactDigits {
            if exactDigits == 0 { text += "." }
            text += String(repeating: "0", count: fractionDigits - exactDigits)
        }
        return text + " " + unit.rawValue
    }
}

/// Decimal printing of fixed-point integers, shared by the value types of this module.
enum DecimalText {
    static func powerOfTen(_ exponent: Int) -> UInt128 {
        precondition(exponent >= 0 && exponent <= 38)
        var p: UInt128 = 1
        for _ in 0..<exponent { p *= 10 }
        return p
    }

    /// `magnitude / 10^fractionDigits` with exactly `fractionDigits` fractional digits.
    static func fixed(magnitude: UInt128, fractionDigits: Int, negative: Bool) -> String {
        let scale = powerOfTen(fractionDigits)
        var text = negative ? "-" : ""
        text += String(magnitude / scale)
        if fractionDigits > 0 {
            let fraction = String(magnitude % scale)
            text += "." + String(repeating: "0", count: fractionDigits - fraction.count) + fraction
        }
        return text
    }

    /// `magnitude / 10^fractionDigits`, exact, with trailing fractional zeros (and a bare point) removed.
    static func trimmed(magnitude: UInt128, fractionDigits: Int, negative: Bool) -> String {
        var digits = fractionDigits
        var value = magnitude
        while digits > 0 && value % 10 == 0 {
            value /= 10
            digits -= 1
        }
        return fixed(magnitude: value, fractionDigits: digits, negative: negative)
    }
}
