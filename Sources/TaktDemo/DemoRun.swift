// Running the demo: the applications of all four nodes in the deterministic simulator
// (`takt demo --simulated`), and the report both the simulated and the real demo print.

import TaktControl
import TaktProtocol
import TaktSchedule
import TaktSim
import TaktTime

/// The demo's timeline (seconds from the start of control).
public struct DemoPlan: Sendable, Equatable {
    public var duration = 25.0
    /// The controller replica (0-based) killed and restarted, and when.
    public var killReplica = 1
    public var killAt: Double? = 8.0
    public var restartAt: Double? = 11.0
    public var profile = DemoProfile()
    public init() {}

    /// The faults and disturbances in time order, for reports and plots.
    public var events: [(time: Double, text: String)] {
        var e: [(Double, String)] = [(profile.setpointStep, "setpoint \(format(profile.initialSetpoint)) → \(format(profile.setpoint)) m")]
        if let t = killAt { e.append((t, "kill -9 c\(killReplica + 1)")) }
        if let t = restartAt { e.append((t, "restart c\(killReplica + 1)")) }
        if let t = profile.corruptAt { e.append((t, "sensor value to c\(profile.corruptReplica + 1) corrupted")) }
        if let t = profile.leakAt { e.append((t, "leak \(format(profile.leak)) m³/s opens")) }
        return e.sorted { $0.0 < $1.0 }
    }
}

/// What the demo shows, from the plant's log and the controllers' counters.
public struct DemoReport: Sendable, Equatable {
    public var samples: [PlantSample]
    /// RMS control error (m) before the first fault, and after the last fault (before the
    /// disturbance), and the largest error while faults were active; nil when the run has no
    /// such window.
    public var errorBefore: Double?
    public var errorAfter: Double?
    public var errorDuringFaultsMax: Double?
    /// RMS error in the last 3 s (after the disturbance, if any).
    public var errorEnd: Double?
    public var masked: Int
    public var missingVotes: Int
    public var noMajority: Int
    public var stateRepairs: Int
    public var stateTransfers: Int
    /// Rounds from the restarted replica's first round as an active member to the first actuation
    /// its command counted in (agreeing), or nil.
    public var reintegrationRounds: Int?
    public var restoredGeneration: UInt64?
    /// The newest generation the restarted replica had committed to stable storage when it was
    /// killed (known in the simulator; nil for real processes).
    public var committedAtCrash: UInt64?
    public var precisionMax: Interval?
    public var precisionBound: Interval?
    public var violations: Int

    public static func analyze(samples: [PlantSample], plan: DemoPlan, masked: Int, missingVotes: Int, noMajority: Int,
                               repairs: Int, transfers: Int, restartedActiveRound: UInt64?, restoredGeneration: UInt64?,
                               precisionMax: Interval?, precisionBound: Interval?, violations: Int) -> DemoReport {
        func rms(_ from: Double, _ to: Double) -> Double? {
            let window = samples.filter { $0.time >= from && $0.time < to }
            guard !window.isEmpty else { return nil }
            return (window.reduce(0) { $0 + ($1.setpoint - $1.level) * ($1.setpoint - $1.level) } / Double(window.count)).squareRoot()
        }
        let faultTimes = [plan.killAt, plan.restartAt, plan.profile.corruptAt].compactMap { $0 }
        let settle = plan.profile.setpointStep + 5
        let disturbance = min(plan.profile.leakAt ?? plan.duration, plan.duration)
        // Without faults: the error after settling and before the disturbance, nothing "after".
        let firstFault = faultTimes.min() ?? disturbance
        let lastFault = faultTimes.max() ?? 0
        let before = rms(min(settle, firstFault - 2), firstFault)
        let after = faultTimes.isEmpty ? nil : rms(lastFault + 1, disturbance)
        let during = faultTimes.isEmpty ? nil : samples.filter { $0.time >= firstFault && $0.time < lastFault + 1 }.map { abs($0.setpoint - $0.level) }.max()
        let end = rms(plan.duration - 3, plan.duration + 1)
        var reintegration: Int?
        // Rounds from the restarted replica's first activation to the vote that counted its
        // command. Rounds alone are ambiguous over real processes: a host that stalls every
        // process at once can make the cluster cold start again (rounds renumbered from 0, and
        // the plant's time line, continued across, falls behind the run's). So the vote is found
        // by what the plant saw: the first counted vote of that replica after the longest run of
        // actuations without its vote (its downtime); its round counts from the activation when
        // both are of one numbering (the vote later, by at most 100 rounds), else there is no figure.
        let bit = UInt8(1) << plan.killReplica
        var downtime = 0..<0
        var runStart: Int?
        for (i, sample) in samples.enumerated() {
            guard sample.missing & bit != 0 else { runStart = nil; continue }
            let start = runStart ?? i
            runStart = start
            if i + 1 - start > downtime.count { downtime = start..<(i + 1) }
        }
        if let active = restartedActiveRound, !downtime.isEmpty,
           let vote = samples[downtime.upperBound...].first(where: { $0.agreeing & bit != 0 }),
           vote.round > active, vote.round <= active + 100 {
            reintegration = Int(vote.round - active)
        }
        return DemoReport(samples: samples, errorBefore: before, errorAfter: after, errorDuringFaultsMax: during, errorEnd: end,
                          masked: masked, missingVotes: missingVotes, noMajority: noMajority, stateRepairs: repairs,
                          stateTransfers: transfers, reintegrationRounds: reintegration, restoredGeneration: restoredGeneration,
                          committedAtCrash: nil, precisionMax: precisionMax, precisionBound: precisionBound, violations: violations)
    }

