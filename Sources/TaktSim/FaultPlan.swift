// Random fault plans within the fault hypothesis (REFERENCE.md §6, M2): one faulty node at a
// time, each fault given time to be detected and repaired before the next one starts.

public enum RandomFaultPlan {
    /// A deterministic plan for `rounds` rounds of a cluster of `nodes` nodes: crashes with a
    /// restart 3–15 rounds later, and send omissions, separated by 8–38 quiet rounds.
    public static func generate(seed: UInt64, nodes: Int, rounds: UInt64) -> [SimulatedFault] {
        precondition(nodes >= 1)
        // A stream of its own (the seed's complement), so the plan does not shift the run's draws.
        var random = SimulationRandom(seed: ~seed)
        var faults: [SimulatedFault] = []
        var t = UInt64(10 + random.below(30))
        while t + 20 < rounds {
            let node = Int(random.below(UInt64(nodes)))
            if random.below(2) == 0 {
                let down = UInt64(3 + random.below(13))
                faults.append(.crash(node: node, round: t))
                faults.append(.restart(node: node, round: t + down))
                t += down + 4
            } else {
                faults.append(.sendOmission(node: node, round: t))
                t += 5
            }
            t += UInt64(8 + random.below(31))
        }
        return faults
    }
}
