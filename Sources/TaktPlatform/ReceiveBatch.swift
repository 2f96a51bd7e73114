// ReceiveBatch: caller-owned, pre-allocated storage for one batched receive (recvmmsg).
//
// One batch holds up to `capacity` datagrams of up to `maximumDatagramBytes` each, with the
// kernel's message vector, source-address and control buffers laid out once at start-up (sized
// from the schedule: capacity ≥ frames per receive window, bytes ≥ the largest frame). A medium's
// `receive(into:)` refills it in place; reading a datagram hands out a view into the batch's own
// memory. Nothing is allocated after `init` (STYLE.md rule 4).
//
// Ownership: one batch belongs to one thread at a time (it is a class so it can be shared by
// reference between an executive and its medium without copying the buffers, and it is not
// Sendable). Views (`ReceivedDatagram.bytes`) are valid until the next receive into, or
// `removeAll()` of, the same batch, and while the batch is alive.

import CTaktPlatform
import Glibc
import TaktTime

/// How the arrival instant of a datagram was taken.
public enum TimestampSource: Hashable, Sendable, CustomStringConvertible {
    /// The kernel stamped the datagram on reception (SO_TIMESTAMPNS, CLOCK_REALTIME, converted to
    /// CLOCK_MONOTONIC with the socket's `RealtimeOffset`).
    case kernel
    /// No kernel timestamp: the CLOCK_MONOTONIC reading taken right after the receive call returned
    /// (later than the true arrival by the time the datagram waited in the socket queue).
    case userSpace

    public var description: String { self == .kernel ? "kernel" : "user-space" }
}

/// One received datagram, as a view into its batch.
public struct ReceivedDatagram {
    /// The datagram's bytes (at most the batch's `maximumDatagramBytes`). Valid until the batch is
    /// refilled or cleared.
    public var bytes: UnsafeRawBufferPointer
    /// Who sent it.
    public var source: SocketAddress
    /// When it arrived, on CLOCK_MONOTONIC.
    public var arrival: LocalInstant
    /// Whether `arrival` is a kernel or a user-space timestamp.
    public var timestampSource: TimestampSource
    /// True when the datagram was longer than the buffer and its tail was cut off (drop it: it is
    /// not the frame that was sent).
    public var truncated: Bool
}

/// Pre-allocated storage for one batched receive. See the file header.
public final class ReceiveBatch {
    /// Accepted capacities: 1 to 1024 datagrams (UIO_MAXIOV, recvmmsg's limit).
    public static let capacityRange = 1...1024
    /// Accepted datagram sizes: 1 to 65 507 bytes (the largest UDP/IPv4 payload).
    public static let datagramBytesRange = 1...65_507

    /// How many datagrams one receive can return.
    public let capacity: Int
    /// The largest datagram stored whole; longer ones are stored truncated and flagged.
    public let maximumDatagramBytes: Int
    /// How many datagrams the batch holds now.
    public private(set) var count = 0
    /// The CLOCK_MONOTONIC reading taken right after the last receive call returned (the
    /// user-space timestamp of any datagram without a kernel one).
    public internal(set) var receivedAt = LocalInstant.zero
    /// The conversion error bound of the kernel timestamps in this batch (± this much); zero when
    /// the batch holds no kernel timestamps.
    public internal(set) var timestampUncertainty = Interval.zero

    struct Record {
        var length: Int
        var source: SocketAddress
        var arrival: LocalInstant
        var timestampSource: TimestampSource
        var truncated: Bool
    }

    let payload: UnsafeMutableRawBufferPointer
    let vector: UnsafeMutableRawPointer
    let iovecs: UnsafeMutablePointer<iovec>
    let names: UnsafeMutablePointer<sockaddr_in>
    let control: UnsafeMutableRawBufferPointer
    let info: UnsafeMutablePointer<takt_datagram_info>
    let records: UnsafeMutablePointer<Record>

