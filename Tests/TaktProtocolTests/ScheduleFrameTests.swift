// The codec against the shipped schedules (frame size = FrameLayout.frameBytes = what the
// validator used to size each slot) and the schedule identity.

import Foundation
import Testing
import TaktTestSupport
import TaktProtocol
import TaktSchedule
import TaktTime

func shippedSchedules() throws -> [(name: String, text: String, schedule: Schedule, derived: DerivedResults)] {
    let dir = packageRoot + "/Schedules"
    let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".takt") }.sorted()
    return try names.map { name in
        let text = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
        let result = ScheduleChecker.check(text)
        let schedule = try #require(result.schedule, "\(name) does not check")
        let derived = try #require(result.derived, "\(name) has no derived results")
        return (name, text, schedule, derived)
    }
}

@Suite("Frames of the shipped schedules", .hostShared)
struct ScheduleFrameTests {
    @Test func frameSizeEqualsFrameLayoutForEverySlot() throws {
        let schedules = try shippedSchedules()
        #expect(schedules.count >= 5)
        for (name, _, schedule, derived) in schedules {
            let codec = try FrameCodec(schedule: schedule)
            let identity = ScheduleIdentity.compute(schedule: schedule)
            var membership = MembershipVector(capacity: schedule.nodes.count)
            membership.insertAll()
            var largest: Int64 = 0
            for (m, mode) in schedule.modes.enumerated() {
                let payloads = Analysis.slotPayloads(slots: mode.slots, messages: schedule.messages, cluster: schedule.cluster)
                for (s, slot) in mode.slots.enumerated() {
                    largest = max(largest, payloads[s])
                    let cState = CState(scheduleIdentity: identity, mode: m, round: 12, slot: s, membership: membership)
                    let frame = encodeFrame(codec, header(for: cState, flags: slot.carriesCState ? .carriesCState : [], sender: slot.sender),
                                            cState, payload: [UInt8](repeating: 0x5A, count: Int(payloads[s])))
                    let layout = FrameLayout.frameBytes(nodeCount: schedule.nodes.count, payloadBytes: payloads[s])
                    #expect(Int64(frame.count) == layout, "\(name) mode \(m) slot \(slot.name)")
                    if let analysis = derived.modes.first(where: { $0.mode == m })?.slots.first(where: { $0.slot == s }) {
                        #expect(Int64(frame.count) == analysis.frameBytes, "\(name) mode \(m) slot \(slot.name)")
                    }
                    #expect(decode(codec, frame, cState) == nil, "\(name) mode \(m) slot \(slot.name)")
                }
            }
            #expect(Int64(codec.maximumPayloadBytes) == largest, "\(name)")
            #expect(codec.slotCountPerMode == schedule.modes.map(\.slots.count))
        }
    }

    @Test func sizingRejectsSchedulesBeyondTheWireLimits() throws {
        var schedule = try #require(try shippedSchedules().first { $0.name == "minimal.takt" }).schedule
        let message = schedule.messages[0]
        schedule.messages = (0..<5).map { i in
            var copy = message
            copy.name = "big\(i)"
            copy.size = ByteCount(bytes: 65_535)
            return copy
        }
        #expect(throws: FrameSizingError.self) { try FrameCodec(schedule: schedule) }
    }
}

@Suite("Schedule identity", .hostShared)
struct ScheduleIdentityTests {
    @Test func fnv1a64Vectors() {
        #expect(ScheduleIdentity.fnv1a64([UInt8]()) == 0xCBF2_9CE4_8422_2325)
        #expect(ScheduleIdentity.fnv1a64("a".utf8) == 0xAF63_DC4C_8601_EC8C)
        #expect(ScheduleIdentity.fnv1a64("foobar".utf8) == 0x8594_4171_F739_67E8)
    }

