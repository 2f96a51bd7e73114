// Exhaustive small-scope tests: the validator's closed-form timing checks against a brute-force
// oracle that enumerates every instance of tiny schedules over two hyperperiods.

import Foundation
import Testing
import TaktTestSupport
import TaktSchedule
import TaktTime

let oracleCluster = """
cluster o {
  round = 1 ms
  cycle = 6 rounds
  macrotick = 250 us
  bitrate = 10 Mbit/s
  drift = 100 ppm
  reading_error = 10 us
  fault_tolerance = 1
}
node a
node b
node c
node d

"""

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }

@Suite("Brute-force oracles for the timing checks", .hostShared)
struct OracleTests {
    /// Task overlap (E604): tiny task sets on one node, all in units of 250 us.
    @Test func taskOverlapAgreesWithEnumeration() {
        var rng = SplitMix64(seed: 0x7A57)
        var agreements = 0
        for _ in 0..<600 {
            let count = rng.int(2...3)
            var tasks: [(period: Int, offset: Int, wcet: Int)] = []
            for _ in 0..<count {
                let period = [4, 8, 12, 24][rng.int(0...3)]  // 1, 2, 3, 6 ms in ticks of 250 us
                tasks.append((period, rng.int(0...(period - 1)), rng.int(1...3)))
            }
            var text = oracleCluster + """
            slot sa { sender = a; offset = 0 us; length = 250 us }
            slot sb { sender = b; offset = 250 us; length = 250 us }
            slot sc { sender = c; offset = 500 us; length = 250 us }
            slot sd { sender = d; offset = 750 us; length = 250 us }

            """
            for (i, t) in tasks.enumerated() {
                text += "task t\(i) { node = a; period = \(t.period * 250) us; offset = \(t.offset * 250) us; wcet = \(t.wcet * 250) us }\n"
            }
            // Oracle: mark every tick of [0, 2H) each instance occupies (instances that start in the
            // previous hyperperiod and wrap are included by starting one hyperperiod early).
            let h = tasks.reduce(24) { lcm($0, $1.period) }
            var busy = [Int](repeating: 0, count: 3 * h)
            for t in tasks {
                var start = t.offset
                while start < 2 * h {
                    for tick in start..<(start + t.wcet) { busy[tick] += 1 }
                    start += t.period
                }
            }
            let oracle = busy[h..<(2 * h)].contains { $0 > 1 } || busy[0..<h].contains { $0 > 1 }
            let result = ScheduleChecker.check(text)
            let reported = result.diagnostics.contains { $0.code == .taskOverlap }
            #expect(reported == oracle, "tasks \(tasks): oracle \(oracle), validator \(reported)")
            if reported == oracle { agreements += 1 }
        }
        #expect(agreements == 600)
    }

    /// Slot overlap (E401): slots declared in offset order on a 50 us grid.
    @Test func slotOverlapAgreesWithEnumeration() {
        var rng = SplitMix64(seed: 0x510F)
        for _ in 0..<500 {
            var offsets = (0..<4).map { _ in rng.int(0...15) }.sorted()
            offsets[0] = 0
            let lengths = (0..<4).map { _ in rng.int(1...8) }
            var text = oracleCluster.replacingOccurrences(of: "macrotick = 250 us", with: "macrotick = 50 us")
                .replacingOccurrences(of: "round = 1 ms", with: "round = 2 ms")
                .replacingOccurrences(of: "reading_error = 10 us", with: "reading_error = 1 us")
            var grid = [Int](repeating: 0, count: 40)
            for (i, name) in ["a", "b", "c", "d"].enumerated() {
                text += "slot s\(name) { sender = \(name); offset = \(offsets[i] * 50) us; length = \(lengths[i] * 50) us }\n"
                for tick in offsets[i]..<(offsets[i] + lengths[i]) { grid[tick] += 1 }
            }
            let oracle = grid.contains { $0 > 1 }
            let result = ScheduleChecker.check(text)
            let reported = result.diagnostics.contains { $0.code == .slotOverlap }
            #expect(reported == oracle, "offsets \(offsets) lengths \(lengths)")
        }
    }

