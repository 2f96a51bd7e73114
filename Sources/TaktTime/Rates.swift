// Drift rates, bit rates and byte counts: the other dimensioned quantities of a schedule.
// Each is an integer in its smallest unit (ppb, bit/s, byte); none uses floating point.

/// An oscillator drift rate ρ, stored in integer parts per billion (unit: ppb = 1e-9).
///
/// `partsPerMillion(_:)` TRAPS on overflow; `driftOver(_:)` never traps (SATURATES, unreachable for
/// |ρ| ≤ 100 %). Comparison is by signed value; the bounds in `PrecisionBound` use |ρ|.
public struct DriftRate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The rate in parts per billion (1 ppm = 1 000 ppb).
    public var partsPerBillion: Int64

    /// A rate of `partsPerBillion` ppb. Never traps.
    public init(partsPerBillion: Int64) { self.partsPerBillion = partsPerBillion }

    /// `v` ppb. Never traps.
    public static func partsPerBillion(_ v: Int64) -> DriftRate { DriftRate(partsPerBillion: v) }
    /// `v` ppm. TRAPS if `v`·1 000 ppb does not fit in Int64.
    public static func partsPerMillion(_ v: Int64) -> DriftRate { DriftRate(partsPerBillion: v * 1_000) }

    /// No drift.
    public static let zero = DriftRate(partsPerBillion: 0)

    public static func < (lhs: DriftRate, rhs: DriftRate) -> Bool { lhs.partsPerBillion < rhs.partsPerBillion }

    /// The rate in ppm, exact, trailing zeros trimmed: "100 ppm", "0.5 ppm", "0.001 ppm".
    public var description: String {
        DecimalText.trimmed(magnitude: UInt128(partsPerBillion.magnitude), fractionDigits: 3,
                            negative: partsPerBillion < 0) + " ppm"
    }

    /// |ρ|·`interval`, rounded UP (toward +∞) to whole nanoseconds: the most a clock drifting at this
    /// rate can gain or lose over `interval`. Exact for every Int64 interval (computed in Int128);
    /// SATURATES at `Interval.min`/`.max` (only reachable when |ρ| > 10⁹ ppb, i.e. more than 100 %).
    public func driftOver(_ interval: Interval) -> Interval {
        // |ppb| ≤ 2^63 and |interval| ≤ 2^63, so the product fits in Int128 (< 2^127).
        let product = Int128(partsPerBillion.magnitude) * Int128(interval.nanoseconds)
        return Interval(nanoseconds: WideMath.clamp(WideMath.ceilDivide(product, 1_000_000_000)))
    }
}

/// A link bit rate, stored in integer bits per second (unit: bit/s).
///
/// The static constructors TRAP on overflow; `transmissionTime` never traps (returns nil).
public struct Bitrate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Bits per second.
    public var bitsPerSecond: Int64

    /// A rate of `bitsPerSecond` bit/s. Never traps.
    public init(bitsPerSecond: Int64) { self.bitsPerSecond = bitsPerSecond }

    /// `v` bit/s. Never traps.
    public static func bitsPerSecond(_ v: Int64) -> Bitrate { Bitrate(bitsPerSecond: v) }
    /// `v` kbit/s (10³ bit/s). TRAPS on overflow.
    public static func kilobitsPerSecond(_ v: Int64) -> Bitrate { Bitrate(bitsPerSecond: v * 1_000) }
    /// `v` Mbit/s (10⁶ bit/s). TRAPS on overflow.
    public static func megabitsPerSecond(_ v: Int64) -> Bitrate { Bitrate(bitsPerSecond: v * 1_000_000) }
    /// `v` Gbit/s (10⁹ bit/s). TRAPS on overflow.
    public static func gigabitsPerSecond(_ v: Int64) -> Bitrate { Bitrate(bitsPerSecond: v * 1_000_000_000) }

    public static func < (lhs: Bitrate, rhs: Bitrate) -> Bool { lhs.bitsPerSecond < rhs.bitsPerSecond }

    /// The rate as a whole number of the largest of Gbit/s, Mbit/s, kbit/s, bit/s that divides it:
    /// "10 Mbit/s", "500 kbit/s", "9600 bit/s", "1500 kbit/s", "0 bit/s".
    public var description: String {
        let units: [(Int64, String)] = [(1_000_000_000, "Gbit/s"), (1_000_000, "Mbit/s"), (1_000, "kbit/s")]
        for (perUnit, name) in units where bitsPerSecond != 0 && bitsPerSecond % perUnit == 0 {
            return "\(bitsPerSecond / perUnit) \(name)"
        }
        return "\(bitsPerSecond) bit/s"
    }

    /// ⌈`bits`·10⁹ / bitsPerSecond⌉ ns: the time to clock `bits` onto the medium.
    /// Returns nil (never traps) when the bit rate is not positive, `bits` is negative, or the
    /// result does not fit in an `Interval`.
    public func transmissionTime(bits: Int64) -> Interval? {
        guard bitsPerSecond > 0, bits >= 0 else { return nil }
        // bits·10⁹ < 2^63·2^30 fits in Int128.
        let time = WideMath.ceilDivide(Int128(bits) * 1_000_000_000, Int128(bitsPerSecond))
        guard time <= Int128(Int64.max) else { return nil }
        return Interval(nanoseconds: Int64(time))
    }

    /// `transmissionTime(bits: 8·bytes)`. Returns nil (never traps) when the bit count overflows or
    /// `transmissionTime(bits:)` returns nil.
    public func transmissionTime(bytes: ByteCount) -> Interval? {
        let (bits, overflow) = bytes.bytes.multipliedReportingOverflow(by: 8)
        guard !overflow else { return nil }
        return transmissionTime(bits: bits)
    }
}

