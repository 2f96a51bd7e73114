// Voting: every assignment of votes for n = 1…6 replicas against brute-force oracles (exact,
// fail-silent, tolerance), hand-picked ties and near-misses, the bitwise/`==` distinction, extreme
// numbers, and the ballot's own behaviour and preconditions.

import Testing
import TaktTestSupport
import TaktControl

/// A value without a fixed layout: exact voting on it uses `==`.
struct Opaque: Equatable {
    var x: Double
}

@Suite("Voting", .hostShared)
struct VotingTests {
    /// Calls `body` with every ballot of `n` replicas whose votes are drawn from `choices` (nil = no vote).
    func forEveryBallot<Value>(replicas n: Int, choices: [Value?], _ body: (Ballot<Value>) -> Void) {
        var total = 1
        for _ in 0..<n { total *= choices.count }
        for code in 0..<total {
            var ballot = Ballot<Value>(replicas: n)
            var rest = code
            for i in 0..<n {
                ballot[i] = choices[rest % choices.count]
                rest /= choices.count
            }
            body(ballot)
        }
    }

    func bits(_ replicas: [Int]) -> UInt8 { replicas.reduce(0) { $0 | UInt8(1 << $1) } }

    // MARK: Exact, against an oracle that counts each value's votes

    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func exactMatchesTheCountingOracle(replicas n: Int) {
        var decided = 0, undecided = 0, withDissent = 0
        forEveryBallot(replicas: n, choices: [nil, 10, 20, 30] as [Int64?]) { ballot in
            let outcome = Voter.exact(ballot)
            let present = (0..<n).filter { ballot[$0] != nil }
            let missing = bits((0..<n).filter { ballot[$0] == nil })
            let winner = [Int64(10), 20, 30].first { v in present.filter { ballot[$0] == v }.count >= n / 2 + 1 }
            #expect(outcome.missing == missing)
            if let winner {
                decided += 1
                let agreeing = present.filter { ballot[$0] == winner }
                #expect(outcome.value == winner)
                #expect(outcome.agreeing == bits(agreeing))
                #expect(outcome.dissenting == bits(present.filter { ballot[$0] != winner }))
                #expect(outcome.agreeing | outcome.dissenting | outcome.missing == UInt8((1 << n) - 1))
                if outcome.dissenting != 0 { withDissent += 1 }
            } else {
                undecided += 1
                #expect(outcome.value == nil && outcome.agreeing == 0 && outcome.dissenting == 0)
            }
        }
        #expect(decided > 0 && undecided > 0)
        if n >= 3 { #expect(withDissent > 0) }  // masking happened
    }

    @Test func exactTiesAndNearMisses() {
        var b = Ballot<Int64>(replicas: 4)
        b[0] = 1; b[1] = 1; b[2] = 2; b[3] = 2
        #expect(Voter.exact(b).value == nil)  // 2–2: no majority of 4
        b[3] = nil
        #expect(Voter.exact(b).value == nil)  // 2 of 4 is not a majority, even with one silent
        b[3] = 1
        #expect(Voter.exact(b) == VoteOutcome(value: 1, agreeing: 0b1011, dissenting: 0b0100, missing: 0))
        var three = Ballot<Int64>(replicas: 3)
        three[1] = 7
        #expect(Voter.exact(three) == VoteOutcome(value: nil, agreeing: 0, dissenting: 0, missing: 0b101))  // one alone never decides
        three[2] = 7
        #expect(Voter.exact(three) == VoteOutcome(value: 7, agreeing: 0b110, dissenting: 0, missing: 0b001))
        three[0] = 8
        #expect(Voter.exact(three) == VoteOutcome(value: 7, agreeing: 0b110, dissenting: 0b001, missing: 0))
        three[0] = 9; three[1] = 8
        #expect(Voter.exact(three).value == nil)  // all different
        var eight = Ballot<Int64>(replicas: 8)
        for i in 0..<5 { eight[i] = 3 }
        for i in 5..<8 { eight[i] = Int64(i) }
        #expect(Voter.exact(eight) == VoteOutcome(value: 3, agreeing: 0b0001_1111, dissenting: 0b1110_0000, missing: 0))
        eight[4] = nil
        #expect(Voter.exact(eight).value == nil)  // 4 of 8
        var one = Ballot<Int64>(replicas: 1)
        #expect(Voter.exact(one).value == nil)
        one[0] = 5
        #expect(Voter.exact(one) == VoteOutcome(value: 5, agreeing: 1, dissenting: 0, missing: 0))
    }

    @Test func exactVotingOnFixedLayoutsIsBitwiseOtherwiseEquality() {
        var doubles = Ballot<Double>(replicas: 3)
        doubles[0] = 0.0; doubles[1] = -0.0; doubles[2] = 0.0
        let bitwise = Voter.exact(doubles)
        #expect(bitwise.value?.bitPattern == 0 && bitwise.agreeing == 0b101 && bitwise.dissenting == 0b010)
        doubles[0] = -0.0
        #expect(Voter.exact(doubles).value?.bitPattern == (-0.0).bitPattern)
        doubles[0] = .nan; doubles[1] = .nan; doubles[2] = 1
        let nans = Voter.exact(doubles)
        #expect(nans.value?.isNaN == true && nans.agreeing == 0b011)  // identical bits agree, even NaN
        // Through `==` (a value without a layout): +0 and −0 agree, NaN agrees with nothing.
        var opaque = Ballot<Opaque>(replicas: 3)
        opaque[0] = Opaque(x: 0.0); opaque[1] = Opaque(x: -0.0); opaque[2] = Opaque(x: 1)
        #expect(Voter.exact(opaque).agreeing == 0b011)
        opaque[0] = Opaque(x: .nan); opaque[1] = Opaque(x: .nan)
        #expect(Voter.exact(opaque).value == nil)
        // Whole state messages: a different timestamp is a different vote.
        var messages = Ballot<StateMessage<Double>>(replicas: 3)
        let m = StateMessage(value: 2.5, observedAt: .zero, validity: .nanoseconds(10))
        var late = m
        late.observedAt.nanoseconds += 1
        messages[0] = m; messages[1] = late; messages[2] = m
        #expect(Voter.exact(messages) == VoteOutcome(value: m, agreeing: 0b101, dissenting: 0b010, missing: 0))
    }

    // MARK: Fail-silent

    @Test(arguments: [1, 2, 3, 4, 5])
    func failSilentMatchesTheOracle(replicas n: Int) {
        forEveryBallot(replicas: n, choices: [nil, 10, 20] as [Int64?]) { ballot in
            let outcome = Voter.failSilent(ballot)
            let present = (0..<n).filter { ballot[$0] != nil }
            let values = Set(present.map { ballot[$0]! })
            #expect(outcome.missing == bits((0..<n).filter { ballot[$0] == nil }))
            #expect(outcome.dissenting == 0)
            if values.count == 1 {
                #expect(outcome.value == values.first && outcome.agreeing == bits(present))
            } else {
                #expect(outcome.value == nil && outcome.agreeing == 0)
            }
        }
    }

    @Test func failSilentAcceptsALoneVoteButNotADisagreement() {
        var b = Ballot<Double>(replicas: 2)
        #expect(Voter.failSilent(b) == VoteOutcome(value: nil, agreeing: 0, dissenting: 0, missing: 0b11))
        b[1] = 4
        #expect(Voter.failSilent(b) == VoteOutcome(value: 4, agreeing: 0b10, dissenting: 0, missing: 0b01))
        b[0] = 4
        #expect(Voter.failSilent(b) == VoteOutcome(value: 4, agreeing: 0b11, dissenting: 0, missing: 0))
        b[0] = -4
        #expect(Voter.failSilent(b) == VoteOutcome(value: nil, agreeing: 0, dissenting: 0, missing: 0))
        b[0] = 0.0; b[1] = -0.0
        #expect(Voter.failSilent(b).value == nil)  // bitwise, like exact voting
    }

    // MARK: Tolerance, against an oracle over every subset

    /// The largest mutually agreeing subset (size ≥ majority), ties by smaller spread then lower
    /// minimum; output the lower middle of its sorted values. nil when no subset is large enough.
    func toleranceOracle(_ votes: [Double?], tolerance: Double) -> (value: Double, agreeing: UInt8)? {
        let n = votes.count
        var best: (size: Int, spread: Double, low: Double, members: [Int])?
        for subset in 1..<(1 << n) {
            let members = (0..<n).filter { subset & (1 << $0) != 0 }
            guard members.allSatisfy({ votes[$0]?.isFinite == true }) else { continue }
            let values = members.map { votes[$0]! }
            let pairwise = values.allSatisfy { a in values.allSatisfy { b in abs(a - b) <= tolerance } }
            guard pairwise else { continue }
            let key = (size: members.count, spread: values.max()! - values.min()!, low: values.min()!, members: members)
            if let b = best, (b.size, -b.spread, -b.low) >= (key.size, -key.spread, -key.low) { continue }
            best = key
        }
        guard let best, best.size >= n / 2 + 1 else { return nil }
        let sorted = best.members.map { votes[$0]! }.sorted()
        return (sorted[(sorted.count - 1) / 2], bits(best.members))
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func toleranceMatchesTheSubsetOracle(replicas n: Int) {
        var decided = 0, undecided = 0
        let choices: [Double?] = [nil, 0, 0.75, 1, 2, 3.5, .nan, .infinity]
        forEveryBallot(replicas: n, choices: choices) { ballot in
            let votes = (0..<n).map { ballot[$0] }
            let outcome = Voter.tolerance(ballot, tolerance: 1)
            let missing = bits((0..<n).filter { votes[$0] == nil })
            #expect(outcome.missing == missing)
            if let expected = toleranceOracle(votes, tolerance: 1) {
                decided += 1
                #expect(outcome.value == expected.value, "\(votes)")
                #expect(outcome.agreeing == expected.agreeing, "\(votes)")
                #expect(outcome.dissenting == UInt8((1 << n) - 1) & ~expected.agreeing & ~missing, "\(votes)")
            } else {
                undecided += 1
                #expect(outcome.value == nil && outcome.agreeing == 0 && outcome.dissenting == 0, "\(votes)")
            }
        }
        #expect(decided > 0 && undecided > 0)
    }

    @Test func toleranceTieBreaksAndMedians() {
        var b = Ballot<Double>(replicas: 3)
        b[0] = 2; b[1] = 0; b[2] = 1
        // {0, 1} and {1, 2} tie in size and spread: the lower group wins; its lower middle is 0.
        #expect(Voter.tolerance(b, tolerance: 1) == VoteOutcome(value: 0, agreeing: 0b110, dissenting: 0b001, missing: 0))
        b[0] = 1.5
        // {1, 1.5} is tighter than {0, 1}.
        #expect(Voter.tolerance(b, tolerance: 1) == VoteOutcome(value: 1, agreeing: 0b101, dissenting: 0b010, missing: 0))
        // All three agree: the median is the middle one.
        #expect(Voter.tolerance(b, tolerance: 1.5) == VoteOutcome(value: 1, agreeing: 0b111, dissenting: 0, missing: 0))
        var four = Ballot<Double>(replicas: 4)
        four[0] = 4; four[1] = 3; four[2] = 1; four[3] = 2
        #expect(Voter.tolerance(four, tolerance: 3).value == 2)  // even group: the lower middle
        four[3] = nil
        #expect(Voter.tolerance(four, tolerance: 3).value == 3)  // {1, 3, 4}: the middle
        #expect(Voter.tolerance(four, tolerance: 1.5).value == nil)  // {3, 4} is 2 of 4: no majority
        // Exactly at the tolerance agrees; just beyond does not.
        var edge = Ballot<Double>(replicas: 2)
        edge[0] = 1; edge[1] = 1.25
        #expect(Voter.tolerance(edge, tolerance: 0.25).value == 1)
        #expect(Voter.tolerance(edge, tolerance: 0.25.nextDown).value == nil)
        // Zero tolerance is exact numeric equality (+0 and −0 agree here).
        var zeros = Ballot<Double>(replicas: 3)
        zeros[0] = 0.0; zeros[1] = -0.0; zeros[2] = 5
        #expect(Voter.tolerance(zeros, tolerance: 0).agreeing == 0b011)
    }

    @Test func toleranceTreatsNonFiniteVotesAsDissenting() {
        var b = Ballot<Double>(replicas: 3)
        b[0] = .nan; b[1] = 7; b[2] = 7
        #expect(Voter.tolerance(b, tolerance: 0.5) == VoteOutcome(value: 7, agreeing: 0b110, dissenting: 0b001, missing: 0))
        b[0] = .infinity; b[1] = .infinity
        #expect(Voter.tolerance(b, tolerance: 0.5).value == nil)
        b[0] = -.infinity; b[1] = 7.25
        #expect(Voter.tolerance(b, tolerance: 0.5) == VoteOutcome(value: 7, agreeing: 0b110, dissenting: 0b001, missing: 0))
        // Finite extremes whose difference overflows to +infinity do not agree.
        b[0] = .greatestFiniteMagnitude; b[1] = -.greatestFiniteMagnitude; b[2] = nil
        #expect(Voter.tolerance(b, tolerance: .greatestFiniteMagnitude).value == nil)
    }

    @Test func integerToleranceNeverOverflows() {
        var b = Ballot<Int64>(replicas: 3)
        b[0] = .min; b[1] = .max; b[2] = .max - 1
        #expect(Voter.tolerance(b, tolerance: 1) == VoteOutcome(value: .max - 1, agreeing: 0b110, dissenting: 0b001, missing: 0))
        #expect(Voter.tolerance(b, tolerance: .max).agreeing == 0b110)  // .max − .min = 2^64 − 1 > .max
        b[2] = -1
        // −1 − .min = .max: exactly the tolerance; {.min, −1}'s lower middle is .min.
        #expect(Voter.tolerance(b, tolerance: .max) == VoteOutcome(value: .min, agreeing: 0b101, dissenting: 0b010, missing: 0))
        var small = Ballot<Int64>(replicas: 5)
        for (i, v) in [100, 103, 101, 250, 102].enumerated() { small[i] = Int64(v) }
        #expect(Voter.tolerance(small, tolerance: 3) == VoteOutcome(value: 101, agreeing: 0b10111, dissenting: 0b01000, missing: 0))
        #expect(Voter.tolerance(small, tolerance: 0).value == nil)
    }

    // MARK: The ballot

    @Test func ballotHoldsOneVotePerReplica() {
        var b = Ballot<Int64>(replicas: 8)
        #expect(b.replicas == 8 && b.majority == 5 && b.allReplicas == 0xFF && b.missing == 0xFF)
        for i in 0..<8 { b[i] = Int64(i * 11) }
        for i in 0..<8 { #expect(b[i] == Int64(i * 11)) }
        #expect(b.missing == 0)
        b[3] = nil
        #expect(b.missing == 0b1000 && b[2] == 22 && b[4] == 44)
        var c = b
        c[3] = 33
        #expect(c != b)
        c[3] = nil
        #expect(c == b)
        b.clear()
        #expect(b.missing == 0xFF && b.replicas == 8)
        #expect(Ballot<Int64>(replicas: 3).majority == 2 && Ballot<Int64>(replicas: 4).majority == 3 && Ballot<Int64>(replicas: 3).allReplicas == 0b111)
        #expect(Ballot<Int64>(replicas: 3) != Ballot<Int64>(replicas: 4))
    }

    @Test func ballotPreconditionsTrap() async {
        await #expect(processExitsWith: .failure) { _ = Ballot<Int64>(replicas: 0) }
        await #expect(processExitsWith: .failure) { _ = Ballot<Int64>(replicas: 9) }
        await #expect(processExitsWith: .failure) {
            var b = Ballot<Int64>(replicas: 3)
            b[3] = 1
        }
        await #expect(processExitsWith: .failure) { _ = Ballot<Int64>(replicas: 3)[-1] }
        await #expect(processExitsWith: .failure) { _ = Voter.tolerance(Ballot<Double>(replicas: 3), tolerance: .nan) }
        await #expect(processExitsWith: .failure) { _ = Voter.tolerance(Ballot<Double>(replicas: 3), tolerance: -1) }
        await #expect(processExitsWith: .failure) { _ = Voter.tolerance(Ballot<Int64>(replicas: 3), tolerance: -1) }
    }
}