    /// The report as text (the same for the simulated and the real demo).
    public func text(plan: DemoPlan, title: String) -> String {
        var t = title + "\n"
        t += "  timeline: " + plan.events.map { "\(format($0.time)) s \($0.text)" }.joined(separator: "; ") + "\n"
        if plan.killAt == nil && plan.restartAt == nil && plan.profile.corruptAt == nil {
            t += "  control error (RMS, m): settled \(format(errorBefore, 4)); last 3 s \(format(errorEnd, 4)) (no faults injected)\n"
        } else {
            t += "  control error (RMS, m): before the faults \(format(errorBefore, 4)), after them \(format(errorAfter, 4)); largest while faults were active \(format(errorDuringFaultsMax, 4)); last 3 s \(format(errorEnd, 4))\n"
        }
        t += "  faults masked: \(masked) outvoted command\(masked == 1 ? "" : "s"), \(stateRepairs) replica state\(stateRepairs == 1 ? "" : "s") repaired; \(missingVotes) missing vote\(missingVotes == 1 ? "" : "s"); \(noMajority) actuation\(noMajority == 1 ? "" : "s") without a majority\n"
        if let r = reintegrationRounds {
            t += "  reintegration: the restarted replica's command counted again \(r) round\(r == 1 ? "" : "s") after it integrated"
            t += restoredGeneration.map { " (checkpoint of round \($0) restored, state taken from its partners)\n" } ?? " (no checkpoint; state taken from its partners)\n"
        } else if plan.restartAt != nil {
            t += "  reintegration: the restarted replica's command never counted again\n"
        }
        if let p = precisionMax, let b = precisionBound { t += "  precision: max \(p) (bound Π = \(b))\n" }
        t += "  guarantees: \(violations == 0 ? "every checked guarantee held" : "\(violations) violation\(violations == 1 ? "" : "s")")\n"
        return t
    }
}

func format(_ x: Double?, _ digits: Int = 2) -> String {
    guard let x, x.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (abs(x) * scale).rounded()
    let whole = Int(r / scale), frac = Int(r) - whole * Int(scale)
    var f = String(frac)
    while f.count < digits { f = "0" + f }
    return (x < 0 && r != 0 ? "-" : "") + "\(whole)" + (digits > 0 ? "." + f : "")
}

/// The four nodes' applications, for the simulator.
public final class DemoApplications: SimulatedApplication {
    public let layout: DemoLayout
    public var plant: ControlNode<PlantTasks>
    public var controllers: [ControlNode<ControllerTasks<MemoryStorage>>]
    public let storages: [MemoryStorage]

    public init(schedule: Schedule, layout: DemoLayout, plan: DemoPlan, seed: UInt64) {
        self.layout = layout
        let rows = Int(plan.duration / (Double(layout.round.nanoseconds) / 1e9)) + 64
        plant = ControlNode(schedule: schedule, node: layout.plant, tasks: PlantTasks(layout: layout, profile: plan.profile, seed: seed, logCapacity: rows))
        let storages = (0..<3).map { _ in MemoryStorage() }
        self.storages = storages
        controllers = (0..<3).map { ControlNode(schedule: schedule, node: layout.controllers[$0],
                                                tasks: ControllerTasks(layout: layout, replica: $0, storage: storages[$0])) }
    }

