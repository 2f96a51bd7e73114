// The replicated level-control demo (`takt demo`, Docs/guide.md): a TMR controller over Takt.
//
// Cluster (Schedules/demo.takt): `plant`, the process-interface node, samples the lower tank's
// level and drives the pump; `c1`, `c2`, `c3` run the same PI controller (replica determinism:
// same inputs at the same sparse instants give bitwise-equal outputs). Every round (10 ms):
//
//   9.375 ms  plant/sample   reads the level, writes level_1..3 (one per replica: MARS's atomic
//                            broadcast discards an instance everywhere when any destination is out
//                            of the membership, so each replica gets its own message)
//   0 ms      the plant's slot sends them; delivered at 2.5 ms + Π
//   3.125 ms  ci/control     every replica, at the same release: this round's level and its
//                            partners' states of the previous computation (x_ji); state agreement;
//                            PI step; writes u_i (to the plant) and x_ij (to partners); saves its
//                            state to stable storage; c1, c2, c3 send in their slots from 3.75 ms
//   0.625 ms  plant/actuate  (next round) votes exactly on u_1..3 of that computation (the last is
//                            delivered at 10 ms + Π) and drives the pump
//
// Faults the demo injects and how they are handled:
//   - a controller killed (-9) and restarted: its vote is missing (2 of 3 still agree); on restart it
//     restores its checkpoint, integrates, adopts the state its partners send it in their slots,
//     and its outputs count again — `reintegrationRounds` measures rounds from integration;
//   - a sensor value corrupted on its way to one replica (a bit flip in level_3's value, written
//     into the frame, so the CRC does not catch it): that replica computes a wrong command and a
//     wrong state; the voter masks the command (dissenting), and at the next release the replica
//     sees both partners agree on a state other than its own and adopts it (state repair).

import TaktControl
import TaktProtocol
import TaktSchedule
import TaktTime

/// The plant's state message to each controller: the measured level, the setpoint, the command in
/// effect (so an operator and the controllers see the same picture).
public struct PlantImage: FixedLayout, Equatable, Sendable {
    public var level: Double
    public var setpoint: Double
    public var command: Double
    public init(level: Double, setpoint: Double, command: Double) {
        self.level = level
        self.setpoint = setpoint
        self.command = command
    }
    public static var byteCount: Int { 24 }
    public func store(to buffer: UnsafeMutableRawBufferPointer) {
        level.store(to: buffer)
        setpoint.store(to: UnsafeMutableRawBufferPointer(rebasing: buffer[8...]))
        command.store(to: UnsafeMutableRawBufferPointer(rebasing: buffer[16...]))
    }
    public init?(loading buffer: UnsafeRawBufferPointer) {
        guard buffer.count >= Self.byteCount, let l = Double(loading: buffer),
              let s = Double(loading: UnsafeRawBufferPointer(rebasing: buffer[8...])),
              let c = Double(loading: UnsafeRawBufferPointer(rebasing: buffer[16...])) else { return nil }
        self.init(level: l, setpoint: s, command: c)
    }
}

/// A controller replica's output and state after one computation: the pump command, the PI
/// integrator, and the release (round) it was computed at.
public struct ControllerState: FixedLayout, Equatable, Sendable {
    public var command: Double
    public var integral: Double
    public var round: UInt64
    public init(command: Double, integral: Double, round: UInt64) {
        self.command = command
        self.integral = integral
        self.round = round
    }
    public static var byteCount: Int { 24 }
    public func store(to buffer: UnsafeMutableRawBufferPointer) {
        command.store(to: buffer)
        integral.store(to: UnsafeMutableRawBufferPointer(rebasing: buffer[8...]))
        round.store(to: UnsafeMutableRawBufferPointer(rebasing: buffer[16...]))
    }
    public init?(loading buffer: UnsafeRawBufferPointer) {
        guard buffer.count >= Self.byteCount, let c = Double(loading: buffer),
              let i = Double(loading: UnsafeRawBufferPointer(rebasing: buffer[8...])),
              let r = UInt64(loading: UnsafeRawBufferPointer(rebasing: buffer[16...])) else { return nil }
        self.init(command: c, integral: i, round: r)
    }
}

