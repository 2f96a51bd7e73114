// State messages: the validity interval's boundaries to the nanosecond, ages, the layout and its
// rejection rules, and the event counter that turns events into state.

import Testing
import TaktTestSupport
import TaktControl
import TaktTime

@Suite("State messages", .hostShared)
struct StateMessageTests {
    let t = ClusterInstant(nanoseconds: 1_000_000)

    @Test func validityIsTheClosedIntervalFromObservation() {
        let m = StateMessage(value: 42.0, observedAt: t, validity: .microseconds(500))
        #expect(m.validUntil == t + .microseconds(500))
        #expect(!m.isValid(at: t - .nanoseconds(1)))            // before the observation
        #expect(m.isValid(at: t))                               // at the observation
        #expect(m.isValid(at: t + .microseconds(250)))
        #expect(m.isValid(at: t + .microseconds(500)))           // exactly at observedAt + validity
        #expect(!m.isValid(at: t + .microseconds(500) + .nanoseconds(1)))  // 1 ns later
        let instant = StateMessage(value: UInt8(1), observedAt: t, validity: .zero)
        #expect(instant.isValid(at: t) && !instant.isValid(at: t + .nanoseconds(1)) && !instant.isValid(at: t - .nanoseconds(1)))
    }

    @Test func validityAtTheEdgesOfTimeNeverTraps() {
        let late = StateMessage(value: true, observedAt: ClusterInstant(nanoseconds: .max - 10), validity: .nanoseconds(10))
        #expect(late.validUntil == ClusterInstant(nanoseconds: .max))
        #expect(late.isValid(at: ClusterInstant(nanoseconds: .max)))
        #expect(!late.isValid(at: ClusterInstant(nanoseconds: .min)))
        let early = StateMessage(value: true, observedAt: ClusterInstant(nanoseconds: .min), validity: .max)
        #expect(early.isValid(at: ClusterInstant(nanoseconds: -1)) && !early.isValid(at: ClusterInstant(nanoseconds: 0)))
        // Fields are public: a message made invalid by assignment is never valid, and never traps.
        var broken = late
        broken.validity = .nanoseconds(-1)
        #expect(!broken.isValid(at: late.observedAt))
        broken.observedAt = ClusterInstant(nanoseconds: .min)  // the end wraps around: still never valid
        #expect(!broken.isValid(at: ClusterInstant(nanoseconds: .max)) && !broken.isValid(at: broken.observedAt))
        broken.observedAt = late.observedAt
        broken.validity = .max
        #expect(broken.validUntil == ClusterInstant(nanoseconds: .max) && broken.isValid(at: ClusterInstant(nanoseconds: .max)))
    }

    @Test func ageIsNowMinusObservationAndSaturates() {
        let m = StateMessage(value: Int32(3), observedAt: t, validity: .milliseconds(1))
        #expect(m.age(at: t) == .zero)
        #expect(m.age(at: t + .microseconds(7)) == .microseconds(7))
        #expect(m.age(at: t - .nanoseconds(5)) == .nanoseconds(-5))
        let old = StateMessage(value: Int32(3), observedAt: ClusterInstant(nanoseconds: .min), validity: .zero)
        #expect(old.age(at: ClusterInstant(nanoseconds: .max)) == .max)
        let future = StateMessage(value: Int32(3), observedAt: ClusterInstant(nanoseconds: .max), validity: .zero)
        #expect(future.age(at: ClusterInstant(nanoseconds: .min)) == .min)
    }

    @Test func roundTripsAndPinnedLayout() {
        var rng = SplitMix64(seed: 0x57A7E)
        for _ in 0..<2_000 {
            let observed = ClusterInstant(nanoseconds: Int64(bitPattern: rng.next()) / 2)
            let validity = Interval.nanoseconds(Int64(rng.next() >> 2))
            let m = StateMessage(value: Double(bitPattern: rng.next()), observedAt: observed, validity: validity)
            let bytes = encoded(m)
            #expect(bytes.count == 24 && StateMessage<Double>.byteCount == Double.byteCount + 16)
            let back = decoded(bytes, as: StateMessage<Double>.self)
            #expect(back?.value.bitPattern == m.value.bitPattern && back?.observedAt == m.observedAt && back?.validity == m.validity)
            #expect(back.map(encoded) == bytes)
        }
        let m = StateMessage(value: UInt16(0xBEEF), observedAt: ClusterInstant(nanoseconds: 0x0102), validity: .nanoseconds(0x0304))
        #expect(encoded(m) == [0xEF, 0xBE, 2, 1, 0, 0, 0, 0, 0, 0, 4, 3, 0, 0, 0, 0, 0, 0])
        #expect(decoded(encoded(m)) == m)
    }

