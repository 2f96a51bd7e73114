// Random fault plans within the fault hypothesis (REFERENCE.md §6, M2): one faulty node at a
// time, each fault given time to be detected and repaired before the next one starts.

import TaktTime

public enum RandomFaultPlan {
    /// A deterministic plan for `rounds` rounds of a cluster of `nodes` nodes whose acceptance
    /// window is ±`window` (Π + ε): crashes with a restart 3–15 rounds later, send omissions,
    /// receive faults of 1–2 rounds, late sends of 3–6 windows and clock steps of ±3–10 windows
    /// (outside EVERY receiver's window: a frame late by less than 2(Π + ε) may be accepted by some
    /// receivers and not others — the slightly-off-specification fault, outside the hypothesis), and
    /// babbling for 1–5 rounds, separated by 8–38 quiet rounds.
    public static func generate(seed: UInt64, nodes: Int, rounds: UInt64, window: Interval = .microseconds(40)) -> [SimulatedFault] {
        precondition(nodes >= 1)
        // A stream of its own (the seed's complement), so the plan does not shift the run's draws.
        var random = SimulationRandom(seed: ~seed)
        var faults: [SimulatedFault] = []
        let w = max(window.nanoseconds, 1_000)
        var t = UInt64(10 + random.below(30))
        while t + 20 < rounds {
            let node = Int(random.below(UInt64(nodes)))
            switch random.below(8) {
            case 0, 1, 2:
                let down = UInt64(3 + random.below(13))
                faults.append(.crash(node: node, round: t))
                faults.append(.restart(node: node, round: t + down))
                t += down + 4
            case 3, 4:
                faults.append(.sendOmission(node: node, round: t))
                t += 5
            case 5:
                let k = UInt64(1 + random.below(2))
                faults.append(.receiveOmission(node: node, round: t, rounds: k))
                t += k + 8
            case 6:
                if random.below(2) == 0 {
                    faults.append(.lateSend(node: node, round: t, delay: .nanoseconds(w * Int64(3 + random.below(4)))))
                    t += 5
                } else {
                    let step = w * Int64(3 + random.below(8))
                    faults.append(.clockStep(node: node, round: t, step: .nanoseconds(random.below(2) == 0 ? step : -step)))
                    t += 8
                }
            default:
                let k = UInt64(1 + random.below(5))
                faults.append(.babbling(node: node, round: t, rounds: k))
                t += k + 2
            }
            t += UInt64(8 + random.below(31))
        }
        return faults
    }
}
