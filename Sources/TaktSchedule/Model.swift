// The typed schedule model: what a schedule file means once names and units are resolved.
//
// Entities refer to each other by index (`nodes[i]`), never by dictionary lookups, so iteration
// order is the declaration order and every derived table is deterministic. Each entity keeps the
// source position of its name and of every property, for diagnostics.

import TaktTime

/// Every property key of the language. The raw value is the spelling in schedule files.
public enum PropertyKey: String, Sendable, CaseIterable {
    case round, cycle, macrotick, bitrate, propagation, drift
    case readingError = "reading_error"
    case faultTolerance = "fault_tolerance"
    case precision, convergence
    case sync, group, frame
    case sender, offset, length, cstate
    case size, period, phase, to, copies, slot
    case node, wcet, deadline, reads, writes, after
    case path
    case maxAge = "max_age"
    case initial, transitions

    private static let table: [String: PropertyKey] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })

    /// Looks a key up by its spelling (keys are short: `String(text)` stays inline, no allocation).
    public static func byName(_ text: Substring) -> PropertyKey? {
        guard text.utf8.count <= 15 else { return nil }
        return table[String(text)]
    }
}

/// Source positions of one declaration: its name and each property it spelled out.
public struct DeclarationSpans: Sendable, Equatable {
    public var name: SourceLocation
    private var keys: [PropertyKey] = []
    private var locations: [SourceLocation] = []

    public init(name: SourceLocation) { self.name = name }

    mutating func record(_ key: PropertyKey, _ location: SourceLocation) {
        keys.append(key)
        locations.append(location)
    }

    /// Where `key`'s value was written, or the declaration's name when the value is derived.
    public subscript(key: PropertyKey) -> SourceLocation {
        if let i = keys.firstIndex(of: key) { return locations[i] }
        return name
    }

    public func has(_ key: PropertyKey) -> Bool { keys.contains(key) }
}

public struct Cluster: Sendable, Equatable {
    public var name: String
    /// R: the TDMA round, also the resynchronization interval.
    public var round: Interval
    /// Rounds per cluster cycle; the dispatch tables repeat every cycle.
    public var cycleRounds: Int64
    /// The global time granularity g; every instant of the schedule is a multiple of it.
    public var macrotick: Interval
    public var bitrate: Bitrate
    public var propagation: Interval
    /// ρ: the maximum drift rate of a correct oscillator.
    public var drift: DriftRate
    /// ε: the assumed reading error of one clock reading.
    public var readingError: Interval
    /// k: faulty clocks tolerated by the convergence function.
    public var faultTolerance: Int
    /// Π if declared; nil means "derived" (the computed bound is used).
    public var declaredPrecision: Interval?
    public var convergence: ConvergenceFunction
    public var spans: DeclarationSpans
    /// Properties whose written value was rejected (and reported); they hold neutral stand-ins,
    /// and the rules that depend on them are skipped.
    public var unresolved: [PropertyKey] = []

    public var cycle: Interval { round * cycleRounds }

    /// Whether Π can be computed from this cluster's declared values.
    public var clockParametersResolved: Bool {
        !unresolved.contains { [.drift, .readingError, .faultTolerance, .precision].contains($0) }
    }
}

public struct Node: Sendable, Equatable {
    public var name: String
    /// Whether the node's clock takes part in the fault-tolerant average.
    public var sync: Bool
    /// The redundancy group (replicas of one function), if any.
    public var group: String?
    /// The cyclic-executive frame (minor cycle) if the node declares one.
    public var frame: Interval?
    public var spans: DeclarationSpans
}

public struct Slot: Sendable, Equatable {
    public var name: String
    public var sender: Int
    /// Offset from the start of the round.
    public var offset: Interval
    public var length: Interval
    public var offsetDerived: Bool
    public var lengthDerived: Bool
    /// Whether the frame sent in this slot carries the full C-state (default yes).
    public var carriesCState: Bool
    public var spans: DeclarationSpans

    public var end: Interval { offset + length }
}

public struct Message: Sendable, Equatable {
    public var name: String
    public var sender: Int
    public var size: ByteCount
    public var periodRounds: Int64
    public var phaseRounds: Int64
    public var destinations: [Int]
    public var copies: Int
    /// The sender's slot (by name) this message is bound to, if it names one; resolved per mode.
    public var slotName: String?
    public var spans: DeclarationSpans
}

public struct TaskSpec: Sendable, Equatable {
    public var name: String
    public var node: Int
    public var period: Interval
    public var offset: Interval
    public var wcet: Interval
    /// Relative to the release (offset + j·period).
    public var deadline: Interval
    public var reads: [Int]
    public var writes: [Int]
    /// Tasks of the same mode that must complete before this one is released (same period instance).
    public var after: [Int]
    public var spans: DeclarationSpans
}

public struct Chain: Sendable, Equatable {
    public var name: String
    /// Task names; resolved in each mode that declares all of them.
    public var path: [String]
    public var pathLocations: [SourceLocation]
    /// Bound on the worst-case reaction time (stimulus to first output reflecting it).
    public var deadline: Interval?
    /// Bound on the worst-case data age (input sample to the output that uses it).
    public var maxAge: Interval?
    public var spans: DeclarationSpans
}

public struct Mode: Sendable, Equatable {
    public var name: String
    public var slots: [Slot]
    public var tasks: [TaskSpec]
    public var transitions: [Int]
    public var initial: Bool
    public var spans: DeclarationSpans
    /// Some slot or task declaration of the mode was too broken to model (and was reported).
    /// Rules about absence (a node without a slot, idle time, …) are skipped so that one typo
    /// does not cascade into misleading errors.
    public var incomplete: Bool = false
}

public struct Schedule: Sendable, Equatable {
    public var cluster: Cluster
    public var nodes: [Node]
    public var messages: [Message]
    public var chains: [Chain]
    /// At least one. A file without `mode` declarations has one implicit mode named "default".
    public var modes: [Mode]
    public var modesDeclared: Bool
    public var initialMode: Int

    public var syncNodeCount: Int { nodes.reduce(0) { $0 + ($1.sync ? 1 : 0) } }
}

/// The frame layout that sizes a slot (Docs/wire-format.md): a fixed header, the membership
/// vector (one bit per node), the payload, and a CRC-32C trailer.
public enum FrameLayout {
    /// version 1, flags 1, mode 2, schedule id 8, round 8, slot 2, sender 2, send lateness 4,
    /// payload length 2, pending mode 2.
    public static let headerBytes: Int64 = 32
    public static let trailerBytes: Int64 = 4
    /// The payload length field is 16 bits.
    public static let maximumPayloadBytes: Int64 = 65_535

    public static func membershipBytes(nodeCount: Int) -> Int64 { Int64((nodeCount + 7) / 8) }

    public static func frameBytes(nodeCount: Int, payloadBytes: Int64) -> Int64 {
        headerBytes + membershipBytes(nodeCount: nodeCount) + payloadBytes + trailerBytes
    }
}
