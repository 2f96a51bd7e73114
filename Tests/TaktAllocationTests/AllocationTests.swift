// The protocol's per-round path allocates nothing: 10,000 rounds of four controllers exchanging
// frames (write values, transmit, receive, judge, deliver, correct) with 0 heap allocations on the
// stepping thread.

import CTaktAllocationCounter
import Foundation
import Testing
import TaktTestSupport
import TaktProtocol
import TaktSchedule
import TaktTime

@Suite("Allocation budget", .hostShared)
struct AllocationTests {
    @Test func theCounterCountsAllocations() {
        let before = takt_allocations_on_this_thread()
        let array = [Int](repeating: 1, count: 1_000)
        let after = takt_allocations_on_this_thread()
        #expect(array.count == 1_000)
        #expect(after > before)
    }

    @Test func protocolRoundsAllocateNothing() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let result = ScheduleChecker.check(try String(contentsOfFile: url.path + "/Schedules/minimal.takt", encoding: .utf8))
        let schedule = try #require(result.schedule), derived = try #require(result.derived)
        let codec = try FrameCodec(schedule: schedule)
        let n = schedule.nodes.count
        let slots = schedule.modes[0].slots
        var controllers = (0..<n).map { node in
            NodeController(configuration: ControllerConfiguration(schedule: schedule, derived: derived, node: node),
                           codec: codec, anchor: .zero, cluster: .zero, members: MembershipVector(capacity: n, members: 0..<n))
        }
        defer { for i in controllers.indices { controllers[i].deallocate() } }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: codec.maximumFrameBytes, alignment: 8)
        defer { buffer.deallocate() }
        let valueBytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
        valueBytes.initializeMemory(as: UInt8.self, repeating: 7)
        defer { valueBytes.deallocate() }
        let value = UnsafeRawBufferPointer(valueBytes)
        var deliveries = 0
        let rounds: UInt64 = 10_000
        var accepted = 0

        // Round 0 is a warm-up outside the measurement (lazy runtime metadata may allocate once).
        // The loop is written inline: a nested function capturing `controllers` would box it.
        let propagation = schedule.cluster.propagation
        let roundLength = schedule.cluster.round.nanoseconds
        let senders = slots.map(\.sender)
        var before: UInt64 = 0
        var firstAllocatingRound: (UInt64, UInt64)?
        // A `while` loop: in debug builds, iterating a ClosedRange<UInt64> allocates by itself.
        var r: UInt64 = 0
        while r <= rounds {
            defer { r += 1 }
            if r == 1 { before = takt_allocations_on_this_thread() }
            let roundStart = takt_allocations_on_this_thread()
            for s in 0..<senders.count {
                let sender = senders[s]
                let start = controllers[sender].slotStart(round: r, slot: s)
                let local = LocalInstant(nanoseconds: start.nanoseconds)
                for m in 0..<schedule.messages.count where schedule.messages[m].sender == sender {
                    controllers[sender].write(message: m, value)
                }
                guard let length = controllers[sender].transmit(round: r, slot: s, lateness: .zero, into: buffer) else { continue }
                for node in 0..<n where node != sender {
                    controllers[node].frameArrived(UnsafeRawBufferPointer(rebasing: buffer[0..<length]),
                                                   at: local + propagation + .nanoseconds(Int64(node) * 100))
                    if case .correct = controllers[node].windowClosed(round: r, slot: s) { accepted += 1 }
                }
                for node in 0..<n {
                    controllers[node].deliver(round: r, slot: s) { d in if d.delivered { deliveries += 1 } }
                }
            }
            let end = LocalInstant(nanoseconds: Int64(r + 1) * roundLength)
            for node in 0..<n { _ = controllers[node].roundEnded(round: r, at: end) }
            let delta = takt_allocations_on_this_thread() - roundStart
            if delta > 0 && firstAllocatingRound == nil && r > 0 { firstAllocatingRound = (r, delta) }
        }
        let after = takt_allocations_on_this_thread()
        #expect(after - before == 0, "\(after - before) allocations in \(rounds) rounds; first in round \(String(describing: firstAllocatingRound))")
        #expect(accepted == Int(rounds + 1) * slots.count * (n - 1))
        #expect(deliveries == Int(rounds + 1) * schedule.messages.count * n)  // every state message, to every node
        let allActive = controllers.allSatisfy { $0.isActive }
        #expect(allActive)
    }
}
