// Applications on Takt: tasks bound to the schedule's task entries, message images, and the one
// interface both drivers — the real executive (TaktRuntime) and the simulator (TaktSim) — call.
//
//   NodeApplication     what a driver calls: just before the node's frame is built, at each
//                       atomic-broadcast delivery instant, at each round's end, at power-on.
//   ControlNode<Tasks>  the NodeApplication every Takt application uses: it keeps the node's
//                       message images (MessageImages), activates the node's tasks at their release
//                       instants (the schedule's `task` entries: offset + j·period in cluster time),
//                       hands them the images, and writes their outputs into the next frame.
//   ControlTasks        what an application author writes: a plain Swift value with one
//                       `activate(task:…)` method; ControlNode is generic over it, so activations are
//                       direct calls — no closures, no existentials, nothing allocated per activation.
//
// Activation: a driver asks `nextRelease()` and wakes at that instant between protocol actions
// (the executive sleeps and spins for it as for a slot; the simulator schedules an event), then
// calls `released(at:)`; every release due by then is activated, oldest first, and its lateness
// (now − release) is recorded. A release at the same instant as a delivery runs after it (a task
// reads the newest instance delivered by its release); one at the instant of the node's own slot
// runs before the frame is built. Tasks run only while the node is an active member: a restarting
// node's releases are skipped (counted in `skippedReleases`) until it has integrated.

import TaktProtocol
import TaktSchedule
import TaktTime

/// The interface between a driver (the real executive or the simulator) and an application.
public protocol NodeApplication {
    /// The node's own slot (round, slot) begins at `now` (its nominal start in cluster time): write
    /// this node's message values now (`controller.write(message:_:)`); they go out in this frame.
    mutating func transmitting(round: UInt64, slot: Int, at now: ClusterInstant, controller: inout NodeController)
    /// An atomic-broadcast instance reached its delivery instant `instant` (cluster time: the last
    /// copy's slot end + Π, the same at every node; the call comes at or just after it).
    /// `delivery.delivered` false: discarded here.
    mutating func delivered(_ delivery: Delivery, at instant: ClusterInstant)
    /// Round `round` ended at this node.
    mutating func roundEnded(round: UInt64, at now: ClusterInstant, controller: borrowing NodeController)
    /// The node (re)started: its volatile state is gone (stable storage survives).
    mutating func restarted(at now: ClusterInstant)
    /// The next instant (cluster time) at which the application must run — its next task
    /// release — or nil. Drivers wake for it between protocol actions.
    func nextRelease() -> ClusterInstant?
    /// Called at (or just after, by the dispatch lateness) `nextRelease()`.
    mutating func released(at now: ClusterInstant)
}

/// The context of one task activation.
public struct TaskContext {
    /// The task's index in its mode's task list (the schedule's order).
    public var task: Int
    /// The release instant (cluster time): offset + j·period from the cycle start.
    public var release: ClusterInstant
    /// The node's cluster time when the activation started (≥ release).
    public var now: ClusterInstant
    /// The round the release falls in.
    public var round: UInt64
    /// The agreed membership at the activation (the node's view; identical at every active node).
    public var membership: MembershipVector
}

/// An application's tasks on one node: a plain value; `ControlNode` calls it directly.
public protocol ControlTasks {
    /// Runs one activation of task `context.task`: read images, compute, write outputs.
    mutating func activate(_ context: TaskContext, images: inout MessageImages)
    /// The node (re)started: restore what stable storage holds (volatile state is gone).
    mutating func restarted(at now: ClusterInstant, images: inout MessageImages)
    /// A consistent cut (see ControlNode.cutEvery): the cluster instant at which round `round`
    /// begins, the same at every node. Save the state here; with the instances `inTransit`
    /// reports, the states every node saves for `round` form a consistent cut (a recovery line)
    /// without any extra protocol: nothing delivered before the boundary was sent after it.
    mutating func roundBoundary(_ round: UInt64, at boundary: ClusterInstant)
    /// An instance delivered after the cut at `round` that was sent before it (its first copy
    /// started before the boundary: delivery instant − Δ < boundary): the channel state of the cut.
    mutating func inTransit(atCut round: UInt64, _ delivery: Delivery)
}

