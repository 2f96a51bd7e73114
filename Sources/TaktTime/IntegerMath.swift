// Integer helpers for schedule arithmetic (hyperperiods, phases, slot lattices).
// All are exact; each states which inputs trap.

/// Number theory and rounding division on Int64.
public enum IntegerMath {
    /// The greatest common divisor, non-negative; `gcd(0, 0) == 0`.
    /// TRAPS only when the result is 2^63 (`gcd(.min, 0)`, `gcd(.min, .min)`), which Int64 cannot hold.
    public static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var x = a.magnitude
        var y = b.magnitude
        while y != 0 { (x, y) = (y, x % y) }
        return Int64(x)
    }

    /// The least common multiple, non-negative (`lcm(a, 0) == 0`), with overflow reported instead of
    /// trapping; on overflow the first element is 0. Never traps.
    public static func lcmReportingOverflow(_ a: Int64, _ b: Int64) -> (Int64, overflow: Bool) {
        if a == 0 || b == 0 { return (0, false) }
        var x = a.magnitude
        var y = b.magnitude
        while y != 0 { (x, y) = (y, x % y) }
        let (product, overflow) = (a.magnitude / x).multipliedReportingOverflow(by: b.magnitude)
        guard !overflow, product <= UInt64(Int64.max) else { return (0, true) }
        return (Int64(product), false)
    }

    /// Bézout coefficients: `a·x + b·y == g` with `g == gcd(a, b) ≥ 0` (`(0, 0, 0)` for `(0, 0)`).
    /// Computed in Int128; |x| ≤ max(1, |b|/g) and |y| ≤ max(1, |a|/g), so they fit.
    /// TRAPS only when g would be 2^63 (`a` and `b` both in {0, .min}, not both 0).
    public static func extendedGCD(_ a: Int64, _ b: Int64) -> (g: Int64, x: Int64, y: Int64) {
        if a == 0 && b == 0 { return (0, 0, 0) }
        var (oldR, r) = (Int128(a), Int128(b))
        var (oldS, s) = (Int128(1), Int128(0))
        var (oldT, t) = (Int128(0), Int128(1))
        while r != 0 {
            let q = oldR / r
            (oldR, r) = (r, oldR - q * r)
            (oldS, s) = (s, oldS - q * s)
            (oldT, t) = (t, oldT - q * t)
        }
        if oldR < 0 { (oldR, oldS, oldT) = (-oldR, -oldS, -oldT) }
        return (Int64(oldR), Int64(oldS), Int64(oldT))
    }

    /// ⌊a / b⌋ (rounds toward −∞). TRAPS when `b == 0` or for `(.min, -1)`.
    public static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b  // traps on b == 0 and .min / -1, as documented
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// ⌈a / b⌉ (rounds toward +∞). TRAPS when `b == 0` or for `(.min, -1)`.
    public static func ceilDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b  // traps on b == 0 and .min / -1, as documented
        return (a % b != 0 && (a < 0) == (b < 0)) ? q + 1 : q
    }

    /// a mod b with the sign of b: the result is in [0, b) for b > 0 and in (b, 0] for b < 0, and
    /// `a == floorDivide(a, b)·b + floorMod(a, b)` whenever floorDivide does not trap.
    /// TRAPS when `b == 0`; `floorMod(.min, -1) == 0`.
    public static func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
        precondition(b != 0, "floorMod by zero")
        if b == -1 { return 0 }  // avoids the .min % -1 overflow trap; every integer is ≡ 0 mod 1
        let r = a % b
        return (r != 0 && (r < 0) != (b < 0)) ? r + b : r
    }
}
