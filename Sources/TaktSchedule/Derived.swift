// Derived results of a validated schedule: what `takt check --format json`, `takt show` and
// `takt plot` print, and what the protocol and the executive will be built from.

import TaktTime

public struct SlotAnalysis: Sendable, Equatable {
    public var slot: Int
    public var frameBytes: Int64
    /// Transmission time of the largest frame sent in the slot.
    public var frameTime: Interval
    /// Idle time left in the slot after the frame and the propagation delay.
    public var guardTime: Interval
    /// The acceptance window for the frame's first bit, relative to the round start:
    /// expected arrival (offset + propagation) ± (Π + ε).
    public var receiveWindowStart: Interval
    public var receiveWindowEnd: Interval
}

public struct MessageAnalysis: Sendable, Equatable {
    public var message: Int
    /// Whether the message is sent in this mode (its sender has a usable slot).
    public var sent: Bool
    /// Start of the first copy's slot in the instance's first round, relative to the cycle start.
    public var firstSendOffset: Interval
    /// Δ: from the start of the first copy's slot to the delivery instant.
    public var deliveryBound: Interval
    public var periodInterval: Interval
}

public struct ChainAnalysis: Sendable, Equatable {
    public var chain: Int
    /// The link message between consecutive tasks, one per edge of the path.
    public var links: [Int]
    public var reactionTime: Interval?
    public var dataAge: Interval?
}

public struct NodeUtilization: Sendable, Equatable {
    public var node: Int
    /// Σ WCET/period of the node's tasks in this mode.
    public var utilization: Double
}

public enum ConstraintKind: String, Sendable {
    case slotGuard = "guard ≥ 2Π"
    case producerBeforeSlot = "producer ends before its message's slot"
    case consumerAfterDelivery = "consumer starts after delivery"
    case taskDeadline = "WCET fits before the deadline"
    case chainReaction = "chain reaction time ≤ deadline"
    case chainDataAge = "chain data age ≤ max_age"
    case granularity = "macrotick > Π"
    case declaredPrecision = "declared Π ≥ computed bound"
}

/// The margin by which one constraint holds (negative: violated by that much).
public struct Slack: Sendable, Equatable {
    public var kind: ConstraintKind
    public var mode: Int
    public var subject: String
    public var slack: Interval
    public var location: SourceLocation
}

public struct ModeAnalysis: Sendable, Equatable {
    public var mode: Int
    /// lcm of the cluster cycle and every task period of the mode; nil on overflow.
    public var hyperperiod: Interval?
    public var slots: [SlotAnalysis]
    public var messages: [MessageAnalysis]
    public var chains: [ChainAnalysis]
    public var utilization: [NodeUtilization]
}

public struct DerivedResults: Sendable, Equatable {
    public var precisionBound: Interval?
    public var precision: Interval?
    public var lowerBound: Interval
    public var driftOffset: Interval
    public var syncNodes: Int
    public var modes: [ModeAnalysis]
    public var slacks: [Slack]

    /// The constraint with the least slack.
    public var tightest: Slack? {
        slacks.min { a, b in a.slack < b.slack || (a.slack == b.slack && a.location < b.location) }
    }

    /// The largest hyperperiod over the modes, if all are known.
    public var hyperperiod: Interval? {
        var result = Interval.zero
        for m in modes {
            guard let h = m.hyperperiod else { return nil }
            result = max(result, h)
        }
        return result
    }
}

/// One file's result: the model (if it could be built), every diagnostic, sorted, and the derived
/// results (computed as far as the model allows, even when there are errors).
public struct CheckResult: Sendable {
    public var schedule: Schedule?
    public var diagnostics: [Diagnostic]
    public var derived: DerivedResults?

    public init(schedule: Schedule?, diagnostics: [Diagnostic], derived: DerivedResults?) {
        self.schedule = schedule
        self.diagnostics = diagnostics
        self.derived = derived
    }

    public var errorCount: Int { diagnostics.reduce(0) { $0 + ($1.severity == .error ? 1 : 0) } }
    public var warningCount: Int { diagnostics.count - errorCount }
    public var valid: Bool { schedule != nil && errorCount == 0 }
}

public enum ScheduleChecker {
    /// Parses, elaborates and validates one schedule text. Never traps on any input.
    public static func check(_ text: String) -> CheckResult {
        let (file, parseDiagnostics) = Parser.parse(text)
        var diagnostics = parseDiagnostics
        let (schedule, elaborationDiagnostics) = Elaborator.elaborate(file)
        diagnostics += elaborationDiagnostics
        var derived: DerivedResults?
        if let schedule {
            var validator = Validator(schedule: schedule)
            derived = validator.run()
            diagnostics += validator.diagnostics
        }
        sortDiagnostics(&diagnostics)
        if diagnostics.count > Parser.maximumDiagnostics + 1 || (diagnostics.count > Parser.maximumDiagnostics && !diagnostics.contains { $0.code == .tooManyDiagnostics }) {
            diagnostics.removeAll { $0.code == .tooManyDiagnostics }
            let last = diagnostics[Parser.maximumDiagnostics - 1].location
            let dropped = diagnostics.count - Parser.maximumDiagnostics
            diagnostics.removeLast(dropped)
            diagnostics.append(Diagnostic(.tooManyDiagnostics, at: last,
                                          "\(dropped) more diagnostics not shown (at most \(Parser.maximumDiagnostics) per file)",
                                          help: "fix the errors above and check again"))
        }
        return CheckResult(schedule: schedule, diagnostics: diagnostics, derived: derived)
    }
}