extension ControlTasks {
    public mutating func restarted(at now: ClusterInstant, images: inout MessageImages) {}
    public mutating func roundBoundary(_ round: UInt64, at boundary: ClusterInstant) {}
    public mutating func inTransit(atCut round: UInt64, _ delivery: Delivery) {}
}

/// A node's message images: for each message it receives, the newest delivered value and when it
/// was delivered; for each message it sends, the value its tasks wrote last. Fixed storage, sized
/// from the schedule at init; reading and writing never allocate.
public struct MessageImages {
    private let sizes: [Int]
    private let offsets: [Int]
    private let sends: [Bool]
    private var inbound: [UInt8]
    private var outbound: [UInt8]
    private var deliveredAt: [ClusterInstant?]
    private var written: [Bool]
    /// Instances delivered to this node, and instances discarded (not delivered) where it is a destination.
    public private(set) var deliveries = 0
    public private(set) var discards = 0
    /// A mode change a task asked for, passed to the protocol with the node's next frame.
    public private(set) var requestedMode: Int?

    /// Asks for a change to `mode` (an index of the schedule's modes). The node's next frame
    /// carries the request in its C-state; every node that accepts the frame agrees, and the
    /// change takes effect at the next cluster-cycle boundary — at every node in the same round
    /// (ControlNode then activates the new mode's tasks). Refused requests (not a transition of
    /// the current mode, a change already pending) are counted in `ControlNode.modeRequestsRefused`.
    public mutating func requestModeChange(to mode: Int) { requestedMode = mode }
    mutating func takeModeRequest() -> Int? {
        defer { requestedMode = nil }
        return requestedMode
    }

    public init(schedule: Schedule, node: Int) {
        var offsets: [Int] = [], total = 0
        for m in schedule.messages {
            offsets.append(total)
            total += Int(m.size.bytes)
        }
        self.sizes = schedule.messages.map { Int($0.size.bytes) }
        self.offsets = offsets
        self.sends = schedule.messages.map { $0.sender == node }
        inbound = [UInt8](repeating: 0, count: max(total, 1))
        outbound = [UInt8](repeating: 0, count: max(total, 1))
        deliveredAt = [ClusterInstant?](repeating: nil, count: schedule.messages.count)
        written = [Bool](repeating: false, count: schedule.messages.count)
    }

    /// The newest delivered value of `message` decoded as `type`, or nil (never delivered since
    /// the last restart, or not decodable).
    public func read<Value: FixedLayout>(_ message: Int, as type: Value.Type) -> Value? {
        guard message >= 0 && message < sizes.count, deliveredAt[message] != nil, Value.byteCount <= sizes[message] else { return nil }
        return inbound.withUnsafeBytes { Value(loading: UnsafeRawBufferPointer(rebasing: $0[offsets[message]..<(offsets[message] + sizes[message])])) }
    }

    /// When the newest value of `message` was delivered (cluster time), or nil.
    public func deliveryInstant(of message: Int) -> ClusterInstant? {
        message >= 0 && message < deliveredAt.count ? deliveredAt[message] : nil
    }

    /// Sets this node's next value of `message` (sent with its next instance). PRECONDITION: the
    /// node sends `message` and the value fits (`Value.byteCount ≤ size`); the rest is zeroed.
    public mutating func write<Value: FixedLayout>(_ message: Int, _ value: Value) {
        precondition(sends[message], "message \(message) is not sent by this node")
        precondition(Value.byteCount <= sizes[message], "value larger than message \(message)")
        let start = offsets[message], size = sizes[message]
        outbound.withUnsafeMutableBytes { bytes in
            let slice = UnsafeMutableRawBufferPointer(rebasing: bytes[start..<(start + size)])
            slice.initializeMemory(as: UInt8.self, repeating: 0)
            value.store(to: slice)
        }
        written[message] = true
    }

