// DatagramSocket: the UDP/IPv4 socket both media are built on. It owns the descriptor, the send
// vector (one pre-built message per destination, so a frame goes to every destination in one
// sendmmsg) and the realtime → monotonic offset that converts kernel receive timestamps.
//
// Receive path (allocation-free), per call:
//   1. recvmmsg(MSG_DONTWAIT) into the batch's pre-built vector; EINTR retried, EAGAIN → 0.
//   2. t ← CLOCK_MONOTONIC right after it returns (the batch's `receivedAt`).
//   3. If any datagram carries SCM_TIMESTAMPNS: refresh the offset (3 clock reads), convert each
//      stamp r to r − offset, and clamp to ≤ t (a datagram cannot arrive after the call that
//      returned it; a later value means the wall clock stepped back in between). Otherwise the
//      arrival is t, flagged `.userSpace`.
// Send path (allocation-free): sendmmsg over the destinations; an entry the kernel refuses is
// counted and skipped, so one unreachable peer never stops the others.

import CTaktPlatform
import Glibc
import TaktTime

/// What sending one frame achieved.
public struct SendOutcome: Hashable, Sendable {
    /// Destinations the kernel accepted the datagram for (accepted is not delivered: UDP).
    public var sent: Int
    /// Destinations it refused.
    public var failed: Int
    /// The first refusal's error (ENOBUFS, EAGAIN with a full send queue, ENETUNREACH, EMSGSIZE…).
    public var firstError: Errno?

    public init(sent: Int, failed: Int, firstError: Errno?) {
        self.sent = sent
        self.failed = failed
        self.firstError = firstError
    }
}

final class DatagramSocket {
    private(set) var descriptor: Int32
    let localAddress: SocketAddress
    let destinations: [SocketAddress]
    /// Whether SO_TIMESTAMPNS is on; when not, why not.
    let kernelTimestamps: Bool
    let kernelTimestampsRefusal: PlatformError?
    private(set) var offset: RealtimeOffset
    /// Kernel timestamps that converted to after the receive returned and were clamped (a
    /// wall-clock step back between arrival and the offset's refresh).
    private(set) var clampedTimestamps: UInt64 = 0

    private let sendVector: UnsafeMutableRawPointer
    private let sendNames: UnsafeMutablePointer<sockaddr_in>
    private let sendIovecs: UnsafeMutablePointer<iovec>

    /// Opens a socket, lets `configure` set options and bind it, and builds the send vector.
    /// Closes the descriptor if anything throws.
    init(destinations: [SocketAddress], kernelTimestamps wantTimestamps: Bool,
         configure: (Int32) throws(PlatformError) -> Void) throws(PlatformError) {
        let fd: Int32
        do { fd = try Syscall.udpSocket() } catch { throw .systemCall("socket(AF_INET, SOCK_DGRAM)", error) }
        do {
            try configure(fd)
            localAddress = SocketAddress(try DatagramSocket.localAddress(fd))
        } catch {
            Syscall.close(fd)
            throw error
        }
        var refusal: PlatformError?
        if wantTimestamps {
            do { try Syscall.setSocketOption(fd, SOL_SOCKET, SO_TIMESTAMPNS, Int32(1)) } catch {
                refusal = .systemCall("setsockopt(SO_TIMESTAMPNS)", error)
            }
        } else {
            refusal = .invalidConfiguration("kernel timestamps were not requested")
        }
        descriptor = fd
        self.destinations = destinations
        kernelTimestamps = refusal == nil
        kernelTimestampsRefusal = refusal
        offset = RealtimeOffset(samples: 16)
        let count = Swift.max(destinations.count, 1)
        sendVector = .allocate(byteCount: count * takt_message_header_bytes(), alignment: takt_message_header_alignment())
        sendNames = .allocate(capacity: count)
        sendIovecs = .allocate(capacity: count)
        sendNames.initialize(repeating: sockaddr_in(), count: count)
        sendIovecs.initialize(repeating: iovec(), count: count)
        for (i, destination) in destinations.enumerated() {
            sendNames[i] = destination.socketAddress
            takt_message_header_prepare(sendVector, UInt32(i), sendNames + i, UInt32(MemoryLayout<sockaddr_in>.size),
                                        sendIovecs + i, nil, 0)
        }
    }

