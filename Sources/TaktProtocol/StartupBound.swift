// The worst-case cold-start time (Docs/protocol.md, "Startup"): from the instant the last correct
// node is powered and listening to the instant every correct node is active and in every correct
// node's membership, with no fault during startup.
//
//   τ_i   = 2R + o_i, node i's unique listen timeout (o_i: offset of its first slot in the initial mode)
//   τ_max = the largest τ_i among the nodes that may cold start
//   d     = propagation + ε (the latest a frame is seen after it is sent)
//
//   1. The first cold-start frame after t0 leaves by t0 + τ_max·(1+ρ): every timer running at t0
//      expires within τ_max of local time, and a restart of a timer after t0 needs a cold-start frame.
//   2. If other nodes' timers expired within d of it (contention), every contender and listener
//      restarts its timer on those frames, all within [t1, t1 + 2d]; the unique timeouts then differ
//      by at least a slot (assumed > 3d: the restarts spread over 2d and the winner's frame takes up
//      to d more), so the smallest one wins alone, by t1 + d + τ_max·(1+ρ).
//   3. Its next cold-start frame, one round later, is adopted by every listener (big bang passed).
//   4. Within one more round every node has sent once and been accepted: full membership.
//
//   T_startup = (2·τ_max + 2R)·(1 + ρ) + 2d        (≤ 8R·(1+ρ) + 2d, since τ_max < 3R)

import TaktSchedule
import TaktTime

public enum StartupBound {
    /// The worst-case startup time of a validated schedule's cluster (no faults during startup).
    public static func worstCase(schedule: Schedule) -> Interval {
        let mode = schedule.modes[schedule.initialMode]
        let round = schedule.cluster.round
        var largestOffset = Interval.zero
        for node in schedule.nodes.indices {
            if let slot = mode.slots.first(where: { $0.sender == node }) { largestOffset = max(largestOffset, slot.offset) }
        }
        let tauMax = round * 2 + largestOffset
        let base = tauMax * 2 + round * 2
        // (1 + ρ) rounded up: base + ⌈base·ρ⌉.
        let ppb = schedule.cluster.drift.partsPerBillion
        let drift = Interval(nanoseconds: (base.nanoseconds / 1_000_000_000) * ppb + ((base.nanoseconds % 1_000_000_000) * ppb + 999_999_999) / 1_000_000_000)
        let d = schedule.cluster.propagation + schedule.cluster.readingError
        return base + drift + d * 2
    }
}