    /// The value this node wrote last for `message`, decoded, or nil.
    public func outgoing<Value: FixedLayout>(_ message: Int, as type: Value.Type) -> Value? {
        guard message >= 0 && message < sizes.count, written[message], Value.byteCount <= sizes[message] else { return nil }
        return outbound.withUnsafeBytes { Value(loading: UnsafeRawBufferPointer(rebasing: $0[offsets[message]..<(offsets[message] + sizes[message])])) }
    }

    /// Forgets everything (a restart: images are volatile).
    public mutating func clear() {
        for i in deliveredAt.indices { deliveredAt[i] = nil; written[i] = false }
        for i in inbound.indices { inbound[i] = 0; outbound[i] = 0 }
    }

    /// Stores a delivered instance (drivers call this through ControlNode).
    mutating func store(_ delivery: Delivery, at now: ClusterInstant) {
        let m = delivery.message
        guard m >= 0 && m < sizes.count else { return }
        guard delivery.delivered, delivery.value.count == sizes[m] else {
            discards += delivery.delivered ? 0 : 1
            return
        }
        let start = offsets[m]
        inbound.withUnsafeMutableBytes { bytes in
            if let source = delivery.value.baseAddress, sizes[m] > 0 { (bytes.baseAddress! + start).copyMemory(from: source, byteCount: sizes[m]) }
        }
        deliveredAt[m] = now
        deliveries += 1
    }

    /// Writes every value the tasks have written into the controller (before the node's frame).
    mutating func flush(into controller: inout NodeController) {
        for m in written.indices where written[m] {
            let start = offsets[m], size = sizes[m]
            outbound.withUnsafeBytes { controller.write(message: m, UnsafeRawBufferPointer(rebasing: $0[start..<(start + size)])) }
        }
    }
}

/// The application of one node: its tasks, their release table, and its message images.
public struct ControlNode<Tasks: ControlTasks>: NodeApplication {
    public var tasks: Tasks
    public var images: MessageImages
    /// Per mode, this node's tasks: (index in the mode's task list, offset, period), sorted by offset.
    private let table: [[(task: Int, offset: Int64, period: Int64)]]
    private var releaseAt: [Int64]
    private var mode: Int
    private let roundNs: Int64
    private var active = false
    private var membership: MembershipVector
    /// Take a consistent cut (ControlTasks.roundBoundary) at every round boundary that is a
    /// multiple of this many rounds (0: never). Every node takes it at the same boundary.
    public var cutEvery: UInt64 = 0
    /// Per mode and message, Δ (first copy's start to delivery): tells which deliveries after a
    /// cut were in transit at it.
    private let deliveryBounds: [[Interval]]
    private var lastCut: (round: UInt64, boundary: ClusterInstant)?
    /// Activations run, releases skipped (node not an active member, or more than a round late),
    /// and the largest activation lateness seen.
    public private(set) var activations = 0
    public private(set) var skippedReleases = 0
    public private(set) var maximumActivationLateness = Interval.zero

    /// `derived` gives each message's Δ, needed for consistent cuts (`cutEvery`).
    public init(schedule: Schedule, node: Int, tasks: Tasks, derived: DerivedResults? = nil) {
        self.tasks = tasks
        deliveryBounds = derived.map { $0.modes.map { $0.messages.map(\.deliveryBound) } } ?? []
        images = MessageImages(schedule: schedule, node: node)
        table = schedule.modes.map { mode in
            mode.tasks.indices.filter { mode.tasks[$0].node == node }
                .map { (task: $0, offset: mode.tasks[$0].offset.nanoseconds, period: mode.tasks[$0].period.nanoseconds) }
                .sorted { ($0.offset, $0.task) < ($1.offset, $1.task) }
        }
        releaseAt = [Int64](repeating: .max, count: table.map(\.count).max() ?? 0)
        mode = schedule.initialMode
        roundNs = schedule.cluster.round.nanoseconds
        membership = MembershipVector(capacity: schedule.nodes.count)
    }

