// Chain reaction time and data age against a brute-force simulation of data flow, instance by
// instance, over several hyperperiods; and several independent errors in one file.

import Foundation
import Testing
import TaktTestSupport
import TaktSchedule
import TaktTime

@Suite("Chains and multi-error reporting", .hostShared)
struct ChainOracleTests {
    struct StageTask { var node: String; var period: Int; var offset: Int; var wcet: Int }  // in ticks of 250 us

    /// Simulates the data flow: message instance i carries the newest producer output completed by
    /// its send instant; a task reads the newest instance delivered by its release. Returns
    /// (reaction, age) in ns.
    func simulate(tasks: [StageTask], sends: [(first: Int, period: Int, delta: Int)], horizon: Int) -> (Int, Int) {
        let tick = 250_000
        // For each stage, the stamp (first task's release) carried by each instance's output.
        var stageOutputs: [[(completion: Int, stamp: Int)]] = []
        // Stage 0.
        var outputs: [(Int, Int)] = []
        var r = tasks[0].offset * tick
        while r < horizon { outputs.append((r + tasks[0].wcet * tick, r)); r += tasks[0].period * tick }
        stageOutputs.append(outputs)
        for e in 1..<tasks.count {
            let link = sends[e - 1]
            // Message instances: (delivery, stamp) — newest producer output completed by the send.
            var deliveries: [(Int, Int)] = []
            var s = link.first
            while s < horizon {
                if let newest = stageOutputs[e - 1].last(where: { $0.completion <= s }) { deliveries.append((s + link.delta, newest.stamp)) }
                s += link.period
            }
            var next: [(Int, Int)] = []
            var c = tasks[e].offset * tick
            while c < horizon {
                if let newest = deliveries.last(where: { $0.0 <= c }) { next.append((c + tasks[e].wcet * tick, newest.1)) }
                c += tasks[e].period * tick
            }
            stageOutputs.append(next)
        }
        let first = tasks[0], last = stageOutputs[stageOutputs.count - 1]
        let window = horizon / 4
        var age = 0
        for output in last where output.completion >= 2 * window && output.completion < 3 * window {
            age = max(age, output.completion - output.stamp)
        }
        var reaction = 0
        var release = first.offset * tick
        while release < 2 * window {
            if release >= window, let out = last.first(where: { $0.stamp >= release }) {
                reaction = max(reaction, out.completion - (release - first.period * tick))
            }
            release += first.period * tick
        }
        return (reaction, age)
    }

    @Test func reactionTimeAndDataAgeAgreeWithSimulation() throws {
        var rng = SplitMix64(seed: 0xC4A1)
        var compared = 0
        for _ in 0..<300 {
            let stages = rng.int(2...3)
            let nodes = ["a", "b", "c", "d"]
            var tasks: [StageTask] = []
            for i in 0..<stages {
                let period = [4, 8, 12, 24][rng.int(0...3)]
                tasks.append(StageTask(node: nodes[i], period: period, offset: rng.int(0...(period - 1)), wcet: 1))
            }
            var messages: [(periodRounds: Int, phase: Int, copies: Int)] = []
            for _ in 1..<stages {
                let p = [1, 2, 3, 6][rng.int(0...3)]
                messages.append((p, rng.int(0...(p - 1)), min(p, rng.int(1...2))))
            }
            var text = oracleCluster + """
            slot sa { sender = a; offset = 0 us; length = 250 us }
            slot sb { sender = b; offset = 250 us; length = 250 us }
            slot sc { sender = c; offset = 500 us; length = 250 us }
            slot sd { sender = d; offset = 750 us; length = 250 us }

            """
            for (i, m) in messages.enumerated() {
                text += "message m\(i) { sender = \(nodes[i]); size = 8 bytes; period = \(m.periodRounds) rounds; phase = \(m.phase) rounds; copies = \(m.copies); to = \(nodes[i + 1]) }\n"
            }
            for (i, t) in tasks.enumerated() {
                var line = "task t\(i) { node = \(t.node); period = \(t.period * 250) us; offset = \(t.offset * 250) us; wcet = \(t.wcet * 250) us"
                if i > 0 { line += "; reads = m\(i - 1)" }
                if i < stages - 1 { line += "; writes = m\(i)" }
                text += line + " }\n"
            }
            text += "chain ch { path = \((0..<stages).map { "t\($0)" }.joined(separator: " -> ")) }\n"
            let result = ScheduleChecker.check(text)
            let derived = try #require(result.derived)
            let chain = try #require(derived.modes[0].chains.first)
            let reaction = try #require(chain.reactionTime), age = try #require(chain.dataAge)
            let sends = messages.indices.map { i -> (first: Int, period: Int, delta: Int) in
                let analysis = derived.modes[0].messages[i]
                return (Int(analysis.firstSendOffset.nanoseconds), Int(analysis.periodInterval.nanoseconds), Int(analysis.deliveryBound.nanoseconds))
            }
            let horizon = 4 * 4 * 24 * 250_000 * 6  // four windows, each far longer than any chain
            let (expectedReaction, expectedAge) = simulate(tasks: tasks, sends: sends, horizon: horizon)
            #expect(Int(reaction.nanoseconds) == expectedReaction, "reaction: \(text)")
            #expect(Int(age.nanoseconds) == expectedAge, "age: \(text)")
            compared += 1
        }
        #expect(compared == 300)
    }

    @Test func severalErrorsInOneFileAreAllReported() {
        let text = baseSchedule
            .replacingOccurrences(of: "drift = 100 ppm", with: "drift = 100 us")                 // E207
            .replacingOccurrences(of: "sender = b; offset = 250 us", with: "sender = b; offset = 200 us")  // E401
            .replacingOccurrences(of: "to = b }", with: "to = b, zz }")                          // E203
            .replacingOccurrences(of: "offset = 800 us; wcet = 100 us; writes", with: "offset = 950 us; wcet = 100 us; writes")  // E507
            + "node e { colour = red }\n"                                                          // E204
            + "task big { node = c; period = 1 ms; offset = 0 us; wcet = 2 ms }\n"                 // E601
        let result = ScheduleChecker.check(text)
        let codes = Set(result.diagnostics.map(\.code))
        for code: DiagnosticCode in [.wrongValueKind, .slotOverlap, .unknownName, .producerLate, .unknownProperty, .wcetExceedsDeadline] {
            #expect(codes.contains(code), "missing \(code.rawValue) in \(result.diagnostics.map { $0.rendered(path: "x") }.joined())")
        }
        // Sorted by position.
        let locations = result.diagnostics.map(\.location)
        #expect(locations == locations.sorted())
    }
}
