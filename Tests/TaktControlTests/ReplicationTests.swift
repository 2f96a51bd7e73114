// Primary/backup with shadows: who acts for every membership of small clusters (against an
// oracle), takeover in the round after the primary leaves, preemptive return when it rejoins,
// agreement of every node, and the group's preconditions.

import Testing
import TaktTestSupport
import TaktControl
import TaktProtocol

@Suite("Shadow groups", .hostShared)
struct ReplicationTests {
    @Test func theFirstMemberInPriorityOrderActs() {
        let group = ShadowGroup(replicas: [2, 0, 3])
        var membership = MembershipVector(capacity: 5, members: 0..<5)
        #expect(group.active(in: membership) == 2)
        #expect(group.isActive(2, in: membership) && !group.isActive(0, in: membership) && !group.isActive(3, in: membership))
        #expect(!group.isActive(1, in: membership) && !group.isActive(4, in: membership))  // not replicas
        membership.remove(2)
        #expect(group.active(in: membership) == 0)
        membership.remove(0)
        #expect(group.active(in: membership) == 3)
        membership.remove(3)
        #expect(group.active(in: membership) == nil)
        #expect(!group.isActive(3, in: membership))
        membership.insert(0)
        #expect(group.active(in: membership) == 0)
        #expect(group.rank(of: 2) == 0 && group.rank(of: 0) == 1 && group.rank(of: 3) == 2 && group.rank(of: 1) == nil)
        #expect(group.replicas == [2, 0, 3])
    }

    /// Every membership of a 4-node cluster and every ordered group of 1…4 of its nodes.
    @Test func activeMatchesTheLowestRankOracleExhaustively() {
        let n = 4
        var groups: [[Int]] = [[]]
        for _ in 0..<n {
            groups += groups.flatMap { g in (0..<n).filter { !g.contains($0) }.map { g + [$0] } }
        }
        groups = Array(Set(groups.filter { !$0.isEmpty })).sorted { $0.lexicographicallyPrecedes($1) }
        #expect(groups.count == 4 + 12 + 24 + 24)
        for replicas in groups {
            let group = ShadowGroup(replicas: replicas)
            for subset in 0..<(1 << n) {
                let membership = MembershipVector(capacity: n, members: (0..<n).filter { subset & (1 << $0) != 0 })
                let members = replicas.indices.filter { membership.contains(replicas[$0]) }
                let expected = members.min().map { replicas[$0] }
                #expect(group.active(in: membership) == expected, "\(replicas) in \(membership)")
                #expect((0..<n).filter { group.isActive($0, in: membership) } == (expected.map { [$0] } ?? []))
                #expect(group.members(in: membership) == members.reduce(0) { $0 | UInt8(1 << $1) })
            }
        }
    }

    /// A run of rounds: the membership each node holds at the start of each round (agreed), the
    /// replica that sends in each round. The primary crashes in round 3 (removed at the end of its
    /// slot, so round 4 starts without it), a shadow crashes in round 7, the primary is back as a
    /// member from round 10.
    @Test func shadowTakesOverTheRoundAfterThePrimaryLeavesAndThePrimaryPreemptsOnReturn() {
        let group = ShadowGroup(replicas: [0, 1, 2])
        var membership = MembershipVector(capacity: 4, members: 0..<4)
        var senders: [[Int]] = []
        for round in 0..<13 {
            // Every node of the cluster evaluates the rule on its own copy of the agreed membership.
            let views = (0..<4).map { _ in membership }
            let acting = (0..<3).filter { replica in group.isActive(replica, in: views[replica]) && membership.contains(replica) }
            senders.append(acting)
            for node in 0..<4 { #expect(group.active(in: views[node]) == group.active(in: membership)) }
            switch round {
            case 3: membership.remove(0)   // the primary fails in round 3
            case 7: membership.remove(1)   // the first shadow fails in round 7
            case 9: membership.insert(0)   // the repaired primary's first frame in round 9
            default: break
            }
        }
        #expect(senders == [[0], [0], [0], [0], [1], [1], [1], [1], [2], [2], [0], [0], [0]])
        // Exactly one sender in every round (never two, never none while a replica is a member).
        #expect(senders.allSatisfy { $0.count == 1 })
    }

    @Test func groupPreconditionsTrap() async {
        await #expect(processExitsWith: .failure) { _ = ShadowGroup(replicas: []) }
        await #expect(processExitsWith: .failure) { _ = ShadowGroup(replicas: Array(0..<9)) }
        await #expect(processExitsWith: .failure) { _ = ShadowGroup(replicas: [1, 2, 1]) }
        await #expect(processExitsWith: .failure) { _ = ShadowGroup(replicas: [3, 1, 1]) }
        await #expect(processExitsWith: .failure) { _ = ShadowGroup(replicas: [-1]) }
        await #expect(processExitsWith: .failure) {
            _ = ShadowGroup(replicas: [4]).active(in: MembershipVector(capacity: 4, members: 0..<4))  // no node 4
        }
    }
}
