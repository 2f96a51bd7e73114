// Instants: points in time in one frame of reference, as integer nanoseconds since that frame's epoch.
//
// Two frames, two types (STYLE.md rule 1):
// - `LocalInstant` is a reading of one node's oscillator (free-running, drifts by up to ρ).
// - `ClusterInstant` is the synchronized global time the clock-synchronization protocol maintains.
// There is deliberately no arithmetic and no comparison between the two; only the clock-sync code
// converts one into the other (by applying its correction state). For example,
// `LocalInstant.zero - ClusterInstant.zero` and `LocalInstant.zero + (ClusterInstant.zero - .zero)`
// do not compile.
//
// Overflow policy: operators TRAP on overflow (programmer error); `addingReportingOverflow(_:)`
// reports it and wraps.

/// A reading of one node's local oscillator: integer nanoseconds (unit: ns) since the node's epoch.
///
/// Operators and `advanced(by:)`/`distance(to:)` TRAP on overflow; `addingReportingOverflow(_:)`
/// reports and wraps. Does not mix with `ClusterInstant`.
public struct LocalInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the node's epoch.
    public var nanoseconds: Int64

    /// The instant `nanoseconds` ns after the epoch. Never traps.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The epoch.
    public static let zero = LocalInstant(nanoseconds: 0)

    public static func < (lhs: LocalInstant, rhs: LocalInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Later instant. TRAPS on overflow.
    public static func + (lhs: LocalInstant, rhs: Interval) -> LocalInstant {
        LocalInstant(nanoseconds: lhs.nanoseconds + rhs.nanoseconds)
    }
    /// Earlier instant. TRAPS on overflow.
    public static func - (lhs: LocalInstant, rhs: Interval) -> LocalInstant {
        LocalInstant(nanoseconds: lhs.nanoseconds - rhs.nanoseconds)
    }
    /// Elapsed time from `rhs` to `lhs`. TRAPS on overflow.
    public static func - (lhs: LocalInstant, rhs: LocalInstant) -> Interval {
        Interval(nanoseconds: lhs.nanoseconds - rhs.nanoseconds)
    }
    /// `lhs = lhs + rhs`. TRAPS on overflow.
    public static func += (lhs: inout LocalInstant, rhs: Interval) { lhs = lhs + rhs }
    /// `lhs = lhs - rhs`. TRAPS on overflow.
    public static func -= (lhs: inout LocalInstant, rhs: Interval) { lhs = lhs - rhs }

    /// `self + interval`. TRAPS on overflow.
    public func advanced(by interval: Interval) -> LocalInstant { self + interval }
    /// `other - self`. TRAPS on overflow.
    public func distance(to other: LocalInstant) -> Interval { other - self }

    /// `self + interval` with overflow reported; `partialValue` wraps around. Never traps.
    public func addingReportingOverflow(_ interval: Interval) -> (partialValue: LocalInstant, overflow: Bool) {
        let (value, overflow) = nanoseconds.addingReportingOverflow(interval.nanoseconds)
        return (LocalInstant(nanoseconds: value), overflow)
    }

    /// "@" followed by the offset from the epoch as an `Interval` prints it: "@2.5 ms".
    public var description: String { "@" + Interval(nanoseconds: nanoseconds).description }
}

/// Synchronized cluster (global) time: integer nanoseconds (unit: ns) since the cluster epoch.
///
/// Operators and `advanced(by:)`/`distance(to:)` TRAP on overflow; `addingReportingOverflow(_:)`
/// reports and wraps. Does not mix with `LocalInstant`.
public struct ClusterInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the cluster epoch.
    public var nanoseconds: Int64

    /// The instant `nanoseconds` ns after the cluster epoch. Never traps.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The cluster epoch.
    public static let zero = ClusterInstant(nanoseconds: 0)

    public static func < (lhs: ClusterInstant, rhs: ClusterInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Later instant. TRAPS on overflow.
    public static func + (lhs: ClusterInstant, rhs: Interval) -> ClusterInstant {
        ClusterInstant(nanoseconds: lhs.nanoseconds + rhs.nanoseconds)
    }
    /// Earlier instant. TRAPS on overflow.
    public static func - (lhs: ClusterInstant, rhs: Interval) -> ClusterInstant {
        ClusterInstant(nanoseconds: lhs.nanoseconds - rhs.nanoseconds)
    }
    /// Elapsed time from `rhs` to `lhs`. TRAPS on overflow.
    public static func - (lhs: ClusterInstant, rhs: ClusterInstant) -> Interval {
        Interval(nanoseconds: lhs.nanoseconds - rhs.nanoseconds)
    }
    /// `lhs = lhs + rhs`. TRAPS on overflow.
    public static func += (lhs: inout ClusterInstant, rhs: Interval) { lhs = lhs + rhs }
    /// `lhs = lhs - rhs`. TRAPS on overflow.
    public static func -= (lhs: inout ClusterInstant, rhs: Interval) { lhs = lhs - rhs }

    /// `self + interval`. TRAPS on overflow.
    public func advanced(by interval: Interval) -> ClusterInstant { self + interval }
    /// `other - self`. TRAPS on overflow.
    public func distance(to other: ClusterInstant) -> Interval { other - self }

    /// `self + interval` with overflow reported; `partialValue` wraps around. Never traps.
    public func addingReportingOverflow(_ interval: Interval) -> (partialValue: ClusterInstant, overflow: Bool) {
        let (value, overflow) = nanoseconds.addingReportingOverflow(interval.nanoseconds)
        return (ClusterInstant(nanoseconds: value), overflow)
    }

    /// "@" followed by the offset from the epoch as an `Interval` prints it: "@2.5 ms".
    public var description: String { "@" + Interval(nanoseconds: nanoseconds).description }
}