    deinit {
        close()
        let count = Swift.max(destinations.count, 1)
        sendVector.deallocate()
        sendNames.deinitialize(count: count)
        sendNames.deallocate()
        sendIovecs.deinitialize(count: count)
        sendIovecs.deallocate()
    }

    private static func localAddress(_ fd: Int32) throws(PlatformError) -> sockaddr_in {
        do { return try Syscall.localAddress(fd) } catch { throw .systemCall("getsockname", error) }
    }

    func close() {
        if descriptor >= 0 {
            Syscall.close(descriptor)
            descriptor = -1
        }
    }

    func send(_ frame: UnsafeRawBufferPointer) -> SendOutcome {
        var outcome = SendOutcome(sent: 0, failed: 0, firstError: nil)
        guard descriptor >= 0 else {
            outcome.failed = destinations.count
            outcome.firstError = destinations.isEmpty ? nil : .badFileDescriptor
            return outcome
        }
        var start = 0
        while start < destinations.count {
            switch Syscall.sendVector(descriptor, sendVector, start: start, count: destinations.count, frame: frame) {
            case .success(let sent) where sent > 0:
                outcome.sent += sent
                start += sent
            case .success:
                // sendmmsg returns ≥ 1 or an error for a non-empty vector; treat 0 as a refusal of
                // entry `start` so the loop always advances.
                outcome.failed += 1
                if outcome.firstError == nil { outcome.firstError = .wouldBlock }
                start += 1
            case .failure(let error):
                // EINTR: retry the same entry (nothing of it was sent). Anything else: count the
                // entry as refused and go on with the next destination.
                if error == .interrupted { continue }
                outcome.failed += 1
                if outcome.firstError == nil { outcome.firstError = error }
                start += 1
            }
        }
        return outcome
    }

    func receive(into batch: ReceiveBatch) throws(PlatformError) -> Int {
        batch.removeAll()
        guard descriptor >= 0 else { throw .systemCall("recvmmsg", .badFileDescriptor) }
        var received = 0
        while true {
            switch Syscall.receiveBatch(descriptor, batch.vector, count: batch.capacity, batch.info) {
            case .success(let count):
                received = count
            case .failure(let error):
                // EINTR: retry (nothing was received). EAGAIN: nothing queued, an empty batch.
                if error == .interrupted { continue }
                if error == .wouldBlock { return 0 }
                throw .systemCall("recvmmsg", error)
            }
            break
        }
        let returned = MonotonicClock.now()
        batch.receivedAt = returned
        var anyKernelStamp = false
        for i in 0..<received where batch.info[i].has_timestamp != 0 { anyKernelStamp = true }
        if anyKernelStamp {
            offset.refresh()
            batch.timestampUncertainty = offset.uncertainty
        }
        for i in 0..<received {
            let info = batch.info[i]
            var arrival = returned
            var source = TimestampSource.userSpace
            if info.has_timestamp != 0 {
                source = .kernel
                arrival = offset.monotonic(fromRealtimeNanoseconds: info.realtime_ns)
                if arrival > returned {
                    arrival = returned
                    clampedTimestamps &+= 1  // wraps: a counter of 2⁶⁴ events
                }
            }
            let sender = SocketAddress(address: IPv4Address(value: UInt32(bigEndian: info.source_address)),
                                       port: UInt16(bigEndian: info.source_port))
            batch.records[i] = ReceiveBatch.Record(length: Int(info.length), source: sender, arrival: arrival,
                                                   timestampSource: source, truncated: info.truncated != 0)
        }
        batch.setReceived(received)
        return received
    }
}

/// `setsockopt` as a thrower of `PlatformError` naming the option.
func setOption<Value: BitwiseCopyable>(_ fd: Int32, _ level: Int32, _ option: Int32, _ name: String, _ value: Value) throws(PlatformError) {
    do { try Syscall.setSocketOption(fd, level, option, value) } catch { throw .systemCall("setsockopt(\(name))", error) }
}

/// `bind` as a thrower of `PlatformError` naming the address.
func bindSocket(_ fd: Int32, _ address: SocketAddress) throws(PlatformError) {
    do { try Syscall.bind(fd, address.socketAddress) } catch { throw .systemCall("bind(\(address))", error) }
}
