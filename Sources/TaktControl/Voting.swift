// Voting at the consumer over the outputs of n replicas (n ≤ 8).
//
// Active redundancy (the state machine approach): n replicas of a task run on n nodes with the
// same inputs at the same release instants, and — because the schedule, the clocks and atomic
// broadcast give every replica the same inputs in the same order (replica determinism) — a correct
// replica produces the same output as every other correct one. Each consumer collects one vote per
// replica in a `Ballot` and decides with a `Voter`. Nothing is agreed between consumers; they agree
// because they vote over the same atomically delivered votes with the same deterministic rule.
//
// Three rules, each for one fault assumption (f = number of faulty replicas tolerated):
//
//   exact       Replicas may fail arbitrarily in the value domain (a bit flip in memory, a wrong
//               computation) and by omission. Correct replicas produce bit-identical outputs.
//               The output is the value held by a majority m = ⌊n/2⌋ + 1 of the *configured*
//               replicas, so f = n − m = ⌈n/2⌉ − 1 faulty ones are masked: TMR (n = 3) masks one.
//               A majority of configured, not of present, replicas: two replicas that agree while
//               the third is silent still decide (2 ≥ 2 of 3), but one lone vote of three never
//               does — a single faulty replica must not be able to decide alone.
//
//   tolerance   As exact, for continuous values that correct replicas compute from different but
//               close inputs (each replica samples its own sensor): correct outputs lie within
//               `tolerance` of each other. Two votes agree when |a − b| ≤ tolerance; the winning
//               group is the largest set of mutually agreeing votes (for numbers: all within one
//               window of width `tolerance`), if it has at least m members; the output is its
//               median. Masking here means (with at most f faulty replicas and every pair of
//               correct outputs within `tolerance`): a value is always produced, it is within
//               `tolerance` of at least one correct output, and every vote that is farther than
//               `tolerance` from every correct output (or not finite) is flagged as dissenting.
//               Proof sketch: the correct outputs form an agreeing group of ≥ n − f = m members, so
//               the largest group has ≥ m members; as f < m, it contains a correct output c, and
//               every member (the median included) agrees with c. A vote farther than `tolerance`
//               from every correct output agrees with no correct one, so it is in no group that
//               contains one — hence not in the winner.
//
//   failSilent  Replicas are fail-silent: they send correct values or nothing (a crash, an
//               omission, a message whose checksum or validity check failed). Any present vote is
//               correct, so one suffices: f = n − 1 silent replicas are tolerated. If present votes
//               differ, the assumption is broken and nothing can be decided: no value. This is
//               MARS's model (fail-silent components with active redundancy: each component runs in
//               a shadow pair or group and the first correct message is used); it needs fewer
//               replicas than voting (2 tolerate 1) but relies on self-checking nodes.
//
// Choosing: use exact voting (TMR) when a replica can produce a wrong value that looks valid and
// replicas are deterministic; tolerance voting when correct replicas legitimately differ a little;
// failSilent when nodes stop rather than lie (or for values another mechanism has already checked,
// such as state transfer between replicas that the CRC protected).
//
// Outcome flags: bit i of `agreeing` / `dissenting` / `missing` stands for replica i. They are
// disjoint. With a value, they cover all `ballot.replicas` bits (every replica voted with the
// winner, against it, or not at all). Without a value, `agreeing` and `dissenting` are 0 (no one is
// outvoted when nothing wins) and the present replicas are the configured ones minus `missing`.
//
// Allocation: none. A Ballot is a fixed 8-slot inline value; voters loop over `Range<Int>` indices
// and keep their scratch state (the sort order) in a UInt64. Exact voting over FixedLayout values
// compares stored bytes in a stack scratch buffer (`FixedLayout.isBitwiseEqual(to:)`).

/// One optional vote per replica, for up to 8 replicas, stored inline (no heap, no allocation).
///
/// Replica i's vote is `ballot[i]`; nil means no vote (the replica is absent, its message was
/// invalid or not delivered, or it is not in the membership). Reuse one ballot per round with
/// `clear()`.
public struct Ballot<Value> {
    /// The largest number of replicas a ballot holds (and the width of VoteOutcome's bit masks).
    public static var capacity: Int { 8 }

    /// The configured number of replicas, 1...8. Majorities are counted against it.
    public let replicas: Int
    private var votes: (Value?, Value?, Value?, Value?, Value?, Value?, Value?, Value?)