    /// The first release of `entry` at or after `t` (cluster ns).
    private func release(atOrAfter t: Int64, _ entry: (task: Int, offset: Int64, period: Int64)) -> Int64 {
        guard t > entry.offset else { return entry.offset }
        let periods = (t - entry.offset + entry.period - 1) / entry.period
        return entry.offset + periods * entry.period
    }

    /// Activates every release due by `now`, oldest first. Releases more than a round old are skipped.
    private mutating func activateDue(at now: ClusterInstant) {
        guard active else { return }
        let entries = table[mode]
        while true {
            var best = -1
            for i in entries.indices where releaseAt[i] <= now.nanoseconds && (best < 0 || releaseAt[i] < releaseAt[best]) { best = i }
            guard best >= 0 else { return }
            let entry = entries[best]
            let due = releaseAt[best]
            releaseAt[best] = due + entry.period
            let lateness = now.nanoseconds - due
            if lateness > roundNs {
                skippedReleases += 1
                continue
            }
            if lateness > maximumActivationLateness.nanoseconds { maximumActivationLateness = .nanoseconds(lateness) }
            let context = TaskContext(task: entry.task, release: ClusterInstant(nanoseconds: due), now: now,
                                      round: UInt64(max(0, due) / roundNs), membership: membership)
            tasks.activate(context, images: &images)
            activations += 1
        }
    }

    /// Becoming active (first round as a member, after start or restart): releases start from now.
    private mutating func startReleases(at now: ClusterInstant) {
        for (i, entry) in table[mode].enumerated() { releaseAt[i] = release(atOrAfter: now.nanoseconds, entry) }
    }

    public func nextRelease() -> ClusterInstant? {
        guard active else { return nil }
        var best = Int64.max
        for i in table[mode].indices where releaseAt[i] < best { best = releaseAt[i] }
        return best == .max ? nil : ClusterInstant(nanoseconds: best)
    }

    public mutating func released(at now: ClusterInstant) {
        activateDue(at: now)
    }

    public mutating func transmitting(round: UInt64, slot: Int, at now: ClusterInstant, controller: inout NodeController) {
        activateDue(at: now)
        images.flush(into: &controller)
        if let mode = images.takeModeRequest() {
            if controller.requestModeChange(to: mode) { modeRequestsAccepted += 1 } else { modeRequestsRefused += 1 }
        }
    }

    /// Mode-change requests the protocol took (sent with the node's frame) or refused.
    public private(set) var modeRequestsAccepted = 0
    public private(set) var modeRequestsRefused = 0
    /// The mode whose tasks run now.
    public var currentMode: Int { mode }

    public mutating func delivered(_ delivery: Delivery, at instant: ClusterInstant) {
        // A task reads the newest instance delivered by its release: releases before the delivery
        // instant run first, with the images they would have seen — at every node alike, however
        // late this call comes (replica determinism).
        activateDue(at: ClusterInstant(nanoseconds: instant.nanoseconds - 1))
        images.store(delivery, at: instant)
        if let cut = lastCut, delivery.delivered, mode < deliveryBounds.count, delivery.message < deliveryBounds[mode].count,
           instant > cut.boundary, instant - deliveryBounds[mode][delivery.message] < cut.boundary {
            tasks.inTransit(atCut: cut.round, delivery)
        }
    }

    public mutating func roundEnded(round: UInt64, at now: ClusterInstant, controller: borrowing NodeController) {
        let isActive = controller.isActive
        let newMode = controller.mode(ofRound: round + 1)
        membership = controller.cState.membership
        if isActive && (!active || newMode != mode) {
            // Releases before now were missed while not a member (or belong to the old mode).
            mode = newMode
            active = true
            startReleases(at: now)
        } else if !isActive {
            active = false
        }
        if active && cutEvery > 0 && (round + 1) % cutEvery == 0 {
            let boundary = ClusterInstant(nanoseconds: Int64(round + 1) * roundNs)
            lastCut = (round + 1, boundary)
            tasks.roundBoundary(round + 1, at: boundary)
        }
        activateDue(at: now)
    }

    public mutating func restarted(at now: ClusterInstant) {
        active = false
        images.clear()
        tasks.restarted(at: now, images: &images)
    }
}
