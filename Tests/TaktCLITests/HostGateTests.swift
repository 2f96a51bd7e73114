// The gate that lets the real-cluster suites run alone on this host (TaktTestSupport/HostGate):
// shared holders run together, an exclusive one waits for them and then runs alone, and requests
// are served first come, first served, so a waiting exclusive request is not starved by a stream
// of shared ones. Tested on private gates, never on the process-wide one.

import Testing
import TaktTestSupport

@Suite("Host gate (readers–writer lock of the test host)", .hostShared)
struct HostGateTests {
    /// Waits until `gate` reaches `expected` (the gate's own state; no sleeps as synchronization).
    func until(_ gate: HostGate, _ expected: (shared: Int, exclusive: Bool, waiting: Int)) async {
        for _ in 0..<100_000 {
            let now = await gate.state
            if now == expected { return }
            await Task.yield()
        }
        Issue.record("the gate never reached \(expected); it is \(await gate.state)")
    }

    @Test func sharedHoldersRunTogether() async {
        let gate = HostGate()
        await gate.acquire(exclusive: false)
        await gate.acquire(exclusive: false)
        #expect(await gate.state == (2, false, 0))
        await gate.release(exclusive: false)
        await gate.release(exclusive: false)
        #expect(await gate.state == (0, false, 0))
    }

    @Test func anExclusiveRequestWaitsForSharedHoldersAndQueuesLaterOnes() async {
        let gate = HostGate()
        await gate.acquire(exclusive: false)
        let exclusive = Task { await gate.acquire(exclusive: true) }
        await until(gate, (1, false, 1))
        // A shared request made now queues behind the exclusive one, though a shared holder runs.
        let lateShared = Task { await gate.acquire(exclusive: false) }
        await until(gate, (1, false, 2))
        await gate.release(exclusive: false)
        await exclusive.value
        #expect(await gate.state == (0, true, 1), "the exclusive holder runs alone; the late shared one still waits")
        await gate.release(exclusive: true)
        await lateShared.value
        #expect(await gate.state == (1, false, 0))
        await gate.release(exclusive: false)
    }

    @Test func exclusiveHoldersNeverOverlapAndReleaseGrantsTheNextBatch() async {
        let gate = HostGate()
        await gate.acquire(exclusive: true)
        let second = Task { await gate.acquire(exclusive: true) }
        await until(gate, (0, true, 1))
        let shared = (0..<3).map { _ in Task { await gate.acquire(exclusive: false) } }
        await until(gate, (0, true, 4))
        await gate.release(exclusive: true)
        await second.value
        #expect(await gate.state == (0, true, 3))
        await gate.release(exclusive: true)
        for task in shared { await task.value }
        #expect(await gate.state == (3, false, 0), "the three shared requests are granted together")
        for _ in 0..<3 { await gate.release(exclusive: false) }
    }

    @Test func holdingReleasesWhenTheBodyThrows() async {
        struct Failure: Error {}
        let gate = HostGate()
        await #expect(throws: Failure.self) { try await gate.holding(exclusive: true) { throw Failure() } }
        #expect(await gate.state == (0, false, 0))
    }
}

extension ClusterCommandTests {
    /// The trait is in effect: a real-cluster test case holds the process-wide gate alone.
    @Test func aRealClusterTestRunsAloneOnTheHost() async {
        let now = await HostGate.shared.state
        #expect(now.exclusive && now.shared == 0)
    }
}
