// The latency probe (`takt node --latency-records`) on four executives over the fake bus: senders
// stamp, receivers measure, the records decode; every destination measures every message; each
// latency lies within Δ ± (Π + ρ(Δ + Π)) (fake time has no dispatch lateness); and the hooks keep
// the executive's loop free of allocations.

import CTaktAllocationCounter
import Testing
import TaktTestSupport
import TaktPlatform
import TaktProtocol
import TaktRuntime
import TaktSchedule
import TaktTime

/// Latency records copied into memory allocated up front (the sink must not allocate).
final class RecordStore {
    let capacity = 4_000
    let bytes: UnsafeMutableRawBufferPointer
    var count = 0

    init() { bytes = .allocate(byteCount: capacity * RecordLayout.bytes, alignment: 8) }
    deinit { bytes.deallocate() }

    func append(_ record: UnsafeRawBufferPointer) -> Bool {
        guard count < capacity else { return false }
        (bytes.baseAddress! + count * RecordLayout.bytes).copyMemory(from: record.baseAddress!, byteCount: RecordLayout.bytes)
        count += 1
        return true
    }

    func decoded() -> [LatencyRecord] {
        (0..<count).compactMap { LatencyRecord.decode(UnsafeRawBufferPointer(rebasing: bytes[$0 * RecordLayout.bytes..<($0 + 1) * RecordLayout.bytes])) }
    }
}

@Suite("Latency probe", .hostShared)
struct LatencyProbeTests {
    @Test func everyDestinationMeasuresEveryMessageWithinDeltaAndTheLoopAllocatesNothing() throws {
        let (schedule, derived) = try loadSchedule("minimal.takt")
        var cluster = try FakeCluster(schedule: schedule, derived: derived, drifts: [80_000, -80_000, 10_000, -30_000],
                                      offsets: [1_000_000, 0, 400_000, 2_000_000])
        defer { cluster.tearDown() }
        let store = RecordStore()
        var probes: [LatencyProbe] = []
        for i in cluster.executives.indices {
            let configuration = cluster.executives[i].controller.configuration
            let probe = LatencyProbe(configuration: configuration) { store.append($0) }
            let clock = cluster.clocks[i]
            cluster.executives[i].beforeTransmit = { controller, round, slot in
                probe.stamp(&controller, round: round, slot: slot, host: LocalInstant(nanoseconds: clock.now))
            }
            cluster.executives[i].onDelivery = { delivery, host in probe.record(delivery, host: host) }
            probes.append(probe)
        }
        let round = schedule.cluster.round.nanoseconds
        cluster.run(until: 60 * round)  // start-up and warm-up (lazy metadata)
        #expect(cluster.executives.allSatisfy { $0.controller.isActive })
        let before = takt_allocations_on_this_thread()
        cluster.run(until: 260 * round)
        let after = takt_allocations_on_this_thread()
        #expect(after - before == 0, "\(after - before) allocations in 200 rounds of 4 executives with latency probes")
        for probe in probes { probe.flush() }
        #expect(probes.allSatisfy { $0.droppedRecords == 0 && $0.stamped >= 250 })

        let records = store.decoded()
        #expect(records.count == store.count, "every record the probes wrote decodes")
        let plan = cluster.executives[0].controller.configuration.plan
        let precision = derived.precision ?? .zero
        for m in plan.messages.indices {
            let delta = derived.modes[0].messages[m].deliveryBound
            let slack = precision + Interval(nanoseconds: (delta + precision).nanoseconds * schedule.cluster.drift.partsPerBillion / 1_000_000_000 + 1)
            for receiver in (0..<4).filter({ plan.isDestination($0, of: m) }) {
                let entries = records.filter { $0.node == receiver }.flatMap(\.entries).filter { $0.message == m }
                let delivered = entries.filter { $0.outcome == .delivered }
                // Steady state from round 60 on: 200 instances delivered, none unstamped.
                #expect(delivered.count >= 200, "message \(m) at node \(receiver): \(delivered.count) delivered")
                #expect(!entries.contains { $0.outcome == .unstamped })
                let instances = delivered.map(\.instance)
                #expect(instances == instances.sorted() && Set(instances).count == instances.count, "each instance once, in order")
                for e in delivered {
                    let latency = try #require(e.latency)
                    #expect(latency >= delta - slack && latency <= delta + slack, "message \(m) at \(receiver): \(latency) against Δ = \(delta) ± \(slack)")
                }
            }
        }
    }

    @Test func aMessageShorterThanTheStampIsNamedAndAForeignRecordDoesNotDecode() throws {
        let text = """
        cluster tiny { round = 1 ms; cycle = 1 round; macrotick = 50 us; bitrate = 100 Mbit/s; propagation = 1 us; drift = 100 ppm; reading_error = 5 us; fault_tolerance = 0 }
        node a
        node b
        slot sa { sender = a; offset = 0 us; length = 500 us }
        slot sb { sender = b; offset = 500 us; length = 500 us }
        message wide { sender = a; size = 8 bytes; period = 1 round }
        message narrow { sender = b; size = 4 bytes; period = 1 round }
        """
        let checked = ScheduleChecker.check(text)
        let schedule = try #require(checked.schedule, "\(checked.diagnostics)"), derived = try #require(checked.derived)
        let short = LatencyProbe.tooShort(ControllerConfiguration(schedule: schedule, derived: derived, node: 0))
        #expect(short.map(\.message) == [1] && short.map(\.size) == [4])
        // A node record is not a latency record, and a latency record claiming too many entries is refused.
        var bytes = [UInt8](repeating: 0, count: RecordLayout.bytes)
        bytes[0] = RecordKind.roundEnd.rawValue
        #expect(bytes.withUnsafeBytes { LatencyRecord.decode($0) } == nil)
        bytes[0] = LatencyRecordLayout.kind
        bytes[1] = UInt8(LatencyRecordLayout.entriesPerRecord + 1)
        #expect(bytes.withUnsafeBytes { LatencyRecord.decode($0) } == nil)
        bytes[1] = 0
        #expect(bytes.withUnsafeBytes { LatencyRecord.decode($0) }?.entries.isEmpty == true)
        #expect(bytes.withUnsafeBytes { NodeRecord.decode($0) } == nil, "and a latency record is not a node record")
    }
}
