// State messages: a value together with when it was observed and how long it stays accurate.
//
// A real-time image of the controlled process is only useful while it is close enough to the real
// state. Kopetz calls this temporal accuracy: an image observed (sampled) at cluster instant t_obs
// with accuracy interval d_acc may be used in [t_obs, t_obs + d_acc] and not after. Because every
// node reads the same synchronized cluster time, the producer stamps the observation instant once
// and every consumer judges validity against its own clock with the same result up to the
// precision Π (a consumer that must be sure picks d_acc with Π of margin).
//
// Layout (Value.byteCount + 16 bytes, little-endian, no padding):
//   [0, V)        value          Value's own fixed layout
//   [V, V + 8)    observedAt     ClusterInstant, Int64 ns since the cluster epoch
//   [V + 8, V+16) validity       Interval, Int64 ns, ≥ 0
// Invariants (checked where a message is made — `init` and `store` trap — and where it is received —
// `init?(loading:)` returns nil): validity ≥ 0, and observedAt + validity fits in Int64, so the end
// of validity is always a representable instant.
//
// State, not events: a state message overwrites the previous one (the newest image wins, a lost
// message is repaired by the next), which is what lets Takt send it periodically without queues or
// acknowledgments. Events become state through a sensor task that accumulates them
// (EventCounter.swift).

import TaktTime

/// A value observed at a cluster instant, valid for a bounded interval after it: a real-time image.
///
/// Validity is the closed interval `[observedAt, observedAt + validity]`: valid exactly at its end,
/// invalid one nanosecond later, and invalid before `observedAt` (an image cannot describe a
/// moment before it was taken). Equality is `Value`'s `==` on the value plus equal instant and
/// validity; exact voting over state messages compares the stored bytes instead
/// (`Voter.exact`, `FixedLayout.isBitwiseEqual(to:)`).
public struct StateMessage<Value: FixedLayout & Equatable>: Equatable {
    /// The observed (or computed) value.
    public var value: Value
    /// When the value was observed (sampled), cluster time.
    public var observedAt: ClusterInstant
    /// Temporal accuracy: the image is valid in [observedAt, observedAt + validity]. ≥ 0.
    public var validity: Interval

    /// A message observed at `observedAt`, valid for `validity`.
    /// PRECONDITION validity ≥ 0 and observedAt + validity fits in Int64 (a programmer error otherwise).
    public init(value: Value, observedAt: ClusterInstant, validity: Interval) {
        precondition(Self.isWellFormed(observedAt: observedAt, validity: validity),
                     "state message validity \(validity) negative or ending after Int64.max ns (observed \(observedAt))")
        self.value = value
        self.observedAt = observedAt
        self.validity = validity
    }

    /// Whether validity ≥ 0 and the end of validity is a representable instant.
    static func isWellFormed(observedAt: ClusterInstant, validity: Interval) -> Bool {
        validity >= .zero && !observedAt.addingReportingOverflow(validity).overflow
    }

    /// The last instant at which the image is valid: observedAt + validity. Never traps (the
    /// fields are public and may have been set to a sum that overflows: then Int64.max ns).
    public var validUntil: ClusterInstant {
        let (end, overflow) = observedAt.addingReportingOverflow(validity)
        return overflow ? ClusterInstant(nanoseconds: .max) : end
    }

    /// Whether the image may be used at `now`: observedAt ≤ now ≤ observedAt + validity.
    /// False for a negative validity. Never traps.
    public func isValid(at now: ClusterInstant) -> Bool {
        validity >= .zero && now >= observedAt && now <= validUntil
    }

    /// How old the image is at `now`: now − observedAt (negative if it was observed after `now`).
    /// SATURATES at Interval.min/.max instead of trapping (the instants may come from outside).
    public func age(at now: ClusterInstant) -> Interval {
        let (age, overflow) = now.nanoseconds.subtractingReportingOverflow(observedAt.nanoseconds)
        if !overflow { return .nanoseconds(age) }
        return now > observedAt ? .max : .min
    }
}

extension StateMessage: FixedLayout {
    /// Value.byteCount + 16: the value, then observedAt and validity as little-endian Int64.
    public static var byteCount: Int { Value.byteCount + 16 }

    /// Writes the layout above at the start of `buffer`.
    /// PRECONDITION buffer.count ≥ byteCount, and the message is well formed (validity ≥ 0, its end
    /// representable) — a message that no receiver would accept must not be sent.
    public func store(to buffer: UnsafeMutableRawBufferPointer) {
        let valueBytes = Value.byteCount
        requireRoom(in: buffer, for: valueBytes + 16, StateMessage.self)
        precondition(Self.isWellFormed(observedAt: observedAt, validity: validity),
                     "state message validity \(validity) negative or ending after Int64.max ns (observed \(observedAt))")
        value.store(to: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<valueBytes]))
        buffer.storeBytes(of: observedAt.nanoseconds.littleEndian, toByteOffset: valueBytes, as: Int64.self)
        buffer.storeBytes(of: validity.nanoseconds.littleEndian, toByteOffset: valueBytes + 8, as: Int64.self)
    }

    /// nil when the buffer is shorter than byteCount, the value's bytes are not a valid `Value`, the
    /// validity is negative, or observedAt + validity overflows. Never traps.
    public init?(loading buffer: UnsafeRawBufferPointer) {
        let valueBytes = Value.byteCount
        guard buffer.count >= valueBytes + 16,
              let value = Value(loading: UnsafeRawBufferPointer(rebasing: buffer[0..<valueBytes])) else { return nil }
        let observedAt = ClusterInstant(nanoseconds: Int64(littleEndian: buffer.loadUnaligned(fromByteOffset: valueBytes, as: Int64.self)))
        let validity = Interval(nanoseconds: Int64(littleEndian: buffer.loadUnaligned(fromByteOffset: valueBytes + 8, as: Int64.self)))
        guard Self.isWellFormed(observedAt: observedAt, validity: validity) else { return nil }
        self.value = value
        self.observedAt = observedAt
        self.validity = validity
    }
}

extension StateMessage: Sendable where Value: Sendable {}
extension StateMessage: Hashable where Value: Hashable {}
