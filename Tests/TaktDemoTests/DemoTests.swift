// The replicated control demo and the framework under it (issue #6): the simulated demo is
// reproducible, masks the faults it injects, reintegrates a killed replica from its checkpoint
// and its partners' state at random kill instants, and runs its tasks without allocating.

import Foundation
import Testing
import TaktTestSupport
import CTaktAllocationCounter
import TaktControl
@testable import TaktDemo
import TaktProtocol
import TaktSchedule
import TaktSim
import TaktTime

@Suite("The replicated control demo, simulated", .hostShared)
struct DemoSimulationTests {
    @Test func theSameSeedGivesTheSameReportAndAnotherSeedAnother() throws {
        let (schedule, derived) = try loadSchedule("demo.takt")
        var plan = DemoPlan()
        plan.duration = 16
        plan.profile.leakAt = 14
        let (a, simA) = try DemoSimulation.run(schedule: schedule, derived: derived, plan: plan, seed: 7)
        let (b, simB) = try DemoSimulation.run(schedule: schedule, derived: derived, plan: plan, seed: 7)
        let (c, _) = try DemoSimulation.run(schedule: schedule, derived: derived, plan: plan, seed: 8)
        let same = a == b, differs = a.samples != c.samples  // (not the reports themselves: thousands of samples)
        #expect(same)
        #expect(simA.stateHash == simB.stateHash)
        #expect(differs)  // other sensor noise, other clocks
        #expect(a.text(plan: plan, title: "x") == b.text(plan: plan, title: "x"))
    }

    @Test func theDefaultDemoMasksEveryFaultAndKeepsControl() throws {
        let (schedule, derived) = try loadSchedule("demo.takt")
        let plan = DemoPlan()
        let (report, sim) = try DemoSimulation.run(schedule: schedule, derived: derived, plan: plan, seed: 1)
        #expect(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
        // The corrupted reading: exactly one command outvoted, that replica's state repaired once.
        #expect(report.masked == 1)
        #expect(report.stateRepairs == 1)
        #expect(report.noMajority == 0)
        // The killed replica: its vote missing while it was down (3 s = 300 rounds, give or take start-up).
        #expect(report.missingVotes >= 300 && report.missingVotes <= 320)
        #expect(report.stateTransfers >= 1)
        let reintegration = try #require(report.reintegrationRounds)
        #expect(reintegration >= 1 && reintegration <= 3)
        // No committed state lost: the restart restored the newest generation committed before the kill.
        #expect(report.restoredGeneration != nil && report.restoredGeneration == report.committedAtCrash)
        // The faults did not disturb the loop: the level stays within 5 cm of the setpoint while they act
        // and the error after them is small.
        #expect(try #require(report.errorDuringFaultsMax) < 0.05)
        #expect(try #require(report.errorAfter) < 0.01)
        let plantSeconds = try #require(report.samples.last?.time)
        #expect(plantSeconds >= plan.duration - 0.1)
    }

    @Test func withoutFaultsNothingIsMaskedAndEveryVoteIsUnanimous() throws {
        let (schedule, derived) = try loadSchedule("demo.takt")
        var plan = DemoPlan()
        plan.duration = 12
        plan.killAt = nil
        plan.restartAt = nil
        plan.profile.corruptAt = nil
        let (report, sim) = try DemoSimulation.run(schedule: schedule, derived: derived, plan: plan, seed: 3)
        #expect(sim.violations.isEmpty)
        #expect(report.masked == 0 && report.stateRepairs == 0 && report.noMajority == 0)
        // After start-up every actuation has all three commands, bitwise equal (replica determinism).
        let steady = report.samples.filter { $0.time > 0.1 }
        let unanimous = !steady.isEmpty && steady.allSatisfy { $0.agreeing == 0b111 }
        #expect(unanimous)
    }

    /// Issue #6: reintegration after kill -9 at random instants with no state lost.
    @Test func aReplicaKilledAtRandomInstantsComesBackWithItsStateWithinThreeRounds() throws {
        let (schedule, derived) = try loadSchedule("demo.takt")
        var random = SimulationRandom(seed: 42)
        for trial in 0..<12 {
            var plan = DemoPlan()
            plan.duration = 9
            plan.profile.corruptAt = nil
            plan.profile.leakAt = nil
            plan.killReplica = Int(random.below(3))
            // Any instant in a round (the crash rounds are whole; the seed moves the clocks).
            let kill = 2 + Double(random.below(3_000)) / 1_000
            plan.killAt = kill
            plan.restartAt = kill + 0.05 + Double(random.below(2_000)) / 1_000
            let (report, sim) = try DemoSimulation.run(schedule: schedule, derived: derived, plan: plan, seed: UInt64(100 + trial))
            #expect(sim.violations.isEmpty, "trial \(trial): \(sim.violations.prefix(2))")
            #expect(report.restoredGeneration != nil && report.restoredGeneration == report.committedAtCrash, "trial \(trial)")
            let rounds = try #require(report.reintegrationRounds, "trial \(trial): never counted again")
            #expect(rounds <= 3, "trial \(trial): \(rounds) rounds")
            #expect(report.noMajority == 0 && report.masked == 0, "trial \(trial)")
        }
    }
}