/// A size, stored in integer bytes (unit: byte = 8 bits).
///
/// `bits` TRAPS on overflow.
public struct ByteCount: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The size in bytes.
    public var bytes: Int64

    /// `bytes` bytes. Never traps.
    public init(bytes: Int64) { self.bytes = bytes }

    /// `v` bytes. Never traps.
    public static func bytes(_ v: Int64) -> ByteCount { ByteCount(bytes: v) }
    /// `v` KiB (1 024 bytes). TRAPS on overflow.
    public static func kibibytes(_ v: Int64) -> ByteCount { ByteCount(bytes: v * 1_024) }

    /// 0 bytes.
    public static let zero = ByteCount(bytes: 0)

    public static func < (lhs: ByteCount, rhs: ByteCount) -> Bool { lhs.bytes < rhs.bytes }

    /// The size in bits (8 per byte). TRAPS on overflow.
    public var bits: Int64 { bytes * 8 }

    /// "1 byte", otherwise "N bytes" ("0 bytes", "64 bytes").
    public var description: String { bytes == 1 ? "1 byte" : "\(bytes) bytes" }
}

/// Int128 helpers for exact intermediate results.
enum WideMath {
    /// ⌊a / b⌋. PRECONDITION b ≠ 0.
    /// (The clock's hot path divides numbers that almost always fit in 64 bits: those take one
    /// 64-bit division instead of the 128-bit library routine, with the same result.)
    @inline(__always)
    static func floorDivide(_ a: Int128, _ b: Int128) -> Int128 {
        if let (a, b) = narrow(a, b) {
            let q = a / b, r = a % b
            return Int128((r != 0 && (r < 0) != (b < 0)) ? q - 1 : q)
        }
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// ⌈a / b⌉. PRECONDITION b ≠ 0.
    @inline(__always)
    static func ceilDivide(_ a: Int128, _ b: Int128) -> Int128 {
        if let (a, b) = narrow(a, b) {
            let q = a / b, r = a % b
            return Int128((r != 0 && (r < 0) == (b < 0)) ? q + 1 : q)
        }
        let q = a / b
        return (a % b != 0 && (a < 0) == (b < 0)) ? q + 1 : q
    }

    /// a and b as Int64 when both fit and their quotient does (it does not only for Int64.min / −1).
    @inline(__always)
    private static func narrow(_ a: Int128, _ b: Int128) -> (Int64, Int64)? {
        let low = Int128(Int64.min), high = Int128(Int64.max)
        guard a >= low && a <= high && b >= low && b <= high && b != -1 else { return nil }
        return (Int64(truncatingIfNeeded: a), Int64(truncatingIfNeeded: b))
    }

    /// `value` clamped to the Int64 range.
    static func clamp(_ value: Int128) -> Int64 {
        if value > Int128(Int64.max) { return .max }
        if value < Int128(Int64.min) { return .min }
        return Int64(value)
    }
}