    @Test func loadingRejectsNegativeValidityOverflowAndBadValues() {
        func bytes(value: [UInt8], observed: Int64, validity: Int64) -> [UInt8] {
            value + encoded(observed) + encoded(validity)
        }
        #expect(decoded(bytes(value: [1], observed: 5, validity: -1), as: StateMessage<Bool>.self) == nil)
        #expect(decoded(bytes(value: [1], observed: 5, validity: .min), as: StateMessage<Bool>.self) == nil)
        #expect(decoded(bytes(value: [1], observed: .max, validity: 1), as: StateMessage<Bool>.self) == nil)   // end overflows
        #expect(decoded(bytes(value: [1], observed: .max - 1, validity: 1), as: StateMessage<Bool>.self)?.validUntil
                == ClusterInstant(nanoseconds: .max))                                                          // end representable
        #expect(decoded(bytes(value: [2], observed: 5, validity: 1), as: StateMessage<Bool>.self) == nil)      // not a Bool
        #expect(decoded(bytes(value: [0], observed: .min, validity: 0), as: StateMessage<Bool>.self)
                == StateMessage(value: false, observedAt: ClusterInstant(nanoseconds: .min), validity: .zero))
    }

    @Test func makingAnInvalidMessageTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = StateMessage(value: 1.0, observedAt: .zero, validity: .nanoseconds(-1))
        }
        await #expect(processExitsWith: .failure) {
            _ = StateMessage(value: 1.0, observedAt: ClusterInstant(nanoseconds: .max), validity: .nanoseconds(1))
        }
        await #expect(processExitsWith: .failure) {
            var m = StateMessage(value: 1.0, observedAt: .zero, validity: .zero)
            m.validity = .nanoseconds(-1)  // a message no receiver accepts must not be sent
            var bytes = [UInt8](repeating: 0, count: 24)
            bytes.withUnsafeMutableBytes { m.store(to: $0) }
        }
    }

    // MARK: Events to state

    @Test func eventCounterTurnsEventsIntoState() {
        var counter = EventCounter()
        let first = counter.observe(at: t, validity: .milliseconds(2))
        #expect(first.value == EventState(total: 0, sincePrevious: 0, lastEventAt: nil))
        #expect(first.observedAt == t && first.validity == .milliseconds(2))
        counter.record(at: t + .microseconds(10))
        counter.record(at: t + .microseconds(30))
        counter.record(at: t + .microseconds(20))  // out of order: the latest instant wins
        counter.record(0, at: t + .microseconds(90))  // nothing
        let second = counter.observe(at: t + .milliseconds(1), validity: .milliseconds(2))
        #expect(second.value == EventState(total: 3, sincePrevious: 3, lastEventAt: t + .microseconds(30)))
        #expect(counter.pending == 0 && counter.total == 3)
        let third = counter.observe(at: t + .milliseconds(2), validity: .milliseconds(2))
        #expect(third.value == EventState(total: 3, sincePrevious: 0, lastEventAt: t + .microseconds(30)))
        counter.record(5, at: t + .milliseconds(3))
        // A consumer that lost `third` and the next one still has every event counted in the total.
        _ = counter.observe(at: t + .milliseconds(3), validity: .milliseconds(2))
        counter.record(at: t + .milliseconds(4))
        let fifth = counter.observe(at: t + .milliseconds(4) + .nanoseconds(1), validity: .milliseconds(2))
        #expect(fifth.value == EventState(total: 9, sincePrevious: 1, lastEventAt: t + .milliseconds(4)))
        #expect(decoded(encoded(fifth)) == fifth)
        // Restoring continues the total; nothing is pending.
        var restored = EventCounter(restoring: fifth.value)
        #expect(restored.total == 9 && restored.pending == 0 && restored.lastEventAt == t + .milliseconds(4))
        restored.record(at: t + .milliseconds(5))
        #expect(restored.observe(at: t + .milliseconds(5), validity: .zero).value == EventState(total: 10, sincePrevious: 1, lastEventAt: t + .milliseconds(5)))
    }

    @Test func eventCountsSaturate() {
        var counter = EventCounter()
        counter.record(.max - 1, at: t)
        counter.record(5, at: t)
        #expect(counter.total == .max && counter.pending == .max)
        let state = counter.observe(at: t, validity: .zero).value
        #expect(state.total == .max && state.sincePrevious == .max)
        counter.record(3, at: t)
        #expect(counter.total == .max && counter.pending == 3)
    }

    @Test func eventStateLayoutAndRejections() {
        let state = EventState(total: 7, sincePrevious: 2, lastEventAt: ClusterInstant(nanoseconds: -3))
        #expect(encoded(state) == [7, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(decoded(encoded(state)) == state)
        #expect(encoded(EventState(total: 0, sincePrevious: 0, lastEventAt: nil)) == [UInt8](repeating: 0, count: 24))
        // An event at the cluster epoch is an event: distinguished from "none" by the total.
        let atEpoch = EventState(total: 1, sincePrevious: 1, lastEventAt: .zero)
        #expect(decoded(encoded(atEpoch)) == atEpoch)
        #expect(decoded(encoded(UInt64(1)) + encoded(UInt64(2)) + encoded(Int64(0)), as: EventState.self) == nil)  // since > total
        #expect(decoded(encoded(UInt64(0)) + encoded(UInt64(0)) + encoded(Int64(9)), as: EventState.self) == nil)  // no event, an instant
    }

    @Test func inconsistentEventStateTraps() async {
        await #expect(processExitsWith: .failure) { _ = EventState(total: 1, sincePrevious: 2, lastEventAt: .zero) }
        await #expect(processExitsWith: .failure) { _ = EventState(total: 1, sincePrevious: 1, lastEventAt: nil) }
        await #expect(processExitsWith: .failure) { _ = EventState(total: 0, sincePrevious: 0, lastEventAt: .zero) }
    }
}