    /// An empty ballot for `replicas` replicas. PRECONDITION 1 ≤ replicas ≤ 8.
    public init(replicas: Int) {
        precondition(replicas >= 1 && replicas <= Self.capacity, "a ballot holds 1...8 replicas, not \(replicas)")
        self.replicas = replicas
        votes = (nil, nil, nil, nil, nil, nil, nil, nil)
    }

    /// Replica `replica`'s vote, or nil. PRECONDITION 0 ≤ replica < replicas.
    public subscript(replica: Int) -> Value? {
        get {
            precondition(replica >= 0 && replica < replicas, "replica \(replica) outside 0..<\(replicas)")
            switch replica {
            case 0: return votes.0
            case 1: return votes.1
            case 2: return votes.2
            case 3: return votes.3
            case 4: return votes.4
            case 5: return votes.5
            case 6: return votes.6
            default: return votes.7
            }
        }
        set {
            precondition(replica >= 0 && replica < replicas, "replica \(replica) outside 0..<\(replicas)")
            switch replica {
            case 0: votes.0 = newValue
            case 1: votes.1 = newValue
            case 2: votes.2 = newValue
            case 3: votes.3 = newValue
            case 4: votes.4 = newValue
            case 5: votes.5 = newValue
            case 6: votes.6 = newValue
            default: votes.7 = newValue
            }
        }
    }

    /// Removes every vote (the number of replicas stays).
    public mutating func clear() {
        votes = (nil, nil, nil, nil, nil, nil, nil, nil)
    }

    /// Bit i set when replica i has no vote.
    public var missing: UInt8 {
        var bits: UInt8 = 0
        for i in 0..<replicas where self[i] == nil { bits |= 1 << UInt8(i) }
        return bits
    }

    /// Bit i set for each configured replica i (the low `replicas` bits).
    public var allReplicas: UInt8 { UInt8(truncatingIfNeeded: (1 << replicas) - 1) }

    /// ⌊replicas/2⌋ + 1: the votes a value needs to win (exact and tolerance voting).
    public var majority: Int { replicas / 2 + 1 }
}

extension Ballot: Sendable where Value: Sendable {}

extension Ballot: Equatable where Value: Equatable {
    public static func == (lhs: Ballot, rhs: Ballot) -> Bool {
        guard lhs.replicas == rhs.replicas else { return false }
        for i in 0..<lhs.replicas where lhs[i] != rhs[i] { return false }
        return true
    }
}

/// The decision of a voter and who took which side.
///
/// Bit i of each mask is replica i. The masks are disjoint; with a value they cover every
/// configured replica; without one, `agreeing` and `dissenting` are 0.
public struct VoteOutcome<Value> {
    /// nil: no majority.
    public var value: Value?
    /// bit i: replica i's vote is in the winning group.
    public var agreeing: UInt8
    /// present but outvoted (a masked faulty replica).
    public var dissenting: UInt8
    /// no vote (absent, invalid, not in membership).
    public var missing: UInt8

    public init(value: Value?, agreeing: UInt8, dissenting: UInt8, missing: UInt8) {
        self.value = value
        self.agreeing = agreeing
        self.dissenting = dissenting
        self.missing = missing
    }
}

extension VoteOutcome: Sendable where Value: Sendable {}
extension VoteOutcome: Equatable where Value: Equatable {}

/// The voting rules (see the file header for the fault assumption behind each).
public enum Voter {
    // MARK: Exact

    /// Exact voting with `==` as agreement: the value that a majority of `ballot.replicas`
    /// (⌊n/2⌋+1) voted for.
    ///
    /// For values with a fixed layout the overload below is chosen, which compares stored bytes
    /// (bitwise); this one is for other Equatable values, and for generic code that knows only
    /// `Equatable`. With `==`, the output is the vote of the lowest-numbered agreeing replica. At
    /// most one value can hold a majority, so no tie-break is needed; n = 4 split 2–2 has none.
    public static func exact<Value: Equatable>(_ ballot: Ballot<Value>) -> VoteOutcome<Value> {
        majority(ballot) { $0 == $1 }
    }