@Suite("TaktControl on one node: activations and allocations", .hostShared)
struct ControlNodeTests {
    /// Issue #6: tasks are plain Swift values, activated without closures or existentials, and
    /// nothing is allocated per activation — here a controller replica for 2,000 rounds: its
    /// images delivered, its task released, its outputs flushed into the protocol, its state
    /// checkpointed to (in-memory) stable storage.
    /// The reintegration figure on hand-made plant logs: rounds from the restarted replica's first
    /// activation to the first vote that counted its command; a cluster cold started again before
    /// that (rounds renumbered from 0, as a host that stalls nodes can cause) gives no figure
    /// instead of a later, unrelated vote.
    @Test func reintegrationCountsFromTheFirstActivationAndStopsAtAClusterRestart() {
        let plan = DemoPlan()
        let bit = UInt8(1) << plan.killReplica
        func sample(_ round: UInt64, counted: Bool) -> PlantSample {
            PlantSample(time: Double(round) / 100, round: round, setpoint: 2, level: 2, measured: 2, command: 0.5,
                        agreeing: counted ? 0b111 : 0b111 & ~bit, dissenting: 0, missing: counted ? 0 : bit)
        }
        func reintegration(_ samples: [PlantSample], active: UInt64) -> Int? {
            DemoReport.analyze(samples: samples, plan: plan, masked: 0, missingVotes: 0, noMajority: 0, repairs: 0, transfers: 0,
                               restartedActiveRound: active, restoredGeneration: nil, precisionMax: nil, precisionBound: nil,
                               violations: 0).reintegrationRounds
        }
        let steady = (1_095...1_110).map { sample($0, counted: $0 < 800 || $0 >= 1_102) }
        #expect(reintegration(steady, active: 1_100) == 2)
        // Rounds 1_101… then a cold start (rounds from 0) before any vote counted it: no figure,
        // though a later sample (round 1_200 > 1_100) counts it.
        let restarted = (1_095...1_104).map { sample($0, counted: false) } + (0...5).map { sample($0, counted: true) }
            + [sample(1_200, counted: true)]
        #expect(reintegration(restarted, active: 1_100) == nil)
        #expect(reintegration([sample(5, counted: true)], active: 1_100) == nil)
        // A cold start between the restart (11 s) and the replica's first activation: the
        // activation (round 5) is in the new numbering; samples of the old numbering after the
        // restart have larger rounds but are not the ones that follow it.
        let old = (1_095...1_104).map { PlantSample(time: Double($0) / 100, round: UInt64($0), setpoint: 2, level: 2, measured: 2,
                                                     command: 0.5, agreeing: 0b111, dissenting: 0, missing: 0) }
        let renumbered = (0...20).map { r in
            PlantSample(time: 11.05 + Double(r) / 100, round: UInt64(r), setpoint: 2, level: 2, measured: 2, command: 0.5,
                        agreeing: r >= 10 ? 0b111 : 0b111 & ~bit, dissenting: 0, missing: r >= 10 ? 0 : bit)
        }
        #expect(reintegration(old + renumbered, active: 5) == 5)
        // The plant lost rounds 1_101…1_110 to a stalled host: the figure counts from the
        // activation to its next counted vote all the same.
        #expect(reintegration((1_095...1_100).map { sample($0, counted: false) } + (1_111...1_115).map { sample($0, counted: true) },
                              active: 1_100) == 11)
    }

    @Test func aReplicaAllocatesNothingPerActivation() throws {
        let (schedule, derived) = try loadSchedule("demo.takt")
        let layout = try DemoLayout(schedule: schedule)
        let node = layout.controllers[0]
        let codec = try FrameCodec(schedule: schedule)
        let all = MembershipVector(capacity: schedule.nodes.count, members: 0..<schedule.nodes.count)
        var controller = NodeController(configuration: ControllerConfiguration(schedule: schedule, derived: derived, node: node), codec: codec,
                                        anchor: LocalInstant(nanoseconds: 0), cluster: .zero, members: all)
        defer { controller.deallocate() }
        let storage = MemoryStorage()
        var app = ControlNode(schedule: schedule, node: node, tasks: ControllerTasks(layout: layout, replica: 0, storage: storage))
        let round = schedule.cluster.round.nanoseconds
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 40, alignment: 8)
        defer { bytes.deallocate() }
        let c1Slot = try #require(schedule.modes[0].slots.firstIndex { $0.sender == node })
        var before: UInt64 = 0
        var r: UInt64 = 1
        while r <= 2_000 {
            defer { r += 1 }
            if r == 10 { before = takt_allocations_on_this_thread() }
            let start = Int64(r) * round
            app.roundEnded(round: r - 1, at: ClusterInstant(nanoseconds: start), controller: controller)
            // This round's level, sampled at 9.375 ms of the previous round, delivered at 2.5 ms + Π.
            let level = StateMessage(value: PlantImage(level: 1.5, setpoint: 2, command: 0.4),
                                     observedAt: ClusterInstant(nanoseconds: start - 625_000), validity: .milliseconds(20))
            level.store(to: bytes)
            app.delivered(Delivery(message: layout.level[0], instance: r, delivered: true, value: UnsafeRawBufferPointer(bytes)),
                          at: ClusterInstant(nanoseconds: start + 3_006_000))
            app.released(at: ClusterInstant(nanoseconds: start + 3_125_000))
            app.transmitting(round: r, slot: c1Slot, at: ClusterInstant(nanoseconds: start + 3_750_000), controller: &controller)
        }
        let after = takt_allocations_on_this_thread()
        #expect(after - before == 0, "\(after - before) allocations in 1,991 rounds")
        #expect(app.activations >= 1_990)  // one per round once active
        #expect(app.tasks.outputs == app.activations)
        #expect(storage.newestGeneration == 2_000)
    }

    /// Activations happen at the releases the schedule gives (offset + j·period), in order, and a
    /// release at a delivery instant sees the delivered value (the delivery comes first).
    @Test func releasesFollowTheScheduleAndSeeWhatWasDeliveredByThem() throws {
        let (schedule, derived) = try loadSchedule("demo.takt")
        let layout = try DemoLayout(schedule: schedule)
        let codec = try FrameCodec(schedule: schedule)
        let all = MembershipVector(capacity: schedule.nodes.count, members: 0..<schedule.nodes.count)
        var controller = NodeController(configuration: ControllerConfiguration(schedule: schedule, derived: derived, node: layout.plant),
                                        codec: codec, anchor: LocalInstant(nanoseconds: 0), cluster: .zero, members: all)
        defer { controller.deallocate() }
        struct Recorder: ControlTasks {
            var seen: [(task: Int, release: Int64, now: Int64)] = []
            mutating func activate(_ context: TaskContext, images: inout MessageImages) {
                seen.append((context.task, context.release.nanoseconds, context.now.nanoseconds))
            }
        }
        var app = ControlNode(schedule: schedule, node: layout.plant, tasks: Recorder())
        #expect(app.nextRelease() == nil)  // not an active member yet
        app.roundEnded(round: 0, at: ClusterInstant(nanoseconds: 10_000_000), controller: controller)
        // The plant's tasks: actuate at 625 us, sample at 9.375 ms of every 10 ms round.
        #expect(app.nextRelease() == ClusterInstant(nanoseconds: 10_625_000))
        app.released(at: ClusterInstant(nanoseconds: 10_625_100))
        #expect(app.nextRelease() == ClusterInstant(nanoseconds: 19_375_000))
        // A late call catches up on every release due, oldest first.
        app.released(at: ClusterInstant(nanoseconds: 20_700_000))
        let seen = app.tasks.seen
        #expect(seen.map(\.task) == [layout.actuateTask, layout.sampleTask, layout.actuateTask])
        #expect(seen.map(\.release) == [10_625_000, 19_375_000, 20_625_000])
        #expect(app.maximumActivationLateness == .nanoseconds(20_700_000 - 19_375_000))
        // A node that stops being an active member runs nothing.
        var listening = NodeController(configuration: ControllerConfiguration(schedule: schedule, derived: derived, node: layout.plant),
                                       codec: codec, listeningAt: LocalInstant(nanoseconds: 0))
        defer { listening.deallocate() }
        app.roundEnded(round: 2, at: ClusterInstant(nanoseconds: 30_000_000), controller: listening)
        #expect(app.nextRelease() == nil)
        app.released(at: ClusterInstant(nanoseconds: 40_000_000))
        #expect(app.tasks.seen.count == 3)
    }
}