    /// A batch of `capacity` datagrams of up to `maximumDatagramBytes` each. Throws
    /// `.invalidConfiguration` outside `capacityRange` / `datagramBytesRange`.
    public init(capacity: Int, maximumDatagramBytes: Int) throws(PlatformError) {
        guard ReceiveBatch.capacityRange.contains(capacity) else {
            throw .invalidConfiguration("receive batch capacity must be between 1 and 1024 datagrams, got \(capacity)")
        }
        guard ReceiveBatch.datagramBytesRange.contains(maximumDatagramBytes) else {
            throw .invalidConfiguration("receive batch datagram size must be between 1 and 65507 bytes, got \(maximumDatagramBytes)")
        }
        self.capacity = capacity
        self.maximumDatagramBytes = maximumDatagramBytes
        payload = .allocate(byteCount: capacity * maximumDatagramBytes, alignment: 16)
        payload.initializeMemory(as: UInt8.self, repeating: 0)
        vector = .allocate(byteCount: capacity * takt_message_header_bytes(), alignment: takt_message_header_alignment())
        iovecs = .allocate(capacity: capacity)
        iovecs.initialize(repeating: iovec(), count: capacity)
        names = .allocate(capacity: capacity)
        names.initialize(repeating: sockaddr_in(), count: capacity)
        let controlBytes = takt_timestamp_control_bytes()
        control = .allocate(byteCount: capacity * controlBytes, alignment: 16)
        control.initializeMemory(as: UInt8.self, repeating: 0)
        info = .allocate(capacity: capacity)
        info.initialize(repeating: takt_datagram_info(), count: capacity)
        records = .allocate(capacity: capacity)
        records.initialize(repeating: Record(length: 0, source: SocketAddress(address: .any, port: 0), arrival: .zero,
                                             timestampSource: .userSpace, truncated: false), count: capacity)
        for i in 0..<capacity {
            iovecs[i] = iovec(iov_base: payload.baseAddress! + i * maximumDatagramBytes, iov_len: maximumDatagramBytes)
            takt_message_header_prepare(vector, UInt32(i), names + i, UInt32(MemoryLayout<sockaddr_in>.size),
                                        iovecs + i, control.baseAddress! + i * controlBytes, controlBytes)
        }
    }

    deinit {
        payload.deallocate()
        vector.deallocate()
        iovecs.deinitialize(count: capacity)
        iovecs.deallocate()
        names.deinitialize(count: capacity)
        names.deallocate()
        control.deallocate()
        info.deinitialize(count: capacity)
        info.deallocate()
        records.deinitialize(count: capacity)
        records.deallocate()
    }

    /// Datagram `index`, a view into this batch. PRECONDITION: 0 ≤ index < count.
    public subscript(index: Int) -> ReceivedDatagram {
        precondition(index >= 0 && index < count, "datagram index out of range")
        let record = records[index]
        return ReceivedDatagram(bytes: UnsafeRawBufferPointer(start: payload.baseAddress! + index * maximumDatagramBytes, count: record.length),
                                source: record.source, arrival: record.arrival,
                                timestampSource: record.timestampSource, truncated: record.truncated)
    }

    /// Empties the batch (keeps its memory).
    public func removeAll() {
        count = 0
        timestampUncertainty = .zero
    }

    /// Appends a datagram by copying `bytes` (for fake media in tests and simulations): bytes
    /// beyond `maximumDatagramBytes` are cut off and the datagram flagged `truncated`. Returns false,
    /// changing nothing, when the batch is full. Never allocates.
    @discardableResult
    public func append(_ bytes: UnsafeRawBufferPointer, source: SocketAddress, arrival: LocalInstant,
                       timestampSource: TimestampSource) -> Bool {
        if count == capacity { return false }
        let stored = Swift.min(bytes.count, maximumDatagramBytes)
        if stored > 0 {
            (payload.baseAddress! + count * maximumDatagramBytes).copyMemory(from: bytes.baseAddress!, byteCount: stored)
        }
        records[count] = Record(length: stored, source: source, arrival: arrival, timestampSource: timestampSource,
                                truncated: stored < bytes.count)
        count += 1
        return true
    }

    /// Sets the outcome of a recvmmsg of `received` datagrams (internal: the socket's receive path).
    func setReceived(_ received: Int) { count = received }
}
