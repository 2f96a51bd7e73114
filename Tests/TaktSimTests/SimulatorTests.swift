// The simulator drives the real controllers: precision within Π, membership agreement and
// detection latency under seeded faults, and "same seed, same run".

import Foundation
import Testing
import TaktTestSupport
import TaktSchedule
import TaktSim
import TaktTime

@Suite("Simulator: synchronized operation under faults", .hostShared)
struct SimulatorTests {
    @Test(arguments: ["minimal.takt", "tmr.takt", "multirate.takt", "large64.takt", "demo.takt"])
    func faultFreeRunsKeepEveryGuarantee(_ name: String) throws {
        let (schedule, derived) = try loadSchedule(name)
        for seed: UInt64 in [1, 2, 3] {
            let report = Simulator.run(schedule: schedule, derived: derived,
                                       configuration: SimulationConfiguration(seed: seed, rounds: name == "large64.takt" ? 100 : 1_000, schedule: schedule))
            #expect(report.violations.isEmpty, "\(name) seed \(seed): \(report.violations.prefix(3))")
            #expect(report.precisionMax <= report.precisionBound)
            #expect(report.precisionMax > .zero)
            // Every frame is accepted by every other node, except frames still in flight when the run ends.
            let inFlight = report.framesSent * (schedule.nodes.count - 1) - report.framesAccepted
            #expect(inFlight >= 0 && inFlight < 2 * (schedule.nodes.count - 1), "\(inFlight) frames not accepted")
            #expect(report.foreignFrames == 0)
            // Every instance of every message reaches every destination exactly once.
            let rounds = Int(name == "large64.takt" ? 100 : 1_000)
            let expected = schedule.messages.reduce(0) { total, m in
                total + m.destinations.count * (rounds / Int(m.periodRounds))
            }
            #expect(report.deliveries >= expected - schedule.messages.reduce(0) { $0 + $1.destinations.count * $1.copies })
            #expect(report.deliveries <= expected)
        }
    }

    @Test func sameSeedSameRunOtherSeedOtherRun() throws {
        let (schedule, derived) = try loadSchedule("minimal.takt")
        let a = Simulator.run(schedule: schedule, derived: derived, configuration: SimulationConfiguration(seed: 7, rounds: 300, schedule: schedule))
        let b = Simulator.run(schedule: schedule, derived: derived, configuration: SimulationConfiguration(seed: 7, rounds: 300, schedule: schedule))
        let c = Simulator.run(schedule: schedule, derived: derived, configuration: SimulationConfiguration(seed: 8, rounds: 300, schedule: schedule))
        #expect(a.stateHash == b.stateHash)
        #expect(a.precisionMax == b.precisionMax)
        #expect(a.stateHash != c.stateHash)
    }

    @Test func withoutSynchronizationTheClocksWouldDrift() throws {
        // The checker is not vacuous: with ±100 ppm and no corrections, 1,000 rounds of 1 ms drift
        // the clocks up to 200 us apart, far beyond Π = 20.4 us; the run above stays within Π.
        let (schedule, derived) = try loadSchedule("minimal.takt")
        let report = Simulator.run(schedule: schedule, derived: derived, configuration: SimulationConfiguration(seed: 1, rounds: 1_000, schedule: schedule))
        let freeRunningSpread = Interval(nanoseconds: 2 * schedule.cluster.drift.partsPerBillion * 1_000 * schedule.cluster.round.nanoseconds / 1_000_000_000)
        #expect(freeRunningSpread > report.precisionBound * 5)
        #expect(report.precisionMax <= report.precisionBound)
    }

    @Test func everySingleCrashIsDetectedWithinTwoRounds() throws {
        let (schedule, derived) = try loadSchedule("minimal.takt")
        for node in 0..<schedule.nodes.count {
            for round: UInt64 in [3, 10, 57] {
                var configuration = SimulationConfiguration(seed: UInt64(node) &* 31 &+ round, rounds: 120, schedule: schedule)
                configuration.faults = [.crash(node: node, round: round)]
                let report = Simulator.run(schedule: schedule, derived: derived, configuration: configuration)
                #expect(report.violations.isEmpty, "crash of \(node) at \(round): \(report.violations.prefix(3))")
                let latency = try #require(report.detectionRoundsMax, "crash of \(node) at \(round) never detected")
                // ≤ 1 round + 1 slot (4 slots per round), measured from the crash in true time to the
                // slot's end on a correct clock (which is within Π + ρ·t of true time).
                let slack = Double((derived.precision ?? .zero).nanoseconds) / Double(schedule.cluster.round.nanoseconds)
                #expect(latency <= 1.0 + 0.25 + slack)
            }
        }
    }

    @Test func sendOmissionIsDetectedAndTheNodeRejoins() throws {
        let (schedule, derived) = try loadSchedule("minimal.takt")
        var configuration = SimulationConfiguration(seed: 11, rounds: 50, schedule: schedule)
        configuration.faults = [.sendOmission(node: 2, round: 20)]
        let report = Simulator.run(schedule: schedule, derived: derived, configuration: configuration)
        #expect(report.violations.isEmpty, "\(report.violations.prefix(3))")
        #expect(try #require(report.detectionRoundsMax) <= 1.0)
    }

