// TaktPlatform's per-round path allocates nothing: clock reads, deadline waits (late, spinning and
// sleeping), histogram records, and sends and batched receives on a real UDP socket (including the
// empty receive), with 0 heap allocations on the calling thread after one warm-up round.
//
// A failing receive throws a `PlatformError` with typed throws, which needs no box. It cannot be
// counted as zero here, because Swift Testing hooks swift_willThrow to record a backtrace of every
// error thrown in a test (that allocates); so the test checks that the failing receive allocates
// exactly what a bare `throw` of the same error does under the same hook.

import CTaktAllocationCounter
import Testing
import TaktTestSupport
@testable import TaktPlatform
import TaktTime

@Suite("Allocation budget: platform", .hostShared)
struct PlatformAllocationTests {
    @Test func clockWaiterAndHistogramAllocateNothing() throws {
        var histogram = try LatencyHistogram(bucketWidth: .nanoseconds(10), bucketCount: 10_000)
        var source = MonotonicTimeSource(waiter: try DeadlineWaiter(spin: .microseconds(10)))
        var offset = RealtimeOffset(samples: 4)
        var before: UInt64 = 0
        var round = 0
        while round <= 2_000 {
            defer { round += 1 }
            if round == 1 { before = takt_allocations_on_this_thread() }
            let now = source.now()
            // Mostly passed deadlines (fast); every 100th round sleeps then spins, every 100th + 50 spins only.
            let deadline = round % 100 == 0 ? now + .microseconds(60) : round % 100 == 50 ? now + .microseconds(5) : now - .nanoseconds(1)
            histogram.record(source.wait(until: deadline))
            offset.refresh()
            histogram.record(offset.monotonic(fromRealtimeNanoseconds: MonotonicClock.realtimeNanoseconds()) - MonotonicClock.now())
        }
        let after = takt_allocations_on_this_thread()
        #expect(after - before == 0, "\(after - before) allocations in 2000 rounds")
        #expect(histogram.count == 4_002)
        #expect(source.waiter.statistics.sleeps >= 1)
    }

    @Test func sendAndBatchedReceiveAllocateNothing() throws {
        let medium = try UnicastFanOutMedium(UnicastConfiguration(local: SocketAddress(address: .loopback, port: 0), peers: [], kernelTimestamps: true))
        let sender = try UnicastFanOutMedium(UnicastConfiguration(local: SocketAddress(address: .loopback, port: 0),
                                                                  peers: [medium.localAddress], kernelTimestamps: true))
        let batch = try ReceiveBatch(capacity: 8, maximumDatagramBytes: 128)
        let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        frame.initializeMemory(as: UInt8.self, repeating: 0x5A)
        defer { frame.deallocate() }
        var received = 0, failures = 0, before: UInt64 = 0
        var round = 0
        while round <= 1_000 {
            defer { round += 1 }
            if round == 1 { before = takt_allocations_on_this_thread() }
            let outcome = sender.send(UnsafeRawBufferPointer(frame))
            if outcome.failed != 0 { failures += 1 }
            if try Readiness.waitForReadable(medium.fileDescriptor, until: MonotonicClock.now() + .seconds(1)) {
                let count = try medium.receive(into: batch)
                for i in 0..<count where batch[i].bytes.count == 64 && !batch[i].truncated { received += 1 }
            }
            if round % 100 == 0 { _ = try medium.receive(into: batch) }  // the empty receive (EAGAIN)
        }
        let after = takt_allocations_on_this_thread()
        #expect(after - before == 0, "\(after - before) allocations in 1000 rounds")
        #expect(failures == 0)
        #expect(received >= 990)  // loopback does not drop at this rate; allow a few stragglers
    }

    @Test func aFailingReceiveAllocatesNoMoreThanABareThrow() throws {
        defer { SyscallFaults.clearAll() }
        let medium = try UnicastFanOutMedium(UnicastConfiguration(local: SocketAddress(address: .loopback, port: 0), peers: [], kernelTimestamps: true))
        let batch = try ReceiveBatch(capacity: 4, maximumDatagramBytes: 64)
        var bare: UInt64 = 0, failing: UInt64 = 0, caught = 0
        var round = 0
        while round <= 10 {
            defer { round += 1 }
            // `do throws(PlatformError)`: a plain `do` would convert the error to `any Error`, which
            // allocates a box (the caller's choice, not the medium's).
            var start = takt_allocations_on_this_thread()
            do throws(PlatformError) { throw PlatformError.systemCall("recvmmsg", .noBufferSpace) } catch { caught += error == .systemCall("recvmmsg", .noBufferSpace) ? 1 : 0 }
            let bareRound = takt_allocations_on_this_thread() - start
            SyscallFaults.inject(.noBufferSpace, into: .receive, count: 1)
            start = takt_allocations_on_this_thread()
            do throws(PlatformError) { _ = try medium.receive(into: batch) } catch { caught += error == .systemCall("recvmmsg", .noBufferSpace) ? 1 : 0 }
            let failingRound = takt_allocations_on_this_thread() - start
            if round > 0 {  // round 0 warms up
                bare += bareRound
                failing += failingRound
            }
        }
        #expect(failing == bare, "a failing receive allocated \(failing) times, a bare throw \(bare) times, in 10 rounds")
        #expect(caught == 22)
    }
}