    /// Exact (bitwise) voting: the value that a majority of `ballot.replicas` (⌊n/2⌋+1) voted for.
    /// Two votes agree when their stored bytes are identical (`isBitwiseEqual(to:)`): +0.0 and
    /// −0.0 disagree, NaNs with the same bits agree — replica determinism means identical bits.
    public static func exact<Value: FixedLayout & Equatable>(_ ballot: Ballot<Value>) -> VoteOutcome<Value> {
        majority(ballot) { $0.isBitwiseEqual(to: $1) }
    }

    /// The first value (by replica) that `equal` matches in a majority of the configured replicas.
    /// Comparing candidate i only with the replicas after it suffices: if an earlier replica k held
    /// an equal vote, k's group (counted first) contained i's whole group.
    private static func majority<Value>(_ ballot: Ballot<Value>, equal: (Value, Value) -> Bool) -> VoteOutcome<Value> {
        let n = ballot.replicas
        let missing = ballot.missing
        for i in 0..<n {
            guard let candidate = ballot[i] else { continue }
            var group: UInt8 = 1 << UInt8(i)
            for j in (i + 1)..<n {
                if let other = ballot[j], equal(candidate, other) { group |= 1 << UInt8(j) }
            }
            if group.nonzeroBitCount >= ballot.majority {
                return VoteOutcome(value: candidate, agreeing: group, dissenting: ballot.allReplicas & ~group & ~missing, missing: missing)
            }
        }
        return VoteOutcome(value: nil, agreeing: 0, dissenting: 0, missing: missing)
    }

    // MARK: Fail-silent

    /// Fail-silent voting with `==`: replicas are assumed to send correct values or nothing. The
    /// value when every present vote is equal (one is enough); nil when there is none, or when
    /// present votes differ (the assumption is broken: which one is right cannot be known).
    /// The output is the lowest-numbered present replica's vote.
    public static func failSilent<Value: Equatable>(_ ballot: Ballot<Value>) -> VoteOutcome<Value> {
        unanimous(ballot) { $0 == $1 }
    }

    /// Fail-silent voting over fixed-layout values, agreement bitwise (as exact voting).
    public static func failSilent<Value: FixedLayout & Equatable>(_ ballot: Ballot<Value>) -> VoteOutcome<Value> {
        unanimous(ballot) { $0.isBitwiseEqual(to: $1) }
    }

    private static func unanimous<Value>(_ ballot: Ballot<Value>, equal: (Value, Value) -> Bool) -> VoteOutcome<Value> {
        let missing = ballot.missing
        var first: Value?
        for i in 0..<ballot.replicas {
            guard let vote = ballot[i] else { continue }
            if let first {
                if !equal(first, vote) { return VoteOutcome(value: nil, agreeing: 0, dissenting: 0, missing: missing) }
            } else {
                first = vote
            }
        }
        guard let first else { return VoteOutcome(value: nil, agreeing: 0, dissenting: 0, missing: missing) }
        return VoteOutcome(value: first, agreeing: ballot.allReplicas & ~missing, dissenting: 0, missing: missing)
    }

    // MARK: Tolerance

    /// Inexact voting for continuous values: two votes agree when |a−b| ≤ tolerance; the winner is
    /// the largest group of mutually agreeing votes (at least a majority of `ballot.replicas`), its
    /// output its median.
    ///
    /// - Non-finite votes (NaN, ±infinity) are present but agree with no vote: dissenting.
    /// - Several largest groups of equal size: the one with the smallest spread
    ///   (max − min) wins; at equal spread, the one with the lowest values.
    /// - Median: the middle vote of the group in ascending order; for an even group the LOWER of
    ///   the two middle votes. Always a value some replica produced (no averaging, so no rounding and
    ///   no invention); equal values are ordered by replica index. Deterministic.
    /// PRECONDITION tolerance finite and ≥ 0.
    public static func tolerance(_ ballot: Ballot<Double>, tolerance: Double) -> VoteOutcome<Double> {
        precondition(tolerance.isFinite && tolerance >= 0, "tolerance \(tolerance) must be finite and ≥ 0")
        return widestAgreement(ballot, tolerance: tolerance)
    }

    /// Inexact voting for integers, as for Double: votes agree when |a−b| ≤ tolerance (computed
    /// without overflow for any two Int64); the output is the median of the largest mutually
    /// agreeing group (the lower middle for an even group). PRECONDITION tolerance ≥ 0.
    public static func tolerance(_ ballot: Ballot<Int64>, tolerance: Int64) -> VoteOutcome<Int64> {
        precondition(tolerance >= 0, "tolerance \(tolerance) must be ≥ 0")
        return widestAgreement(ballot, tolerance: UInt64(tolerance))
    }