    @Test func asymmetricReceptionNeverLeavesTwoOperatingCliques() throws {
        let (schedule, derived) = try loadSchedule("minimal.takt")
        for receivers in [[1], [1, 2], [3], [0]] {
            var configuration = SimulationConfiguration(seed: 5, rounds: 40, schedule: schedule)
            configuration.faults = [.asymmetric(node: 0, round: 10, receivers: receivers)]
            let report = Simulator.run(schedule: schedule, derived: derived, configuration: configuration)
            // Agreement and validity are checked from the 2nd round after the fault on: a second
            // operating clique would show up as a disagreement between active nodes.
            #expect(!report.violations.contains { $0.kind == .membershipAgreement || $0.kind == .precision },
                    "receivers \(receivers): \(report.violations.prefix(3))")
        }
    }
}

@Suite("Simulator: two-faced clocks (M4)", .hostShared)
struct TwoFacedClockTests {
    @Test func fourNodesWithOneTwoFacedClockStayWithinTheBound() throws {
        let (schedule, derived) = try loadSchedule("minimal.takt")  // N = 4, k = 1
        let precision = try #require(derived.precision)
        var worst = Interval.zero
        for seed: UInt64 in 1...60 {
            let faulty = Int(seed % 4)
            var configuration = SimulationConfiguration(seed: seed, rounds: 300, schedule: schedule)
            // As two-faced as the acceptance window lets it be while its frames are still accepted.
            configuration.faults = [.twoFaced(node: faulty, round: 0, skew: precision / 2)]
            let report = Simulator.run(schedule: schedule, derived: derived, configuration: configuration)
            #expect(report.violations.isEmpty, "seed \(seed): \(report.violations.prefix(2))")
            worst = max(worst, report.precisionMax)
        }
        #expect(worst <= precision)
    }

    @Test func threeNodesCannotMaskATwoFacedClockAndDoNotClaimSynchrony() throws {
        // N = 3 < 3k + 1 for k = 1: the validator refuses the schedule (E303) ...
        let three = """
        cluster three { round = 1 ms; macrotick = 25 us; bitrate = 10 Mbit/s; drift = 100 ppm; reading_error = 10 us; fault_tolerance = 1 }
        node a; node b; node c
        slot sa { sender = a; offset = 0 us; length = 250 us }
        slot sb { sender = b; offset = 250 us; length = 250 us }
        slot sc { sender = c; offset = 500 us; length = 500 us }
        """
        let refused = ScheduleChecker.check(three)
        #expect(refused.diagnostics.contains { $0.code == .tooFewSyncNodes })
        // ... and with k = 0 (no masking) a two-faced clock drives the correct clocks apart until the
        // run reports a violation or a correct node goes passive — never a clean, synchronized run.
        let unmasked = ScheduleChecker.check(three.replacingOccurrences(of: "fault_tolerance = 1", with: "fault_tolerance = 0"))
        let schedule = try #require(unmasked.schedule), derived = try #require(unmasked.derived)
        #expect(unmasked.valid)
        for seed: UInt64 in 1...10 {
            var configuration = SimulationConfiguration(seed: seed, rounds: 2_000, schedule: schedule)
            configuration.faults = [.twoFaced(node: 2, round: 0, skew: (derived.precision ?? .zero))]
            let report = Simulator.run(schedule: schedule, derived: derived, configuration: configuration)
            #expect(!report.violations.isEmpty, "seed \(seed): a two-faced clock went unnoticed with N = 3")
        }
    }
}

@Suite("Simulator: restart and reintegration", .hostShared)
struct ReintegrationTests {
    @Test func aRestartedNodeIntegratesAndRejoinsWithinThreeRounds() throws {
        for name in ["minimal.takt", "tmr.takt"] {
            let (schedule, derived) = try loadSchedule(name)
            for node in 0..<schedule.nodes.count {
                var configuration = SimulationConfiguration(seed: UInt64(node) + 100, rounds: 80, schedule: schedule)
                configuration.faults = [.crash(node: node, round: 10), .restart(node: node, round: 20)]
                let report = Simulator.run(schedule: schedule, derived: derived, configuration: configuration)
                #expect(report.violations.isEmpty, "\(name) node \(node): \(report.violations.prefix(2))")
                #expect(report.reintegrationsPending == 0, "\(name) node \(node) never rejoined")
                let rounds = try #require(report.reintegrationRoundsMax)
                #expect(rounds <= 3, "\(name) node \(node) took \(rounds) rounds")
                #expect(try #require(report.detectionRoundsMax) <= 1.25 + 1e-9)
            }
        }
    }

    @Test func aNodeThatNeverRestartsStaysOut() throws {
        let (schedule, derived) = try loadSchedule("minimal.takt")
        var configuration = SimulationConfiguration(seed: 3, rounds: 60, schedule: schedule)
        configuration.faults = [.crash(node: 1, round: 10)]
        let report = Simulator.run(schedule: schedule, derived: derived, configuration: configuration)
        #expect(report.violations.isEmpty)
        #expect(report.reintegrationRoundsMax == nil)
    }
}
