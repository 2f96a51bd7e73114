// The virtual oscillator: exact inverse, drift and offset as injected; the node record round-trips.

import Testing
import TaktTestSupport
import TaktRuntime
import TaktTime

@Suite("Virtual oscillator and node records", .hostShared)
struct VirtualOscillatorTests {
    @Test func hostOfLocalIsTheEarliestInstantReachingIt() {
        for ppb: Int64 in [-100_000, -1, 0, 7, 100_000, 5_000_000] {
            let o = VirtualOscillator(base: LocalInstant(nanoseconds: 1_000_000), offset: .microseconds(-350), drift: DriftRate(partsPerBillion: ppb))
            var x: Int64 = 12_345
            for _ in 0..<2_000 {
                x = (x &* 6364136223846793005 &+ 1442695040888963407)
                let local = LocalInstant(nanoseconds: 1_000_000 + Int64(UInt64(bitPattern: x) % 10_000_000_000_000))
                let host = o.host(atLocal: local)
                #expect(o.local(atHost: host) >= local)
                #expect(o.local(atHost: host - .nanoseconds(1)) < local)
            }
        }
    }

    @Test func driftAndOffsetAreWhatWasInjected() {
        let o = VirtualOscillator(base: .zero, offset: .milliseconds(2), drift: .partsPerMillion(100))
        #expect(o.local(atHost: .zero) == LocalInstant(nanoseconds: 2_000_000))
        // 1 s of host time: 1 s + 100 us of local time.
        #expect(o.local(atHost: LocalInstant(nanoseconds: 1_000_000_000)) == LocalInstant(nanoseconds: 1_002_100_000))
    }

    @Test func recordRoundTripsAndGarbageIsRefused() {
        var counters = NodeCounters()
        counters.sent = 7; counters.foreign = 3; counters.recordsDropped = 1; counters.overruns = 2
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: RecordLayout.bytes, alignment: 8)
        defer { buffer.deallocate() }
        RecordWriter.write(kind: .roundEnd, status: 3, node: 2, mode: 1, round: 99, host: LocalInstant(nanoseconds: 123), cluster: -5,
                           membershipWords: (0b1011, 0, 1 << 63, 0), counters: counters,
                           lateness: (.nanoseconds(10), .zero, .zero), planned: LocalInstant(nanoseconds: 120), deviationCount: 4,
                           deviation: { $0 == 1 ? nil : Int32($0 * 100) }, into: buffer)
        let record = NodeRecord.decode(UnsafeRawBufferPointer(buffer))
        #expect(record?.kind == .roundEnd && record?.node == 2 && record?.mode == 1 && record?.round == 99 && record?.cluster == -5)
        #expect(record?.latenessA == .nanoseconds(10) && record?.planned == LocalInstant(nanoseconds: 120) && record?.latenessB == .zero)
        #expect(record?.counters == counters && record?.deviations == [0, nil, 200, 300])
        #expect(record?.isMember(0) == true && record?.isMember(2) == false && record?.isMember(191) == true && record?.isMember(300) == false)
        // A summary carries the run's percentiles where round records carry the due instant.
        RecordWriter.write(kind: .summary, status: 3, node: 2, mode: 1, round: 99, host: LocalInstant(nanoseconds: 123), cluster: -5,
                           membershipWords: (0, 0, 0, 0), counters: counters, lateness: (.nanoseconds(10), .nanoseconds(20), .nanoseconds(30)),
                           deviationCount: 0, deviation: { _ in nil }, into: buffer)
        let summary = NodeRecord.decode(UnsafeRawBufferPointer(buffer))
        #expect(summary?.latenessB == .nanoseconds(20) && summary?.latenessC == .nanoseconds(30) && summary?.planned == nil)
        let garbage = [UInt8](repeating: 0xEE, count: RecordLayout.bytes)
        #expect(garbage.withUnsafeBytes { NodeRecord.decode($0) } == nil)
        #expect([UInt8](repeating: 1, count: 10).withUnsafeBytes { NodeRecord.decode($0) } == nil)
    }
}