    /// Producer late (E507) and consumer early (E508) against enumeration of every send,
    /// delivery, release and completion over two hyperperiods.
    @Test func producerConsumerAgreeWithEnumeration() {
        var rng = SplitMix64(seed: 0xC0DE)
        for _ in 0..<800 {
            let periodRounds = [1, 2, 3][rng.int(0...2)]
            let phase = rng.int(0...(periodRounds - 1))
            let copies = rng.int(1...2)
            let pPeriod = [4, 8, 12][rng.int(0...2)]  // ticks of 250 us
            let qPeriod = [4, 8, 24][rng.int(0...2)]
            let pOffset = rng.int(0...(pPeriod - 1)), qOffset = rng.int(0...(qPeriod - 1))
            let pWcet = rng.int(1...2)
            guard (copies - 1) < periodRounds else { continue }
            let text = oracleCluster + """
            slot sa { sender = a; offset = 0 us; length = 250 us }
            slot sb { sender = b; offset = 250 us; length = 250 us }
            slot sc { sender = c; offset = 500 us; length = 250 us }
            slot sd { sender = d; offset = 750 us; length = 250 us }
            message m { sender = b; size = 8 bytes; period = \(periodRounds) rounds; phase = \(phase) rounds; copies = \(copies); to = c }
            task p { node = b; period = \(pPeriod * 250) us; offset = \(pOffset * 250) us; wcet = \(pWcet * 250) us; writes = m }
            task q { node = c; period = \(qPeriod * 250) us; offset = \(qOffset * 250) us; wcet = 250 us; reads = m }

            """
            _ = text
            let result = ScheduleChecker.check(text)
            guard let precision = result.derived?.precision else { Issue.record("no precision"); continue }
            // Oracle in nanoseconds over [0, 3H).
            let tick = 250_000
            let h = [24 * tick, periodRounds * 4 * tick, pPeriod * tick, qPeriod * tick].reduce(1, lcm)
            var sends: [(Int, Int)] = []  // (send, delivery)
            var r = phase
            while r * 4 * tick < 3 * h {
                let send = r * 4 * tick + 1 * tick  // slot sb starts 250 us into the round
                let lastCopyEnd = (r + copies - 1) * 4 * tick + 2 * tick
                sends.append((send, lastCopyEnd + Int(precision.nanoseconds)))
                r += periodRounds
            }
            var producerLate = false, consumerEarly = false
            for (send, delivery) in sends where send >= h && send < 2 * h {
                var release = pOffset * tick
                while release < 3 * h {
                    if release < send && send < release + pWcet * tick { producerLate = true }
                    release += pPeriod * tick
                }
                release = qOffset * tick
                while release < 3 * h {
                    if release >= send && release < delivery { consumerEarly = true }
                    release += qPeriod * tick
                }
            }
            let reportedLate = result.diagnostics.contains { $0.code == .producerLate }
            let reportedEarly = result.diagnostics.contains { $0.code == .consumerEarly }
            #expect(reportedLate == producerLate, "producer: \(text)")
            #expect(reportedEarly == consumerEarly, "consumer: \(text)")
        }
    }

    @Test func closedFormOverlapMatchesPairEnumeration() throws {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<5_000 {
            let a = Int64(rng.int(1...12)), b = Int64(rng.int(1...12))
            let a0 = Int64(rng.int(-20...20)), b0 = Int64(rng.int(-20...20))
            let ca = Int64(rng.int(1...6)), cb = Int64(rng.int(1...6))
            var oracle = false
            for i in -40...40 {
                for j in -40...40 {
                    let sa = a0 + Int64(i) * a, sb = b0 + Int64(j) * b
                    if sa < sb + cb && sb < sa + ca { oracle = true }
                }
            }
            let d = Analysis.overlapDifference(a0: a0, a: a, ca: ca, b0: b0, b: b, cb: cb)
            #expect((d != nil) == oracle)
            if let d {
                #expect(d > -cb && d < ca)
                let t = try #require(Analysis.firstCoincidence(a0: a0, a: a, b0: b0, b: b, difference: d))
                #expect(IntegerMath.floorMod(t - a0, a) == 0)
                #expect(IntegerMath.floorMod(t + d - b0, b) == 0)
            }
        }
    }
}