    @Test func sameFileSameIdentityAndLayoutDoesNotMatter() throws {
        for (name, text, schedule, _) in try shippedSchedules() {
            let again = try #require(ScheduleChecker.check(text).schedule)
            #expect(ScheduleIdentity.compute(schedule: again) == ScheduleIdentity.compute(schedule: schedule), "\(name)")
            // Comments, blank lines and indentation are not part of the meaning.
            let reformatted = "# a new comment\n\n" + text.replacingOccurrences(of: "\n", with: "\n  \n")
            let other = try #require(ScheduleChecker.check(reformatted).schedule, "\(name) reformatted")
            #expect(ScheduleIdentity.compute(schedule: other) == ScheduleIdentity.compute(schedule: schedule), "\(name)")
        }
    }

    @Test func everySlotOffsetChangeChangesTheIdentity() throws {
        for (name, _, schedule, _) in try shippedSchedules() {
            var identities: Set<UInt64> = [ScheduleIdentity.compute(schedule: schedule)]
            var changes = 1
            for m in schedule.modes.indices {
                for s in schedule.modes[m].slots.indices {
                    for delta: Int64 in [1, 1_000] {
                        var changed = schedule
                        changed.modes[m].slots[s].offset = changed.modes[m].slots[s].offset + .nanoseconds(delta)
                        identities.insert(ScheduleIdentity.compute(schedule: changed))
                        changes += 1
                    }
                }
            }
            #expect(identities.count == changes, "\(name): some offset change kept an identity")
        }
    }

    @Test func otherChangesChangeTheIdentity() throws {
        let schedule = try #require(try shippedSchedules().first { $0.name == "minimal.takt" }).schedule
        let original = ScheduleIdentity.compute(schedule: schedule)
        var edits: [Schedule] = []
        var e = schedule; e.cluster.round = e.cluster.round + .nanoseconds(1); edits.append(e)
        e = schedule; e.cluster.faultTolerance += 1; edits.append(e)
        e = schedule; e.nodes[0].name += "x"; edits.append(e)
        e = schedule; e.nodes[1].sync.toggle(); edits.append(e)
        e = schedule; e.messages[0].size = ByteCount(bytes: e.messages[0].size.bytes + 1); edits.append(e)
        e = schedule; e.modes[0].slots[0].length = e.modes[0].slots[0].length + .nanoseconds(1); edits.append(e)
        e = schedule; e.modes[0].slots[0].carriesCState.toggle(); edits.append(e)
        e = schedule; e.modes[0].slots.swapAt(0, 1); edits.append(e)
        let identities = Set(edits.map { ScheduleIdentity.compute(schedule: $0) })
        #expect(identities.count == edits.count && !identities.contains(original))
    }

    /// The identity is a wire-format constant: it must not change between runs, builds or machines.
    /// If the canonical text changes on purpose, bump `canonicalTextVersion` and this value.
    @Test func identityIsPinned() throws {
        let text = """
        cluster pinned { round = 1 ms; cycle = 1 round; macrotick = 25 us; bitrate = 10 Mbit/s
          propagation = 1 us; drift = 100 ppm; reading_error = 10 us; fault_tolerance = 1; precision = derived }
        node a
        node b
        node c
        node d
        slot sa { sender = a; offset = 0 us; length = 250 us }
        slot sb { sender = b; offset = 250 us; length = 250 us }
        slot sc { sender = c; offset = 500 us; length = 250 us }
        slot sd { sender = d; offset = 750 us; length = 250 us }
        message m { sender = a; size = 16 bytes; period = 1 round }
        """
        let result = ScheduleChecker.check(text)
        let schedule = try #require(result.schedule, "\(result.diagnostics.map(\.message))")
        let canonical = ScheduleIdentity.canonicalText(schedule: schedule)
        #expect(canonical.hasPrefix(ScheduleIdentity.canonicalTextVersion + "\ncluster name=6:pinned round=1000000 "))
        #expect(ScheduleIdentity.compute(schedule: schedule) == ScheduleIdentity.fnv1a64(canonical.utf8))
        #expect(ScheduleIdentity.compute(schedule: schedule) == 0x48FD_1C9E_0DA4_1728, "pinned value: \(String(ScheduleIdentity.compute(schedule: schedule), radix: 16))")
    }
}
