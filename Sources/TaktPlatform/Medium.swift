// Medium: the seam between an executive and the network (STYLE.md rule 2), and its two real
// implementations: UDP multicast (one send reaches every node that joined the group) and unicast
// fan-out (one send goes to each peer in a list: for networks without multicast).
//
// Both are non-blocking: `send` never waits for buffer space (a full send queue is a refusal,
// reported in `SendOutcome`), `receive` returns what is already queued (possibly nothing). An
// executive waits for its instants with a `TimeSource` and drains the medium at the end of a
// receive window; `Readiness.waitForReadable` on `fileDescriptor` is there for loops that want to
// block until a frame arrives. Fakes (tests, simulations) conform too, filling batches with
// `ReceiveBatch.append`.

import Glibc
import TaktTime

/// A broadcast medium for frames. Conformers document whether they are thread-safe (the real
/// ones are not: one thread owns a medium).
public protocol Medium {
    /// A descriptor that polls readable when `receive` would return a datagram; -1 for media
    /// without one (fakes).
    var fileDescriptor: Int32 { get }

    /// Sends one frame to every destination of the medium. Never blocks, never throws: refusals
    /// are counted in the outcome (a transmission failure is an operating error, not a crash).
    mutating func send(_ frame: UnsafeRawBufferPointer) -> SendOutcome

    /// Replaces the contents of `batch` with the datagrams already queued, up to its capacity, each
    /// with its source and CLOCK_MONOTONIC arrival; returns how many (0 when none). Never blocks.
    /// Throws only for an error of the socket itself. Catch it with `do throws(PlatformError)`: a
    /// plain `do`/`catch` converts the error to `any Error`, which allocates a box.
    mutating func receive(into batch: ReceiveBatch) throws(PlatformError) -> Int
}

/// Settings of a `MulticastMedium`. Every field is explicit (STYLE.md rule 11).
public struct MulticastConfiguration: Hashable, Sendable {
    /// The group and port: the address must lie in 224.0.0.0/4 and the port must not be 0.
    /// Administratively scoped groups (239.0.0.0/8) are meant for this.
    public var group: SocketAddress
    /// The interface to join on and send from.
    public var interface: NetworkInterface
    /// IP_MULTICAST_TTL: 0 keeps datagrams on this host, 1 on the local link.
    public var timeToLive: UInt8
    /// IP_MULTICAST_LOOP: whether datagrams sent are also delivered to sockets of this host that
    /// joined the group, this one included (needed for several nodes on one host). On `lo` itself
    /// turning it off changes nothing: the output device is the loopback device, so the datagram
    /// comes back in as an ordinary received packet to every member on the host.
    public var loopback: Bool
    /// Whether to ask for kernel receive timestamps (SO_TIMESTAMPNS).
    public var kernelTimestamps: Bool

    public init(group: SocketAddress, interface: NetworkInterface, timeToLive: UInt8, loopback: Bool, kernelTimestamps: Bool) {
        self.group = group
        self.interface = interface
        self.timeToLive = timeToLive
        self.loopback = loopback
        self.kernelTimestamps = kernelTimestamps
    }
}

/// UDP multicast: every frame sent goes to the group; every frame sent to the group (by any
/// process, this one included when `loopback` is on) is received.
///
/// The socket sets SO_REUSEADDR and SO_REUSEPORT (so several node processes on one host join the
/// same group and port; each receives its own copy), binds to the group address and port (so it
/// receives only this group's datagrams on the port), turns off IP_MULTICAST_ALL, joins the group on
/// the interface (IP_ADD_MEMBERSHIP with ip_mreqn), and sets the sending interface, TTL and loop.
public final class MulticastMedium: Medium {
    private let socket: DatagramSocket
    /// The configuration it was opened with.
    public let configuration: MulticastConfiguration

    /// Opens and joins. Throws `.invalidConfiguration` for a non-multicast group or port 0,
    /// `.unknownInterface` for an interface that does not exist, and `.systemCall` naming the call
    /// or option the kernel refused (for example ENODEV joining on an interface without multicast).
    public init(_ configuration: MulticastConfiguration) throws(PlatformError) {
        guard configuration.group.address.isMulticast else {
            throw .invalidConfiguration("the group \(configuration.group.address) is not a multicast address (224.0.0.0/4; use 239.x.x.x)")
        }
        guard configuration.group.port != 0 else {
            throw .invalidConfiguration("the group port must not be 0")
        }
        let interface = try configuration.interface.resolve()
        self.configuration = configuration
        socket = try DatagramSocket(destinations: [configuration.group], kernelTimestamps: configuration.kernelTimestamps) { fd throws(PlatformError) in
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", Int32(1))
            try setOption(fd, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", Int32(1))
            try bindSocket(fd, configuration.group)
            try setOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_ALL, "IP_MULTICAST_ALL", Int32(0))
            let membership = ip_mreqn(imr_multiaddr: configuration.group.address.inAddress,
                                      imr_address: interface.address.inAddress, imr_ifindex: interface.index)
            try setOption(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, "IP_ADD_MEMBERSHIP \(configuration.group.address) on \(configuration.interface)", membership)
            if configuration.interface != .any {
                let outgoing = ip_mreqn(imr_multiaddr: in_addr(s_addr: 0), imr_address: interface.address.inAddress, imr_ifindex: interface.index)
                try setOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, "IP_MULTICAST_IF \(configuration.interface)", outgoing)
            }
            try setOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, "IP_MULTICAST_TTL", Int32(configuration.timeToLive))
            try setOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP", Int32(configuration.loopback ? 1 : 0))
        }
    }

    /// Closes the socket (leaving the group). Later sends fail with EBADF, receives throw.
    public func close() { socket.close() }

    public var fileDescriptor: Int32 { socket.descriptor }
    /// The address the socket is bound to (the group and port).
    public var localAddress: SocketAddress { socket.localAddress }
    /// Whether received datagrams carry kernel timestamps.
    public var kernelTimestamps: Bool { socket.kernelTimestamps }
    /// Why there are no kernel timestamps (nil when there are).
    public var kernelTimestampsRefusal: PlatformError? { socket.kernelTimestampsRefusal }
    /// The realtime → monotonic conversion in use (its `uncertainty` bounds the conversion error).
    public var realtimeOffset: RealtimeOffset { socket.offset }
    /// Kernel timestamps clamped to the receive instant (see DatagramSocket).
    public var clampedTimestamps: UInt64 { socket.clampedTimestamps }

    public func send(_ frame: UnsafeRawBufferPointer) -> SendOutcome { socket.send(frame) }
    public func receive(into batch: ReceiveBatch) throws(PlatformError) -> Int { try socket.receive(into: batch) }
}

