// Arithmetic of the time-triggered schedule: the instants at which things happen, computed
// exactly with integers over the periodic extension of the schedule (no simulation of instances
// where a closed form exists).
//
// Notation used below and in Docs/schedule-format.md:
//   R   round length            P·R  message period        Π   precision in use
//   s_i send instant of message instance i (start of the first copy's slot)
//   d_i = s_i + Δ  delivery instant, Δ = (end of last copy's slot − start of first copy's slot) + Π
//   task τ: offset o, period T, wcet C, deadline D; instance j released at o + j·T.
//
// Two periodic sequences a0 + i·A and b0 + j·B meet exactly at the differences ≡ (b0 − a0) mod
// gcd(A, B). Every "does an instance of X fall inside a window of Y" question below reduces to
// that fact, which makes the checks O(1) per pair and exact for any hyperperiod.

import TaktTime

public enum Analysis {
    /// Π in use: the declared precision if given, else the computed bound; nil when undefined
    /// (too few sync nodes for k).
    public static func precisionInUse(cluster: Cluster, nodes: [Node]) -> Interval? {
        guard cluster.clockParametersResolved else { return nil }
        if let declared = cluster.declaredPrecision { return declared }
        return precisionBound(cluster: cluster, nodes: nodes)
    }

    public static func precisionBound(cluster: Cluster, nodes: [Node]) -> Interval? {
        guard cluster.clockParametersResolved else { return nil }
        let n = nodes.reduce(0) { $0 + ($1.sync ? 1 : 0) }
        return PrecisionBound.precision(readingError: cluster.readingError, drift: cluster.drift,
                                        resynchronizationInterval: cluster.round, clocks: n, faulty: cluster.faultTolerance)
    }

    /// Rounds `value` up to a multiple of `unit` (unit > 0), saturating.
    public static func roundUp(_ value: Interval, to unit: Interval) -> Interval {
        let q = IntegerMath.ceilDivide(value.nanoseconds, unit.nanoseconds)
        return unit.saturatingMultiply(by: q)
    }

    /// The slots a message's copies use, in order: the named slot only, or all of the sender's
    /// slots in declaration (= time) order. Empty when the sender has no slot in the mode.
    public static func copySlots(of message: Message, in slots: [Slot]) -> [Int] {
        if let name = message.slotName {
            if let i = slots.firstIndex(where: { $0.name == name && $0.sender == message.sender }) { return [i] }
            return []
        }
        return slots.indices.filter { slots[$0].sender == message.sender }
    }

    /// Where copy `copy` of an instance starting in round 0 lands: (rounds after the first, slot).
    public static func copyPosition(_ copy: Int, slots copySlots: [Int]) -> (roundOffset: Int64, slot: Int) {
        (Int64(copy / copySlots.count), copySlots[copy % copySlots.count])
    }

    /// Largest payload per slot over the rounds of one cluster cycle, in bytes.
    public static func slotPayloads(slots: [Slot], messages: [Message], cluster: Cluster) -> [Int64] {
        let cycle = cluster.cycleRounds
        // Per slot, the bytes due in each round of the cycle (cycle ≤ 1,024 rounds by the limits).
        var perRound: [[Int64]] = Array(repeating: [], count: slots.count)
        for message in messages {
            let targets = copySlots(of: message, in: slots)
            if targets.isEmpty || message.periodRounds <= 0 || message.phaseRounds < 0 { continue }
            var start = message.phaseRounds % message.periodRounds
            while start < cycle {
                for copy in 0..<message.copies {
                    let (roundOffset, slot) = copyPosition(copy, slots: targets)
                    let round = Int((start + roundOffset) % cycle)
                    if perRound[slot].isEmpty { perRound[slot] = Array(repeating: 0, count: Int(cycle)) }
                    perRound[slot][round] &+= message.size.bytes  // ≤ 1,024·16·65,535 per message: no overflow in practice
                }
                start += message.periodRounds
            }
        }
        return perRound.map { $0.max() ?? 0 }
    }

    /// floor((t − origin) / period) as the index of the latest instance at or before t.
    @inline(__always)
    static func latestIndex(atOrBefore t: Int64, origin: Int64, period: Int64) -> Int64 {
        IntegerMath.floorDivide(t - origin, period)
    }

    @inline(__always)
    static func firstIndex(atOrAfter t: Int64, origin: Int64, period: Int64) -> Int64 {
        IntegerMath.ceilDivide(t - origin, period)
    }

    /// The smallest non-negative value of (b0 + j·B) − (a0 + i·A) over all integers i, j.
    public static func minimumForwardGap(a0: Int64, a: Int64, b0: Int64, b: Int64) -> Int64 {
        let g = IntegerMath.gcd(a, b)
        return IntegerMath.floorMod(b0 - a0, g)
    }

    /// Do the half-open busy intervals [a0 + iA, a0 + iA + ca) and [b0 + jB, b0 + jB + cb) ever
    /// intersect? Returns the signed difference x = (B's start − A's start) of one intersecting
    /// pair, or nil. Exact: the differences of the two start sequences are exactly the values
    /// ≡ (b0 − a0) mod gcd(A, B); the pair intersects iff some such x lies in (−cb, ca).
    public static func overlapDifference(a0: Int64, a: Int64, ca: Int64, b0: Int64, b: Int64, cb: Int64) -> Int64? {
        let g = IntegerMath.gcd(a, b)
        let r = IntegerMath.floorMod(b0 - a0, g)
        if r < ca { return r }
        if g - r < cb { return r - g }
        return nil
    }

    /// The earliest instant t ≥ 0 of the sequence a0 + i·A such that t + x belongs to b0 + j·B,
    /// given that x ≡ b0 − a0 (mod gcd(A, B)). Computed with extended Euclid in 128 bits. Nil when
    /// that instant does not fit comfortably in 64 bits (lcm(A, B) beyond 2^61 ns).
    public static func firstCoincidence(a0: Int64, a: Int64, b0: Int64, b: Int64, difference x: Int64) -> Int64? {
        let (g, u, _) = IntegerMath.extendedGCD(a, b)  // a·u + b·v = g
        // Need i, j with b0 + j·b − a0 − i·a = x  ⇔  i·a − j·b = b0 − a0 − x.
        let target = Int128(b0) - Int128(a0) - Int128(x)
        let q = target / Int128(g)
        let m = Int128(b) / Int128(g)  // i is determined modulo b/g
        var i = ((Int128(u) % m) * (q % m)) % m  // |factors| < 2^63: the product fits in 128 bits
        if i < 0 { i += m }
        let l = m * Int128(a)
        var t = (Int128(a0) + i * Int128(a)) % l
        if t < 0 { t += l }
        return t < Int128(Int64.max / 4) ? Int64(t) : nil
    }
}