/// A counting application for the cut test: every activation increments the node's counter and
/// writes it into every message the node sends; receivers keep the newest value per message.
struct Counter: ControlTasks {
    let node: Int
    let sends: [Int]
    let receives: [Int]
    var count: UInt64 = 0
    /// Per cut round: the node's counter and the newest value received per message at the cut.
    var cuts: [UInt64: (count: UInt64, received: [Int: UInt64])] = [:]
    /// Per cut round: values delivered after the cut that were sent before it.
    var inTransit: [UInt64: [Int: UInt64]] = [:]
    var lastReceived: [Int: UInt64] = [:]

    mutating func activate(_ context: TaskContext, images: inout MessageImages) {
        count += 1
        for m in sends { images.write(m, count) }
        for m in receives { if let v = images.read(m, as: UInt64.self), images.deliveryInstant(of: m) != nil { lastReceived[m] = v } }
    }
    mutating func roundBoundary(_ round: UInt64, at boundary: ClusterInstant) {
        cuts[round] = (count, lastReceived)
    }
    mutating func inTransit(atCut round: UInt64, _ delivery: Delivery) {
        inTransit[round, default: [:]][delivery.message] = UInt64(loading: delivery.value)
    }
}

final class CounterApplications: SimulatedApplication {
    var nodes: [ControlNode<Counter>]
    init(schedule: Schedule, derived: DerivedResults, cutEvery: UInt64) {
        nodes = schedule.nodes.indices.map { n in
            var node = ControlNode(schedule: schedule, node: n,
                                   tasks: Counter(node: n, sends: schedule.messages.indices.filter { schedule.messages[$0].sender == n },
                                                  receives: schedule.messages.indices.filter { schedule.messages[$0].destinations.contains(n) }),
                                   derived: derived)
            node.cutEvery = cutEvery
            return node
        }
    }
    func transmitting(node: Int, round: UInt64, slot: Int, at now: ClusterInstant, controller: inout NodeController) {
        nodes[node].transmitting(round: round, slot: slot, at: now, controller: &controller)
    }
    func delivered(node: Int, _ delivery: Delivery, at now: ClusterInstant) { nodes[node].delivered(delivery, at: now) }
    func roundEnded(node: Int, round: UInt64, at now: ClusterInstant, controller: borrowing NodeController) {
        nodes[node].roundEnded(round: round, at: now, controller: controller)
    }
    func powerChanged(node: Int, on: Bool, at now: ClusterInstant) { if on { nodes[node].restarted(at: now) } }
    func nextRelease(node: Int) -> ClusterInstant? { nodes[node].nextRelease() }
    func released(node: Int, at now: ClusterInstant) { nodes[node].released(at: now) }
}