/// Where the demo's nodes, messages and tasks are in a schedule (found by name).
public struct DemoLayout: Sendable {
    public var plant: Int
    public var controllers: [Int]
    /// level[i]: plant → replica i; command[i]: replica i → plant; state[i][j]: replica i → replica j.
    public var level: [Int]
    public var command: [Int]
    public var state: [[Int]]
    public var sampleTask: Int
    public var actuateTask: Int
    public var controlTasks: [Int]
    public var round: Interval

    public enum Problem: Error, CustomStringConvertible {
        case missing(String)
        case tooSmall(String, Int)
        public var description: String {
            switch self {
            case .missing(let what): "the schedule has no \(what) (takt demo runs Schedules/demo.takt or a schedule with its names)"
            case .tooSmall(let message, let size): "message '\(message)' must be at least \(size) bytes"
            }
        }
    }

    public init(schedule: Schedule) throws(Problem) {
        func node(_ name: String) throws(Problem) -> Int {
            guard let i = schedule.nodes.firstIndex(where: { $0.name == name }) else { throw .missing("node '\(name)'") }
            return i
        }
        func message(_ name: String) throws(Problem) -> Int {
            guard let i = schedule.messages.firstIndex(where: { $0.name == name }) else { throw .missing("message '\(name)'") }
            guard Int(schedule.messages[i].size.bytes) >= 40 else { throw .tooSmall(name, 40) }
            return i
        }
        let tasks = schedule.modes[schedule.initialMode].tasks
        func task(_ name: String) throws(Problem) -> Int {
            guard let i = tasks.firstIndex(where: { $0.name == name }) else { throw .missing("task '\(name)'") }
            return i
        }
        plant = try node("plant")
        controllers = [try node("c1"), try node("c2"), try node("c3")]
        level = [try message("level_1"), try message("level_2"), try message("level_3")]
        command = [try message("u_1"), try message("u_2"), try message("u_3")]
        var state: [[Int]] = []
        for i in 1...3 {
            var row: [Int] = []
            for j in 1...3 { row.append(i == j ? -1 : try message("x_\(i)\(j)")) }
            state.append(row)
        }
        self.state = state
        sampleTask = try task("sample")
        actuateTask = try task("actuate")
        controlTasks = [try task("control_1"), try task("control_2"), try task("control_3")]
        round = schedule.cluster.round
    }
}

/// The scenario: setpoint profile, the sensor corruption and the disturbance, in plant seconds.
public struct DemoProfile: Sendable, Equatable {
    public var initialSetpoint = 1.0
    public var setpoint = 2.0
    public var setpointStep = 1.0
    /// The reading sent to replica `corruptReplica` (0-based) at this time has a bit flipped.
    public var corruptAt: Double? = 15.0
    public var corruptReplica = 2
    /// A leak of `leak` m³/s opens on the lower tank at `leakAt`.
    public var leakAt: Double? = 19.0
    public var leak = 0.1
    public init() {}

    public func setpoint(at t: Double) -> Double { t < setpointStep ? initialSetpoint : setpoint }
}

/// One row of the plant's log, per actuation.
public struct PlantSample: Sendable, Equatable {
    public var time: Double
    public var round: UInt64
    public var setpoint: Double
    public var level: Double
    public var measured: Double
    public var command: Double
    /// Bit i: replica i's command was in the winning group / outvoted / missing.
    public var agreeing: UInt8
    public var dissenting: UInt8
    public var missing: UInt8
}

/// The plant node's tasks: sample and actuate.
public struct PlantTasks: ControlTasks {
    public let layout: DemoLayout
    public var profile: DemoProfile
    public var plant: TwoTankPlant
    private var start: ClusterInstant?
    private var corrupted = false
    /// The log, one row per actuation; capacity reserved at init (appending never allocates
    /// until it is full; then the oldest half is dropped by the host that drains it).
    public var log: [PlantSample] = []
    /// Commands outvoted (masked), votes missing, actuations without a majority (command held).
    public private(set) var masked = 0
    public private(set) var missingVotes = 0
    public private(set) var noMajority = 0
    private var ballot = Ballot<Double>(replicas: 3)
    /// The last reading sampled (logged with the next actuation), and whether any vote succeeded yet.
    private var lastMeasured = 0.0
    private var voted = false

