// The control path allocates nothing: 10,000 votes of each kind, 10,000 state-message store/load
// round trips, event counting and shadow decisions, with 0 heap allocations on the test's thread
// (counted by the CTaktAllocationCounter interposer, as in TaktAllocationTests).

import CTaktAllocationCounter
import Testing
import TaktTestSupport
import TaktControl
import TaktProtocol
import TaktTime

@Suite("Control allocation budget", .hostShared)
struct ControlAllocationTests {
    static let iterations = 10_000

    @Test func theCounterCountsAllocations() {
        let before = takt_allocations_on_this_thread()
        let array = [Int](repeating: 1, count: 1_000)
        #expect(takt_allocations_on_this_thread() > before && array.count == 1_000)
    }

    @Test func votingAllocatesNothing() {
        var messages = Ballot<StateMessage<Double>>(replicas: 3)
        var doubles = Ballot<Double>(replicas: 5)
        var integers = Ballot<Int64>(replicas: 4)
        var opaque = Ballot<Opaque>(replicas: 3)
        var decided = 0
        var before: UInt64 = 0
        for i in 0..<(Self.iterations + 1) {
            if i == 1 { before = takt_allocations_on_this_thread() }  // iteration 0 warms up
            let x = Double(i) * 0.001
            let message = StateMessage(value: x, observedAt: ClusterInstant(nanoseconds: Int64(i)), validity: .microseconds(1))
            messages.clear()
            messages[0] = message
            messages[1] = i % 3 == 0 ? nil : message
            messages[2] = StateMessage(value: -x, observedAt: message.observedAt, validity: message.validity)
            if Voter.exact(messages).value != nil { decided += 1 }
            if Voter.failSilent(messages).value != nil { decided += 1 }
            for r in 0..<5 { doubles[r] = r == i % 5 ? .nan : x + Double(r) * 1e-7 }
            if Voter.tolerance(doubles, tolerance: 1e-6).value != nil { decided += 1 }
            if Voter.exact(doubles).value != nil { decided += 1 }
            for r in 0..<4 { integers[r] = Int64(i &* (r == 3 ? 7 : 1)) + Int64(r) }
            if Voter.tolerance(integers, tolerance: 2).value != nil { decided += 1 }
            if Voter.exact(integers).value != nil { decided += 1 }
            opaque[0] = Opaque(x: x); opaque[1] = Opaque(x: x); opaque[2] = Opaque(x: -x)
            if Voter.exact(opaque).value != nil { decided += 1 }
        }
        let allocations = takt_allocations_on_this_thread() - before
        #expect(allocations == 0, "\(allocations) allocations in \(Self.iterations) rounds of votes")
        #expect(decided > 3 * Self.iterations)  // the votes did decide (not all trivially nil): about 3.67 per round
    }

    @Test func stateMessagesEventsAndShadowsAllocateNothing() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        defer { buffer.deallocate() }
        let group = ShadowGroup(replicas: [3, 1, 2])
        var membership = MembershipVector(capacity: 4, members: 0..<4)
        var counter = EventCounter()
        var loaded = 0, active = 0
        var before: UInt64 = 0
        for i in 0..<(Self.iterations + 1) {
            if i == 1 { before = takt_allocations_on_this_thread() }
            let now = ClusterInstant(nanoseconds: Int64(i) * 1_000)
            let message = StateMessage(value: Double(i), observedAt: now, validity: .microseconds(2))
            message.store(to: buffer)
            if let back = StateMessage<Double>(loading: UnsafeRawBufferPointer(buffer)), back == message, back.isValid(at: now) { loaded += 1 }
            counter.record(at: now)
            let observed = counter.observe(at: now, validity: .zero)
            observed.store(to: UnsafeMutableRawBufferPointer(rebasing: buffer[1...]))  // unaligned
            if StateMessage<EventState>(loading: UnsafeRawBufferPointer(rebasing: buffer[1...])) == observed { loaded += 1 }
            if i % 2 == 0 { membership.remove(3) } else { membership.insert(3) }
            if group.isActive(3, in: membership) || group.active(in: membership) == 1 { active += 1 }
        }
        let allocations = takt_allocations_on_this_thread() - before
        #expect(allocations == 0, "\(allocations) allocations in \(Self.iterations) store/load round trips")
        #expect(loaded == 2 * (Self.iterations + 1) && active == Self.iterations + 1)
    }
}
