// Fault injection (REFERENCE.md §6, M10): single bit flips in one replica of a replicated task
// must be masked by voting, 100 % of at least 3,000 injections per campaign.
//
// Each trial: three replicas compute the same output from the same input (replica determinism),
// each encodes its StateMessage into its own buffer as it would into its frame; one random bit of
// one random replica's bytes is flipped; the consumer decodes each message and checks its temporal
// validity at its own read instant — a message that no longer decodes or is not valid is an
// omission (no vote) — and votes.
//
// What "masked" means, and what each campaign asserts for 100 % of its flips:
//   exact voting       the output is the correct message, bit for bit, and the flipped replica is
//                      flagged dissenting or missing (every single flip changes the bytes, so a
//                      flipped message that still decodes is a different vote);
//   tolerance voting   (correct replicas identical) a value is produced and it is within the
//                      tolerance of the correct value; the flipped replica is flagged dissenting or
//                      missing whenever its value is farther than the tolerance from the correct one
//                      or not finite; a flip below the tolerance may agree — that is not a failure,
//                      the output still is within the tolerance. (With three replicas and two
//                      identical correct votes the median is even exactly the correct value, which
//                      the campaign checks too.)
//   tolerance voting   (correct replicas differ by up to the tolerance, as with separate sensors)
//                      a value is produced, it is within the tolerance of at least one correct
//                      value, and a flipped value farther than the tolerance from every correct
//                      value, or not finite, is flagged dissenting or missing.

import Testing
import TaktTestSupport
import TaktControl
import TaktTime

@Suite("Fault injection: bit flips in one replica", .hostShared)
struct FaultInjectionTests {
    static let replicas = 3
    static let validity = Interval.milliseconds(15)

    /// One replica's message after a possible bit flip in its encoded bytes, as the consumer sees
    /// it at `now`: nil when it no longer decodes or is not valid then (an omission).
    static func received<Value: FixedLayout & Equatable>(_ message: StateMessage<Value>, flipping bit: Int?, at now: ClusterInstant) -> StateMessage<Value>? {
        var bytes = encoded(message)
        if let bit { bytes[bit / 8] ^= 1 << UInt8(bit % 8) }
        guard let decoded = decoded(bytes, as: StateMessage<Value>.self), decoded.isValid(at: now) else { return nil }
        return decoded
    }

    /// The exact-voting campaign for one value type: returns (flips, masked, omissions).
    func exactCampaign<Value: FixedLayout & Equatable>(seed: UInt64, flips: Int, compute: (inout SplitMix64) -> Value) -> (flips: Int, masked: Int, omissions: Int) {
        var rng = SplitMix64(seed: seed)
        let bits = StateMessage<Value>.byteCount * 8
        var bitHit = [Bool](repeating: false, count: bits)
        var masked = 0, omissions = 0
        for trial in 0..<flips {
            // The replicas' common release and their (identical) output.
            let release = ClusterInstant(nanoseconds: Int64(trial) * 10_000_000)
            let output = StateMessage(value: compute(&rng), observedAt: release, validity: Self.validity)
            let now = release + .milliseconds(Int64(rng.int(1...10)))
            let faulty = rng.int(0...(Self.replicas - 1))
            let bit = rng.int(0...(bits - 1))
            bitHit[bit] = true
            var ballot = Ballot<StateMessage<Value>>(replicas: Self.replicas)
            for r in 0..<Self.replicas { ballot[r] = Self.received(output, flipping: r == faulty ? bit : nil, at: now) }
            if ballot[faulty] == nil { omissions += 1 }
            let outcome = Voter.exact(ballot)
            let faultyBit = UInt8(1 << faulty)
            let ok = outcome.value.map { $0.isBitwiseEqual(to: output) } == true
                && (outcome.dissenting | outcome.missing) == faultyBit
                && outcome.agreeing == ballot.allReplicas & ~faultyBit
            if ok { masked += 1 } else { Issue.record("trial \(trial): replica \(faulty) bit \(bit) not masked: \(outcome)") }
        }
        #expect(bitHit.allSatisfy { $0 }, "every bit position of the layout was flipped at least once")
        return (flips, masked, omissions)
    }

    @Test func exactVotingMasksEveryBitFlipInAStateMessageOfDouble() {
        // The output: a PI controller's command from a sampled level (deterministic arithmetic).
        let result = exactCampaign(seed: 0xB17F_11B5, flips: 6_000) { rng in
            let level = rng.double(0, 2), setpoint = 1.25
            return min(1, max(0, 0.8 * (setpoint - level) + 0.35))
        }
        print("M10 exact/StateMessage<Double>: \(result.flips) flips, \(result.masked) masked, \(result.omissions) as omissions")
        #expect(result.flips >= 3_000 && result.masked == result.flips)
        #expect(result.omissions > 0 && result.omissions < result.flips)  // both kinds of single fault occurred
    }

    @Test func exactVotingMasksEveryBitFlipInAStateMessageOfEventState() {
        var counter = EventCounter()
        var instant: Int64 = 0
        let result = exactCampaign(seed: 0xE7E2_7, flips: 4_000) { rng in
            instant += Int64(rng.int(1...1_000_000))
            counter.record(UInt64(rng.int(0...3)), at: ClusterInstant(nanoseconds: instant))
            return counter.observe(at: ClusterInstant(nanoseconds: instant), validity: .zero).value
        }
        print("M10 exact/StateMessage<EventState>: \(result.flips) flips, \(result.masked) masked, \(result.omissions) as omissions")
        #expect(result.flips >= 3_000 && result.masked == result.flips)
        #expect(result.omissions > 0 && result.omissions < result.flips)
    }