/// Settings of a `UnicastFanOutMedium`. Every field is explicit (STYLE.md rule 11).
public struct UnicastConfiguration: Hashable, Sendable {
    /// The address and port to receive on (port 0: any free port, see `localAddress`).
    public var local: SocketAddress
    /// Where every frame goes: 0 to 1024 distinct unicast addresses with non-zero ports. List this
    /// node itself to receive its own frames, as multicast with loopback does.
    public var peers: [SocketAddress]
    /// Whether to ask for kernel receive timestamps (SO_TIMESTAMPNS).
    public var kernelTimestamps: Bool

    public init(local: SocketAddress, peers: [SocketAddress], kernelTimestamps: Bool) {
        self.local = local
        self.peers = peers
        self.kernelTimestamps = kernelTimestamps
    }
}

/// Unicast fan-out: every frame is sent to each peer (one sendmmsg for all of them), and frames are
/// received on the node's own port. The same `Medium` as multicast, for networks without it.
public final class UnicastFanOutMedium: Medium {
    /// The most peers one medium sends to (UIO_MAXIOV, sendmmsg's limit).
    public static let maximumPeers = 1024

    private let socket: DatagramSocket
    /// The configuration it was opened with.
    public let configuration: UnicastConfiguration

    /// Opens and binds. Throws `.invalidConfiguration` for a peer that is 0.0.0.0, multicast, has
    /// port 0 or is listed twice, or for more than `maximumPeers`; `.systemCall` when the kernel
    /// refuses (for example EADDRINUSE binding a port another socket holds: the unicast socket does
    /// not set SO_REUSEADDR, so two nodes cannot share a port by mistake).
    public init(_ configuration: UnicastConfiguration) throws(PlatformError) {
        guard configuration.peers.count <= UnicastFanOutMedium.maximumPeers else {
            throw .invalidConfiguration("at most \(UnicastFanOutMedium.maximumPeers) peers, got \(configuration.peers.count)")
        }
        guard !configuration.local.address.isMulticast else {
            throw .invalidConfiguration("the local address \(configuration.local.address) is multicast; use MulticastMedium")
        }
        for (i, peer) in configuration.peers.enumerated() {
            if peer.address == .any { throw .invalidConfiguration("peer \(peer): 0.0.0.0 is not a destination") }
            if peer.address.isMulticast { throw .invalidConfiguration("peer \(peer) is a multicast address; use MulticastMedium") }
            if peer.port == 0 { throw .invalidConfiguration("peer \(peer): port 0 is not a destination") }
            if configuration.peers[..<i].contains(peer) { throw .invalidConfiguration("peer \(peer) is listed twice") }
        }
        self.configuration = configuration
        // No SO_REUSEADDR: for UDP it would let a second socket bind the same port and silently
        // take its datagrams. Two nodes configured on one port is an error the bind reports.
        socket = try DatagramSocket(destinations: configuration.peers, kernelTimestamps: configuration.kernelTimestamps) { fd throws(PlatformError) in
            try bindSocket(fd, configuration.local)
        }
    }

    /// Closes the socket. Later sends fail with EBADF, receives throw.
    public func close() { socket.close() }

    public var fileDescriptor: Int32 { socket.descriptor }
    /// The address and port the socket is bound to (the actual port when 0 was asked for).
    public var localAddress: SocketAddress { socket.localAddress }
    /// Whether received datagrams carry kernel timestamps.
    public var kernelTimestamps: Bool { socket.kernelTimestamps }
    /// Why there are no kernel timestamps (nil when there are).
    public var kernelTimestampsRefusal: PlatformError? { socket.kernelTimestampsRefusal }
    /// The realtime → monotonic conversion in use (its `uncertainty` bounds the conversion error).
    public var realtimeOffset: RealtimeOffset { socket.offset }
    /// Kernel timestamps clamped to the receive instant (see DatagramSocket).
    public var clampedTimestamps: UInt64 { socket.clampedTimestamps }

    public func send(_ frame: UnsafeRawBufferPointer) -> SendOutcome { socket.send(frame) }
    public func receive(into batch: ReceiveBatch) throws(PlatformError) -> Int { try socket.receive(into: batch) }
}
