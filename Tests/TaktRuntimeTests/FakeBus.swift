// A deterministic stand-in for the host clock and the network, for driving several executives in
// one thread: each node has its own fake clock (an executive's waits jump it forward), and a bus
// of fixed ring buffers delivers each frame to every other node 1 us after it was sent. Nothing
// here allocates after set-up (the allocation test runs executives over it).

import TaktPlatform
import TaktTime

final class FakeClock {
    var now: Int64
    init(_ now: Int64) { self.now = now }
}

struct FakeTime: TimeSource {
    let clock: FakeClock
    mutating func now() -> LocalInstant { LocalInstant(nanoseconds: clock.now) }
    mutating func wait(until deadline: LocalInstant) -> Interval {
        if clock.now < deadline.nanoseconds { clock.now = deadline.nanoseconds }
        return LocalInstant(nanoseconds: clock.now) - deadline
    }
}

final class FakeBus {
    let nodes: Int
    let slots = 64
    let frameBytes: Int
    let propagation: Int64
    let storage: UnsafeMutableRawBufferPointer
    var lengths: [Int]
    var arrivals: [Int64]
    var heads: [Int]
    var tails: [Int]
    var clocks: [FakeClock]
    var dropped = 0
    /// Nodes whose frames are not delivered (a crash, from the others' point of view).
    var silent: [Bool]

    init(nodes: Int, frameBytes: Int, propagation: Int64, clocks: [FakeClock]) {
        self.nodes = nodes
        self.frameBytes = frameBytes
        self.propagation = propagation
        self.clocks = clocks
        storage = .allocate(byteCount: nodes * slots * frameBytes, alignment: 8)
        lengths = [Int](repeating: 0, count: nodes * slots)
        arrivals = [Int64](repeating: 0, count: nodes * slots)
        heads = [Int](repeating: 0, count: nodes)
        tails = [Int](repeating: 0, count: nodes)
        silent = [Bool](repeating: false, count: nodes)
    }

    deinit { storage.deallocate() }

    func send(from sender: Int, _ frame: UnsafeRawBufferPointer) {
        guard !silent[sender] else { return }
        for node in 0..<nodes where node != sender {
            guard tails[node] - heads[node] < slots else { dropped += 1; continue }
            let cell = node * slots + tails[node] % slots
            (storage.baseAddress! + cell * frameBytes).copyMemory(from: frame.baseAddress!, byteCount: min(frame.count, frameBytes))
            lengths[cell] = min(frame.count, frameBytes)
            arrivals[cell] = clocks[sender].now + propagation
            tails[node] += 1
        }
    }

    func receive(for node: Int, into batch: ReceiveBatch) -> Int {
        batch.removeAll()
        let now = clocks[node].now
        while heads[node] < tails[node] {
            let cell = node * slots + heads[node] % slots
            guard arrivals[cell] <= now else { break }
            let bytes = UnsafeRawBufferPointer(start: storage.baseAddress! + cell * frameBytes, count: lengths[cell])
            guard batch.append(bytes, source: SocketAddress(address: IPv4Address(127, 0, 0, 1), port: UInt16(node)),
                               arrival: LocalInstant(nanoseconds: arrivals[cell]), timestampSource: .kernel) else { break }
            heads[node] += 1
        }
        return batch.count
    }
}

struct FakeMedium: Medium {
    let bus: FakeBus
    let node: Int
    var fileDescriptor: Int32 { -1 }
    mutating func send(_ frame: UnsafeRawBufferPointer) -> SendOutcome {
        bus.send(from: node, frame)
        return SendOutcome(sent: 1, failed: 0, firstError: nil)
    }
    mutating func receive(into batch: ReceiveBatch) throws(PlatformError) -> Int { bus.receive(for: node, into: batch) }
}