    public init(layout: DemoLayout, profile: DemoProfile, seed: UInt64, logCapacity: Int) {
        self.layout = layout
        self.profile = profile
        plant = TwoTankPlant(command: TwoTankPlant.steadyCommand(forLevel: profile.initialSetpoint), seed: seed)
        log.reserveCapacity(logCapacity)
    }

    /// Plant time (s) at a release: cluster time since the first release. The plant is physical:
    /// its time never goes back, even when the cluster restarts (a cold start begins a new cluster
    /// time); then the plant time continues from where it was.
    private mutating func plantTime(_ instant: ClusterInstant) -> Double {
        if let origin = start, let last = lastRelease, instant <= last {
            start = ClusterInstant(nanoseconds: instant.nanoseconds - (last - origin).nanoseconds - layout.round.nanoseconds)
        }
        let origin = start ?? instant
        start = origin
        lastRelease = instant
        return Double((instant - origin).nanoseconds) / 1e9
    }
    private var lastRelease: ClusterInstant?

    public mutating func activate(_ context: TaskContext, images: inout MessageImages) {
        let t = plantTime(context.release)
        plant.advance(to: t)
        if let leakAt = profile.leakAt, t >= leakAt { plant.leak = profile.leak }
        let validity = layout.round * 2
        if context.task == layout.sampleTask {
            let measured = plant.measureLower()
            let setpoint = profile.setpoint(at: t)
            for i in 0..<3 {
                var level = measured
                if i == profile.corruptReplica, let at = profile.corruptAt, t >= at, !corrupted {
                    level = Double(bitPattern: measured.bitPattern ^ (1 << 52))  // one bit of the exponent
                    corrupted = true
                }
                images.write(layout.level[i], StateMessage(value: PlantImage(level: level, setpoint: setpoint, command: plant.command),
                                                           observedAt: context.release, validity: validity))
            }
            lastMeasured = measured
        } else if context.task == layout.actuateTask {
            ballot.clear()
            for i in 0..<3 {
                // A command counts when it is still valid and was computed within the last round
                // (at the replicas' common release of the previous round).
                if let m = images.read(layout.command[i], as: StateMessage<ControllerState>.self), m.isValid(at: context.release),
                   m.age(at: context.release) < layout.round {
                    ballot[i] = m.value.command
                }
            }
            let outcome = Voter.exact(ballot)
            masked += outcome.dissenting.nonzeroBitCount
            missingVotes += outcome.missing.nonzeroBitCount
            if let command = outcome.value {
                plant.command = command
                voted = true
            } else if voted {
                noMajority += 1  // (before the first vote the replicas are still starting)
            }
            if log.count == log.capacity { log.removeFirst(log.count / 2) }
            log.append(PlantSample(time: t, round: context.round, setpoint: profile.setpoint(at: t), level: plant.lower,
                                   measured: lastMeasured, command: plant.command,
                                   agreeing: outcome.agreeing, dissenting: outcome.dissenting, missing: outcome.missing))
        }
    }

}

/// One controller replica's tasks: the PI step with state agreement and checkpoints.
public struct ControllerTasks<Storage: StableStorage>: ControlTasks {
    public let layout: DemoLayout
    public let replica: Int
    public var storage: Storage
    /// PI gains (per second) and the sample period (s).
    public var proportional = 2.5
    public var integralGain = 0.5
    private let period: Double
    /// The state after the last computation; nil after a restart until it is re-established.
    public private(set) var state: ControllerState?
    /// True after a restart: the checkpoint is stale; adopt the partners' state when it arrives.
    public private(set) var awaitingTransfer = false
    private var restored: ControllerState?
    private var waitedForTransfer = 0
    private var checkpoint = [UInt8](repeating: 0, count: ControllerState.byteCount)
    /// States adopted from partners after a restart, states repaired (both partners agreed on a
    /// different state), outputs written, and the round this node became active / first wrote an
    /// output since its last restart.
    public private(set) var transfers = 0
    public private(set) var repairs = 0
    public private(set) var outputs = 0
    public private(set) var restoredGeneration: UInt64?
    public private(set) var activeSinceRound: UInt64?
    public private(set) var firstOutputRound: UInt64?
    /// The first release since these tasks were created, never reset: in a real node, the first
    /// since its process started (a restart by kill and relaunch), whatever in-process restarts
    /// (a frozen node rejoining) come later.
    public private(set) var firstActiveRound: UInt64?

