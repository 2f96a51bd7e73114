// Primary/backup with shadows, decided by the agreed membership (MARS shadow components).
//
// In MARS a critical component runs on two or more nodes at once (active redundancy): all of
// them receive the same inputs and compute, but only one — the primary — sends its outputs; the
// others are shadows that compute silently, so each has a current state at every moment. When the
// primary fails, a shadow starts sending without any state transfer or recovery protocol. What
// makes this work in a time-triggered system is that every correct node holds the same membership
// at the same cluster instant (TaktProtocol's membership agreement, REFERENCE.md §3): the question
// "who acts?" is a pure function of that agreed vector, so every replica answers it the same way
// in the same round, and no extra message or election is needed.
//
// The rule: the replicas are listed in priority order; the active replica is the first one in the
// list that is a member. Consequences:
//   - Takeover: the primary leaves the membership at the end of the slot in which its frame was
//     missing or wrong (the protocol's target detection latency is ≤ 1 round + 1 slot); from the
//     next activation that sees the new membership — the next round — the first shadow in line is
//     active. Every correct node switches at the same activation, so the rule never names two
//     replicas; the only outputs lost are those the failed primary did not send before removal.
//   - Return (preemptive): when the primary rejoins the membership it is active again from the next
//     activation, and the shadow falls silent. Chosen over "the shadow stays active" because that
//     rule depends on the membership's history, not its present value: a node that restarts or
//     integrates has no history, so it could not compute who is active from the agreed state it
//     adopts, and the replicas could disagree. The preemptive rule needs no state at all. The
//     switch back costs no output (one round the shadow sends, the next the primary does), but it
//     requires that a replica's state is current when it rejoins: a restarted replica must restore
//     its state (checkpoint plus state transfer from its shadows) before it sends its first frame,
//     i.e. before it re-enters the membership. An application that cannot ensure that may pass
//     `active(in:)` a copy of the membership without the replicas that are not ready yet, provided
//     readiness is itself agreed (for example announced in the replica's own atomically broadcast
//     messages, which every node receives alike).
//   - No replica in the membership: nobody is active (nil); the outputs stop (fail-silent).
//
// Allocation: the priority list is stored once, at init; `active(in:)` and `isActive` allocate
// nothing.

import TaktProtocol

/// A primary and its shadows: node indices in priority order. Who acts is decided by the agreed
/// membership alone (see the file header for the rule and why the primary takes over again when it
/// rejoins).
///
/// Invariants: 1...8 replicas, distinct node indices ≥ 0.
public struct ShadowGroup: Sendable, Equatable {
    /// The replicas' node indices, primary first, then the shadows in the order they take over.
    public let replicas: [Int]

    /// node indices in priority order (1...8); allocation at init only
    /// PRECONDITION 1...8 replicas, each ≥ 0, no node twice.
    public init(replicas: [Int]) {
        precondition(replicas.count >= 1 && replicas.count <= 8, "a shadow group has 1...8 replicas, not \(replicas.count)")
        for i in replicas.indices {
            precondition(replicas[i] >= 0, "shadow group replica \(replicas[i]) is not a node index")
            for j in replicas.indices where j < i {
                precondition(replicas[j] != replicas[i], "node \(replicas[i]) appears twice in the shadow group")
            }
        }
        self.replicas = replicas
    }

    /// The replica that acts (sends outputs) given the agreed membership: the first replica in the membership.
    /// Every correct node computes the same answer from the same agreed membership, so a shadow takes over
    /// in the round after the primary leaves the membership (within one round).
    /// nil when no replica is a member. PRECONDITION every replica < membership.capacity.
    public func active(in membership: MembershipVector) -> Int? {
        for rank in 0..<replicas.count where membership.contains(replicas[rank]) { return replicas[rank] }
        return nil
    }

    /// Whether `node` is the active replica in `membership` (false for a node outside the group).
    /// PRECONDITION every replica < membership.capacity.
    public func isActive(_ node: Int, in membership: MembershipVector) -> Bool {
        active(in: membership) == node
    }

    /// `node`'s position in the priority order (0 = primary), or nil if it is not a replica. Also
    /// the index of its vote when the group's outputs are voted on (`Ballot`).
    public func rank(of node: Int) -> Int? {
        for rank in 0..<replicas.count where replicas[rank] == node { return rank }
        return nil
    }

    /// Bit r set when the replica of rank r is a member: the replicas that may vote this round.
    /// (`Ballot` and `VoteOutcome` number replicas by rank.) PRECONDITION every replica < membership.capacity.
    public func members(in membership: MembershipVector) -> UInt8 {
        var bits: UInt8 = 0
        for rank in 0..<replicas.count where membership.contains(replicas[rank]) { bits |= 1 << UInt8(rank) }
        return bits
    }
}