    private func replica(_ node: Int) -> Int? { layout.controllers.firstIndex(of: node) }

    public func transmitting(node: Int, round: UInt64, slot: Int, at now: ClusterInstant, controller: inout NodeController) {
        if node == layout.plant { plant.transmitting(round: round, slot: slot, at: now, controller: &controller) }
        else if let r = replica(node) { controllers[r].transmitting(round: round, slot: slot, at: now, controller: &controller) }
    }
    public func delivered(node: Int, _ delivery: Delivery, at now: ClusterInstant) {
        if node == layout.plant { plant.delivered(delivery, at: now) }
        else if let r = replica(node) { controllers[r].delivered(delivery, at: now) }
    }
    public func roundEnded(node: Int, round: UInt64, at now: ClusterInstant, controller: borrowing NodeController) {
        if node == layout.plant { plant.roundEnded(round: round, at: now, controller: controller) }
        else if let r = replica(node) { controllers[r].roundEnded(round: round, at: now, controller: controller) }
    }
    /// Per replica, the newest generation in stable storage when it lost power (nil: never).
    public private(set) var committedAtCrash: [UInt64?] = [nil, nil, nil]

    public func powerChanged(node: Int, on: Bool, at now: ClusterInstant) {
        guard on else {
            if let r = replica(node) { committedAtCrash[r] = storages[r].newestGeneration }
            return
        }
        if node == layout.plant { plant.restarted(at: now) }
        else if let r = replica(node) { controllers[r].restarted(at: now) }
    }
    public func nextRelease(node: Int) -> ClusterInstant? {
        if node == layout.plant { return plant.nextRelease() }
        if let r = replica(node) { return controllers[r].nextRelease() }
        return nil
    }
    public func released(node: Int, at now: ClusterInstant) {
        if node == layout.plant { plant.released(at: now) }
        else if let r = replica(node) { controllers[r].released(at: now) }
    }
}

/// The demo in the deterministic simulator: same seed, same report.
public enum DemoSimulation {
    public static func run(schedule: Schedule, derived: DerivedResults, plan: DemoPlan, seed: UInt64,
                           progress: ((UInt64) -> Void)? = nil) throws(DemoLayout.Problem) -> (DemoReport, SimulationReport) {
        let layout = try DemoLayout(schedule: schedule)
        let roundSeconds = Double(layout.round.nanoseconds) / 1e9
        func round(_ t: Double) -> UInt64 { UInt64((t / roundSeconds).rounded()) + 2 }  // control starts ~2 rounds in
        let rounds = round(plan.duration) + 2
        var configuration = SimulationConfiguration(seed: seed, rounds: rounds, schedule: schedule)
        let victim = layout.controllers[plan.killReplica]
        if let k = plan.killAt { configuration.faults.append(.crash(node: victim, round: round(k))) }
        if let r = plan.restartAt { configuration.faults.append(.restart(node: victim, round: round(r))) }
        let apps = DemoApplications(schedule: schedule, layout: layout, plan: plan, seed: seed)
        let sim = Simulator.run(schedule: schedule, derived: derived, configuration: configuration, application: apps, progress: progress)
        let c = apps.controllers.map(\.tasks)
        let restarted = c[plan.killReplica]
        let report = DemoReport.analyze(samples: apps.plant.tasks.log, plan: plan, masked: apps.plant.tasks.masked,
                                        missingVotes: apps.plant.tasks.missingVotes, noMajority: apps.plant.tasks.noMajority,
                                        repairs: c.reduce(0) { $0 + $1.repairs }, transfers: c.reduce(0) { $0 + $1.transfers },
                                        restartedActiveRound: plan.restartAt == nil ? nil : restarted.activeSinceRound,
                                        restoredGeneration: restarted.restoredGeneration,
                                        precisionMax: sim.precisionMax, precisionBound: sim.precisionBound, violations: sim.violations.count)
        var withCrash = report
        withCrash.committedAtCrash = apps.committedAtCrash[plan.killReplica]
        return (withCrash, sim)
    }
}
