import Testing
import TaktTestSupport
@testable import TaktTime

/// Every helper against a brute-force oracle on a small range including negatives, plus the extremes.
@Suite(.hostShared) struct IntegerMathTests {
    static let range: ClosedRange<Int64> = -40...40

    static func bruteGCD(_ a: Int64, _ b: Int64) -> Int64 {
        if a == 0 && b == 0 { return 0 }
        var best: Int64 = 1
        for d in Int64(1)...Swift.max(Swift.abs(a), Swift.abs(b)) where a % d == 0 && b % d == 0 { best = d }
        return best
    }

    @Test func gcdAgainstBruteForce() {
        for a in Self.range {
            for b in Self.range {
                #expect(IntegerMath.gcd(a, b) == Self.bruteGCD(a, b), "gcd(\(a), \(b))")
            }
        }
        #expect(IntegerMath.gcd(.max, .max) == .max)
        #expect(IntegerMath.gcd(.min, 6) == 2)
        #expect(IntegerMath.gcd(.min, .max) == 1)
        #expect(IntegerMath.gcd(.min, 1 << 62) == 1 << 62)
    }

    @Test func lcmAgainstBruteForce() {
        for a in Self.range {
            for b in Self.range {
                var expected: Int64 = 0
                if a != 0 && b != 0 {
                    // The first positive multiple of |a| that b divides.
                    expected = Swift.abs(a)
                    while expected % b != 0 { expected += Swift.abs(a) }
                }
                let (value, overflow) = IntegerMath.lcmReportingOverflow(a, b)
                #expect(!overflow && value == expected, "lcm(\(a), \(b))")
            }
        }
        #expect(IntegerMath.lcmReportingOverflow(.max, .max) == (.max, false))
        #expect(IntegerMath.lcmReportingOverflow(.max, 2).overflow)
        #expect(IntegerMath.lcmReportingOverflow(.min, 1).overflow)  // |min| = 2^63 does not fit
        #expect(IntegerMath.lcmReportingOverflow(.min, 0) == (0, false))
        #expect(IntegerMath.lcmReportingOverflow(1 << 62, -(1 << 61)) == (1 << 62, false))
        #expect(IntegerMath.lcmReportingOverflow(3_000_000_000, 7_000_000_000) == (21_000_000_000, false))
        // Hyperperiod of typical periods in ns.
        #expect(IntegerMath.lcmReportingOverflow(10_000_000, 25_000_000) == (50_000_000, false))
    }

    @Test func extendedGCDIdentity() {
        func check(_ a: Int64, _ b: Int64) {
            let (g, x, y) = IntegerMath.extendedGCD(a, b)
            #expect(g == IntegerMath.gcd(a, b), "extendedGCD(\(a), \(b)).g")
            #expect(Int128(a) * Int128(x) + Int128(b) * Int128(y) == Int128(g), "extendedGCD(\(a), \(b)) = \((g, x, y))")
        }
        for a in Self.range {
            for b in Self.range { check(a, b) }
        }
        for (a, b) in [(Int64.max, Int64.max - 1), (.max, .min + 1), (.min, .max), (.min, 3), (.max, 2), (1 << 62, 3),
                       (-(1 << 62), 1 << 61), (9_223_372_036_854_775_783, 4_611_686_018_427_387_847)] {
            check(a, b)
            check(b, a)
        }
        #expect(IntegerMath.extendedGCD(0, 0) == (0, 0, 0))
    }

    @Test func roundingDivisionAgainstBruteForce() {
        for a in Self.range {
            for b in Self.range where b != 0 {
                // ⌊a/b⌋ is the largest q with q·b ≤ a (for b > 0) or q·b ≥ a (for b < 0).
                var floor: Int64 = -100
                while (b > 0 ? (floor + 1) * b <= a : (floor + 1) * b >= a) { floor += 1 }
                var ceil: Int64 = 100
                while (b > 0 ? (ceil - 1) * b >= a : (ceil - 1) * b <= a) { ceil -= 1 }
                #expect(IntegerMath.floorDivide(a, b) == floor, "floorDivide(\(a), \(b))")
                #expect(IntegerMath.ceilDivide(a, b) == ceil, "ceilDivide(\(a), \(b))")
                let mod = IntegerMath.floorMod(a, b)
                #expect(mod == a - floor * b, "floorMod(\(a), \(b))")
                #expect(b > 0 ? (0..<b).contains(mod) : ((b + 1)...0).contains(mod))
            }
        }
        #expect(IntegerMath.floorDivide(.min, 1) == .min)
        #expect(IntegerMath.floorDivide(.min, 2) == .min / 2)
        #expect(IntegerMath.floorDivide(.max, -2) == -(Int64.max / 2) - 1)
        #expect(IntegerMath.ceilDivide(.max, 2) == Int64.max / 2 + 1)
        #expect(IntegerMath.ceilDivide(.min, -2) == 1 << 62)
        #expect(IntegerMath.floorMod(.min, -1) == 0)
        #expect(IntegerMath.floorMod(.min, .max) == .max - 1)
        #expect(IntegerMath.floorMod(-1, .max) == .max - 1)
        #expect(IntegerMath.floorMod(.max, .min) == -1)
        #expect(IntegerMath.floorMod(-5, 3) == 1)
        #expect(IntegerMath.floorMod(5, -3) == -1)
    }

    /// WideMath (the clock's Int128 division) takes a 64-bit path when dividend and divisor fit:
    /// the same quotients as plain Int128 arithmetic on both sides of the boundary, every sign.
    @Test func wideDivisionAgreesWithInt128OnBothSidesOfThe64BitBoundary() {
        func floorRef(_ a: Int128, _ b: Int128) -> Int128 { let q = a / b; return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q }
        func ceilRef(_ a: Int128, _ b: Int128) -> Int128 { let q = a / b; return (a % b != 0 && (a < 0) == (b < 0)) ? q + 1 : q }
        let edges: [Int128] = [0, 1, -1, 2, -2, 999_999_999, 1_000_000_000, -1_000_000_000, 1_000_000_001,
                               Int128(Int64.max), Int128(Int64.max) - 1, Int128(Int64.max) + 1,
                               Int128(Int64.min), Int128(Int64.min) + 1, Int128(Int64.min) - 1, Int128(1) << 96, -(Int128(1) << 96)]
        var rng = SplitMix64(seed: 11)
        var values = edges
        for _ in 0..<2_000 {
            let magnitude = Int128(rng.next() >> UInt64(rng.int(in: 0...63)))
            let wide = Int128(rng.next()) << 32 | Int128(rng.next() >> 32)
            values.append(rng.bool() ? magnitude : -magnitude)
            values.append(rng.bool() ? wide : -wide)
        }
        for (i, a) in values.enumerated() {
            for b in edges + [values[(i * 7 + 3) % values.count]] where b != 0 {
                #expect(WideMath.floorDivide(a, b) == floorRef(a, b), "floor(\(a) / \(b))")
                #expect(WideMath.ceilDivide(a, b) == ceilRef(a, b), "ceil(\(a) / \(b))")
            }
        }
    }
}