    /// The tolerance voter for one numeric type.
    ///
    /// Sorts the votable votes ascending (insertion sort of ≤ 8 replica indices packed into the
    /// bytes of a UInt64: no array), then slides a window: for each start position the window
    /// extends while last − first ≤ tolerance. In one dimension a set of values is mutually within
    /// `tolerance` exactly when its extremes are, so the windows enumerate every maximal agreeing
    /// group. O(n²) comparisons for n ≤ 8.
    private static func widestAgreement<Value: ToleranceVotable>(_ ballot: Ballot<Value>, tolerance: Value.Spread) -> VoteOutcome<Value> {
        let missing = ballot.missing
        var order: UInt64 = 0  // byte k: the replica index at sorted position k
        var count = 0
        for i in 0..<ballot.replicas {
            guard let vote = ballot[i], vote.isVotable else { continue }
            // Insert replica i after every vote ≤ its own (stable: equal votes keep replica order).
            var position = count
            while position > 0, vote < ballot[Self.replica(at: position - 1, in: order)]! {
                order = Self.setting(position, in: order, to: Self.replica(at: position - 1, in: order))
                position -= 1
            }
            order = Self.setting(position, in: order, to: i)
            count += 1
        }
        var bestStart = 0, bestSize = 0
        var bestSpread: Value.Spread?
        var end = 0  // the window [start, end] (positions), end ≥ start
        for start in 0..<count {
            if end < start { end = start }
            let low = ballot[Self.replica(at: start, in: order)]!
            while end + 1 < count, Value.spread(from: low, to: ballot[Self.replica(at: end + 1, in: order)]!) <= tolerance { end += 1 }
            let size = end - start + 1
            let spread = Value.spread(from: low, to: ballot[Self.replica(at: end, in: order)]!)
            if size > bestSize || (size == bestSize && spread < bestSpread!) {
                bestStart = start
                bestSize = size
                bestSpread = spread
            }
        }
        guard bestSize >= ballot.majority else { return VoteOutcome(value: nil, agreeing: 0, dissenting: 0, missing: missing) }
        var agreeing: UInt8 = 0
        for position in bestStart..<(bestStart + bestSize) { agreeing |= 1 << UInt8(Self.replica(at: position, in: order)) }
        let median = ballot[Self.replica(at: bestStart + (bestSize - 1) / 2, in: order)]!
        return VoteOutcome(value: median, agreeing: agreeing, dissenting: ballot.allReplicas & ~agreeing & ~missing, missing: missing)
    }

    /// The replica index stored at sorted position `position` (byte `position` of `order`).
    @inline(__always)
    private static func replica(at position: Int, in order: UInt64) -> Int {
        Int(truncatingIfNeeded: (order >> UInt64(8 * position)) & 0xFF)
    }

    /// `order` with byte `position` set to `replica`.
    @inline(__always)
    private static func setting(_ position: Int, in order: UInt64, to replica: Int) -> UInt64 {
        let shift = UInt64(8 * position)
        return (order & ~(0xFF << shift)) | (UInt64(replica) << shift)
    }
}

/// The numbers the tolerance voter handles: ordered, with a non-trapping distance.
protocol ToleranceVotable: Comparable {
    /// The type of |a − b|, compared with the tolerance.
    associatedtype Spread: Comparable
    /// Whether the vote can agree with anything (finite, for floating point).
    var isVotable: Bool { get }
    /// high − low for low ≤ high (both votable): exact, or rounded monotonically; never traps.
    static func spread(from low: Self, to high: Self) -> Spread
}

extension Double: ToleranceVotable {
    var isVotable: Bool { isFinite }
    /// Rounded subtraction is monotone in both operands, so a window whose extremes are within
    /// tolerance has every pair within tolerance; an overflow to +infinity never agrees.
    static func spread(from low: Double, to high: Double) -> Double { high - low }
}

extension Int64: ToleranceVotable {
    var isVotable: Bool { true }
    /// The exact distance: for low ≤ high it lies in 0...UInt64.max, and the wrapping subtraction
    /// reinterpreted as UInt64 is exactly it.
    static func spread(from low: Int64, to high: Int64) -> UInt64 { UInt64(bitPattern: high &- low) }
}