    @Test func toleranceVotingMasksEveryBitFlipWithIdenticalReplicas() {
        var rng = SplitMix64(seed: 0x701E_2A9C)
        let flips = 6_000
        let tolerance = 1e-6
        var masked = 0, exact = 0, agreedBelowTolerance = 0, timestampOnly = 0, flaggedBeyond = 0, omissions = 0
        for trial in 0..<flips {
            let release = ClusterInstant(nanoseconds: Int64(trial) * 10_000_000)
            let correct = rng.double(-100, 100)
            let output = StateMessage(value: correct, observedAt: release, validity: Self.validity)
            let now = release + .milliseconds(Int64(rng.int(0...15)))
            let faulty = rng.int(0...(Self.replicas - 1))
            let bit = rng.int(0...(StateMessage<Double>.byteCount * 8 - 1))
            var ballot = Ballot<Double>(replicas: Self.replicas)
            for r in 0..<Self.replicas { ballot[r] = Self.received(output, flipping: r == faulty ? bit : nil, at: now)?.value }
            let outcome = Voter.tolerance(ballot, tolerance: tolerance)
            let faultyBit = UInt8(1 << faulty)
            var ok = false
            if let value = outcome.value, abs(value - correct) <= tolerance {
                ok = true
                if let vote = ballot[faulty] {
                    if !vote.isFinite || abs(vote - correct) > tolerance {
                        ok = outcome.dissenting == faultyBit  // far away: must be outvoted
                        flaggedBeyond += 1
                    } else if outcome.agreeing & faultyBit != 0 {
                        // A tiny flip in the value, or one in the timestamps that left the message valid.
                        if vote.bitPattern != correct.bitPattern { agreedBelowTolerance += 1 } else { timestampOnly += 1 }
                    }
                } else {
                    ok = outcome.missing == faultyBit
                    omissions += 1
                }
                if value.bitPattern == correct.bitPattern { exact += 1 }
            }
            if ok { masked += 1 } else { Issue.record("trial \(trial): replica \(faulty) bit \(bit) not masked: \(ballot) → \(outcome)") }
        }
        print("M10 tolerance/Double (identical replicas, tolerance \(tolerance)): \(flips) flips, \(masked) masked, "
              + "\(flaggedBeyond) beyond tolerance outvoted, \(agreedBelowTolerance) value flips within tolerance agreeing, "
              + "\(timestampOnly) timestamp flips still valid, \(omissions) omissions, "
              + "\(exact) outputs bit-exact")
        #expect(flips >= 3_000 && masked == flips)
        #expect(exact == flips)  // the median of {c, c, x} and of {c, c} is c
        #expect(flaggedBeyond > 0 && agreedBelowTolerance > 0 && omissions > 0)  // every regime exercised
    }

    @Test func toleranceVotingMasksEveryBitFlipWithDivergingReplicas() {
        var rng = SplitMix64(seed: 0xD1FF_E2)
        let flips = 6_000
        let tolerance = 0.01
        var masked = 0, flaggedBeyond = 0, withinTolerance = 0
        for trial in 0..<flips {
            let release = ClusterInstant(nanoseconds: Int64(trial) * 10_000_000)
            // Each replica reads its own sensor: the true level plus noise, all within the tolerance.
            let level = rng.double(0, 2)
            let correct = (0..<Self.replicas).map { _ in level + rng.double(-tolerance / 2, tolerance / 2) }
            let faulty = rng.int(0...(Self.replicas - 1))
            let bit = rng.int(0...(StateMessage<Double>.byteCount * 8 - 1))
            let now = release + .milliseconds(Int64(rng.int(0...15)))
            var ballot = Ballot<Double>(replicas: Self.replicas)
            for r in 0..<Self.replicas {
                let output = StateMessage(value: correct[r], observedAt: release, validity: Self.validity)
                ballot[r] = Self.received(output, flipping: r == faulty ? bit : nil, at: now)?.value
            }
            let healthy = (0..<Self.replicas).filter { $0 != faulty }.map { correct[$0] }
            let outcome = Voter.tolerance(ballot, tolerance: tolerance)
            let faultyBit = UInt8(1 << faulty)
            var ok = false
            if let value = outcome.value, healthy.contains(where: { abs(value - $0) <= tolerance }) {
                ok = true
                if let vote = ballot[faulty], !vote.isFinite || healthy.allSatisfy({ abs(vote - $0) > tolerance }) {
                    ok = outcome.dissenting == faultyBit
                    flaggedBeyond += 1
                } else if ballot[faulty] != nil {
                    withinTolerance += 1
                }
            }
            if ok { masked += 1 } else { Issue.record("trial \(trial): replica \(faulty) bit \(bit) not masked: \(ballot) → \(outcome)") }
        }
        print("M10 tolerance/Double (diverging replicas, tolerance \(tolerance)): \(flips) flips, \(masked) masked, "
              + "\(flaggedBeyond) beyond tolerance outvoted, \(withinTolerance) within tolerance")
        #expect(flips >= 3_000 && masked == flips)
        #expect(flaggedBeyond > 0 && withinTolerance > 0)
    }
}