    public init(layout: DemoLayout, replica: Int, storage: Storage) {
        self.layout = layout
        self.replica = replica
        self.storage = storage
        period = Double(layout.round.nanoseconds) / 1e9
    }

    /// The state every replica with this ballot chooses: the majority's, else the lowest-numbered
    /// replica's present.
    static func choose(_ ballot: Ballot<ControllerState>) -> ControllerState? {
        if let agreed = Voter.exact(ballot).value { return agreed }
        for i in 0..<ballot.replicas { if let s = ballot[i] { return s } }
        return nil
    }

    public mutating func restarted(at now: ClusterInstant, images: inout MessageImages) {
        state = nil
        awaitingTransfer = true
        waitedForTransfer = 0
        activeSinceRound = nil
        firstOutputRound = nil
        restored = checkpoint.withUnsafeMutableBytes { buffer in
            guard let (generation, length) = storage.load(into: buffer), length == ControllerState.byteCount else { return nil }
            restoredGeneration = generation
            return ControllerState(loading: UnsafeRawBufferPointer(buffer))
        }
    }

    public mutating func activate(_ context: TaskContext, images: inout MessageImages) {
        guard context.task == layout.controlTasks[replica] else { return }
        if activeSinceRound == nil { activeSinceRound = context.round }
        if firstActiveRound == nil { firstActiveRound = context.round }
        // Only this round's level (sampled less than a round before the release): a replica that
        // missed it stays silent for this release rather than computing from an older value than
        // its partners (replica determinism; the voter counts it as missing).
        guard let image = images.read(layout.level[replica], as: StateMessage<PlantImage>.self), image.isValid(at: context.release),
              image.age(at: context.release) < layout.round else { return }
        // The partners' states of the previous computation (one round before this release).
        // State agreement: the states of the previous computation (one round before this
        // release) — the partners' as they sent them, and this replica's own if it computed then.
        // Every replica that sees the same states chooses the same one: the majority's, or, with
        // no majority (replicas that started apart, a double fault), the lowest-numbered
        // replica's. A replica whose state differs adopts it, so the replicas converge.
        var ballot = Ballot<ControllerState>(replicas: 3)
        var partnersPresent = false
        for j in 0..<3 where j != replica {
            if let m = images.read(layout.state[j][replica], as: StateMessage<ControllerState>.self),
               m.observedAt == context.release - layout.round, m.isValid(at: context.release) {
                ballot[j] = m.value
                partnersPresent = true
            }
        }
        if !awaitingTransfer, let own = state, own.round &+ 1 == context.round { ballot[replica] = own }
        if awaitingTransfer {
            if partnersPresent, let chosen = Self.choose(ballot) {
                state = chosen
                awaitingTransfer = false
                transfers += 1
            } else {
                // No partner has spoken yet: after four releases continue from the checkpoint
                // (every replica restarted at once), or from scratch.
                waitedForTransfer += 1
                guard waitedForTransfer > 4 else { return }
                state = restored ?? ControllerState(command: image.value.command, integral: image.value.command, round: 0)
                awaitingTransfer = false
            }
        } else if partnersPresent, let chosen = Self.choose(ballot), chosen != state {
            state = chosen  // this replica's state was wrong, stale or apart from the others'
            repairs += 1
        }
        var integral = state?.integral ?? image.value.command
        // The PI law, with the integrator frozen while the command saturates (anti-windup).
        let error = image.value.setpoint - image.value.level
        let candidate = integral + integralGain * period * error
        var command = proportional * error + candidate
        if command > 1 { command = 1 } else if command < 0 { command = 0 } else { integral = candidate }
        let next = ControllerState(command: command, integral: integral, round: context.round)
        state = next
        let message = StateMessage(value: next, observedAt: context.release, validity: layout.round + layout.round / 2)
        images.write(layout.command[replica], message)
        for j in 0..<3 where j != replica { images.write(layout.state[replica][j], message) }
        outputs += 1
        if firstOutputRound == nil { firstOutputRound = context.round }
        checkpoint.withUnsafeMutableBytes { buffer in
            next.store(to: buffer)
            _ = storage.save(UnsafeRawBufferPointer(buffer), generation: context.round)
        }
    }
}