@Suite("Consistent cuts at round boundaries", .hostShared)
struct ConsistentCutTests {
    /// Issue #6 point 5: every node saves its state at the same round boundary; nothing a node
    /// had received at the cut was sent after it (no orphan messages), and the instances in flight
    /// across it are reported as the cut's channel state — no extra protocol, only global time.
    @Test func cutsAtRoundBoundariesAreConsistent() throws {
        let (schedule, derived) = try loadSchedule("demo.takt")
        let apps = CounterApplications(schedule: schedule, derived: derived, cutEvery: 50)
        let report = Simulator.run(schedule: schedule, derived: derived,
                                   configuration: SimulationConfiguration(seed: 5, rounds: 420, schedule: schedule), application: apps)
        #expect(report.violations.isEmpty)
        let tasks = apps.nodes.map(\.tasks)
        let rounds = Set(tasks[0].cuts.keys)
        #expect(rounds == [50, 100, 150, 200, 250, 300, 350, 400])
        var crossing = 0
        for round in rounds.sorted() {
            for t in tasks { #expect(t.cuts[round] != nil, "node \(t.node) missed the cut at \(round)") }
            for (m, message) in schedule.messages.enumerated() {
                let sent = try #require(tasks[message.sender].cuts[round]).count
                for d in message.destinations {
                    let received = tasks[d].cuts[round]?.received[m] ?? 0
                    // No orphan: what the receiver holds was written by the sender before the cut.
                    #expect(received <= sent, "cut \(round): \(message.name) at \(schedule.nodes[d].name) holds \(received) > sender's \(sent)")
                    if let inFlight = tasks[d].inTransit[round]?[m] {
                        // In transit: sent before the cut (≤ the sender's count then), newer than what the receiver held.
                        #expect(inFlight <= sent && inFlight > received, "cut \(round): \(message.name) in transit \(inFlight)")
                        crossing += 1
                    }
                }
            }
        }
        // The commands and states sent in the last slot of each round cross every boundary.
        #expect(crossing >= 8 * 3)
    }
}

/// Records which task entries run; one node's task asks for a mode change once.
struct ModeTasks: ControlTasks {
    var requestAt: UInt64?
    var target = 0
    var ran: [(round: UInt64, task: Int)] = []
    mutating func activate(_ context: TaskContext, images: inout MessageImages) {
        ran.append((context.round, context.task))
        if let at = requestAt, context.round >= at {
            images.requestModeChange(to: target)
            requestAt = nil
        }
    }
}

final class ModeApplications: SimulatedApplication {
    var nodes: [ControlNode<ModeTasks>]
    var switchedAt: [UInt64?]
    init(schedule: Schedule, requester: Int, at round: UInt64, target: Int) {
        nodes = schedule.nodes.indices.map { n in
            ControlNode(schedule: schedule, node: n, tasks: ModeTasks(requestAt: n == requester ? round : nil, target: target))
        }
        switchedAt = Array(repeating: nil, count: schedule.nodes.count)
    }
    func transmitting(node: Int, round: UInt64, slot: Int, at now: ClusterInstant, controller: inout NodeController) {
        nodes[node].transmitting(round: round, slot: slot, at: now, controller: &controller)
    }
    func delivered(node: Int, _ delivery: Delivery, at now: ClusterInstant) { nodes[node].delivered(delivery, at: now) }
    func roundEnded(node: Int, round: UInt64, at now: ClusterInstant, controller: borrowing NodeController) {
        let before = nodes[node].currentMode
        nodes[node].roundEnded(round: round, at: now, controller: controller)
        if nodes[node].currentMode != before && switchedAt[node] == nil { switchedAt[node] = round + 1 }
    }
    func powerChanged(node: Int, on: Bool, at now: ClusterInstant) { if on { nodes[node].restarted(at: now) } }
    func nextRelease(node: Int) -> ClusterInstant? { nodes[node].nextRelease() }
    func released(node: Int, at now: ClusterInstant) { nodes[node].released(at: now) }
}

@Suite("Application-requested mode changes", .hostShared)
struct ApplicationModeChangeTests {
    /// Issue #6 point 3: a task asks for a mode change; every node switches its task table at the
    /// same cluster-cycle boundary, and from then on only the new mode's tasks run.
    @Test(arguments: [UInt64(7), 8, 13])
    func everyNodeSwitchesAtTheSameCycleBoundary(_ requestRound: UInt64) throws {
        let (schedule, derived) = try loadSchedule("modes.takt")
        let normal = schedule.initialMode
        let degraded = try #require(schedule.modes[normal].transitions.first)
        let requester = try #require(schedule.nodes.firstIndex { $0.name == "ctrl_a" })
        let apps = ModeApplications(schedule: schedule, requester: requester, at: requestRound, target: degraded)
        let report = Simulator.run(schedule: schedule, derived: derived,
                                   configuration: SimulationConfiguration(seed: requestRound, rounds: 60, schedule: schedule), application: apps)
        #expect(report.violations.isEmpty, "\(report.violations.prefix(2))")
        #expect(report.modeChanges == 1)
        #expect(apps.nodes[requester].modeRequestsAccepted == 1)
        let switched = apps.switchedAt.compactMap { $0 }
        #expect(switched.count == schedule.nodes.count)
        #expect(Set(switched).count == 1)  // the same round at every node
        let at = try #require(switched.first)
        #expect(at % UInt64(schedule.cluster.cycleRounds) == 0)  // a cluster-cycle boundary
        #expect(at > requestRound && at <= requestRound + 2 * UInt64(schedule.cluster.cycleRounds) + 1)
        for (n, app) in apps.nodes.enumerated() {
            #expect(app.currentMode == degraded)
            // After the switch, only the degraded mode's tasks of this node run.
            let mine = Set(schedule.modes[degraded].tasks.indices.filter { schedule.modes[degraded].tasks[$0].node == n })
            let after = app.tasks.ran.filter { $0.round >= at }.map(\.task)
            #expect(Set(after).isSubset(of: mine), "node \(schedule.nodes[n].name)")
            if !mine.isEmpty { #expect(!after.isEmpty) }
        }
    }
}
