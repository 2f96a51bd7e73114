// The UDP media on this host: unicast fan-out always (it needs only 127.0.0.1), multicast on `lo`
// when the host can deliver it (probed first; without it the multicast tests say so and stop,
// they do not fail). Batched receive, arrival timestamps against the send instant and the return
// of the receive call, fallbacks, forced errors and configuration errors.

import Testing
import TaktTestSupport
@testable import TaktPlatform
import TaktTime

/// Collects datagrams from `medium` into `batch` until `expected` arrived or `timeout` passed;
/// returns (sizes of each non-empty batch, all payload first bytes, all datagrams' arrival ≤ return).
func receiveAll<M: Medium>(_ medium: inout M, into batch: ReceiveBatch, expected: Int,
                           timeout: Interval = .seconds(2)) throws -> [[UInt8]] {
    let deadline = MonotonicClock.now() + timeout
    var payloads: [[UInt8]] = []
    while payloads.count < expected {
        guard try Readiness.waitForReadable(medium.fileDescriptor, until: deadline) else { break }
        let count = try medium.receive(into: batch)
        for i in 0..<count { payloads.append(Array(batch[i].bytes)) }
    }
    return payloads
}

func loopbackUnicast(peers: [SocketAddress], kernelTimestamps: Bool = true) throws -> UnicastFanOutMedium {
    try UnicastFanOutMedium(UnicastConfiguration(local: SocketAddress(address: .loopback, port: 0), peers: peers,
                                                 kernelTimestamps: kernelTimestamps))
}

func send<M: Medium>(_ medium: inout M, _ bytes: [UInt8]) -> SendOutcome {
    bytes.withUnsafeBytes { medium.send($0) }
}

@Suite("Unicast fan-out medium", .hostShared)
struct UnicastMediumTests {
    @Test func aFrameReachesEveryPeer() throws {
        var a = try loopbackUnicast(peers: [])
        var b = try loopbackUnicast(peers: [])
        var sender = try loopbackUnicast(peers: [a.localAddress, b.localAddress])
        #expect(a.localAddress.port != 0 && a.localAddress.address == .loopback)
        let outcome = send(&sender, [1, 2, 3])
        #expect(outcome == SendOutcome(sent: 2, failed: 0, firstError: nil))
        let batch = try ReceiveBatch(capacity: 4, maximumDatagramBytes: 64)
        #expect(try receiveAll(&a, into: batch, expected: 1) == [[1, 2, 3]])
        #expect(batch[0].source == sender.localAddress)
        #expect(try receiveAll(&b, into: batch, expected: 1) == [[1, 2, 3]])
    }

    @Test func severalDatagramsArriveInOneBatchUpToItsCapacity() throws {
        let receiver = try loopbackUnicast(peers: [])
        var sender = try loopbackUnicast(peers: [receiver.localAddress])
        for i in 0..<5 { #expect(send(&sender, [UInt8(i), 0xAA]).sent == 1) }
        let batch = try ReceiveBatch(capacity: 3, maximumDatagramBytes: 16)
        // Loopback delivers during sendmmsg; wait until the socket is readable, then take batches.
        #expect(try Readiness.waitForReadable(receiver.fileDescriptor, until: MonotonicClock.now() + .seconds(2)))
        MonotonicClock.sleep(until: MonotonicClock.now() + .milliseconds(20))
        #expect(try receiver.receive(into: batch) == 3)
        #expect((0..<3).map { batch[$0].bytes.first } == [0, 1, 2])
        #expect(try receiver.receive(into: batch) == 2)
        #expect((0..<2).map { batch[$0].bytes.first } == [3, 4])
        #expect(try receiver.receive(into: batch) == 0)
        #expect(batch.count == 0)
    }

    @Test(arguments: [true, false])
    func arrivalTimesLieBetweenTheSendAndTheReturnOfTheReceive(kernelTimestamps: Bool) throws {
        let receiver = try loopbackUnicast(peers: [], kernelTimestamps: kernelTimestamps)
        var sender = try loopbackUnicast(peers: [receiver.localAddress])
        #expect(receiver.kernelTimestamps == kernelTimestamps || !kernelTimestamps)
        let batch = try ReceiveBatch(capacity: 8, maximumDatagramBytes: 64)
        for round in 0..<20 {
            let sent = MonotonicClock.now()
            #expect(send(&sender, [UInt8(round)]).sent == 1)
            #expect(try Readiness.waitForReadable(receiver.fileDescriptor, until: sent + .seconds(2)))
            let count = try receiver.receive(into: batch)
            let returned = MonotonicClock.now()
            #expect(count == 1)
            let datagram = batch[0]
            let expectedSource: TimestampSource = receiver.kernelTimestamps ? .kernel : .userSpace
            #expect(datagram.timestampSource == expectedSource)
            #expect(datagram.arrival >= sent - batch.timestampUncertainty, "round \(round)")
            #expect(datagram.arrival <= returned, "round \(round)")
            #expect(batch.receivedAt <= returned && batch.receivedAt >= sent)
        }
        if !kernelTimestamps {
            #expect(receiver.kernelTimestampsRefusal != nil)
        }
    }

    @Test func aRefusedTimestampOptionFallsBackToUserSpaceTimestamps() throws {
        defer { SyscallFaults.clearAll() }
        SyscallFaults.inject(.notPermitted, into: .setSocketOption, count: 1)  // the only option: SO_TIMESTAMPNS
        var receiver = try loopbackUnicast(peers: [])
        SyscallFaults.clearAll()
        #expect(!receiver.kernelTimestamps)
        #expect(receiver.kernelTimestampsRefusal == .systemCall("setsockopt(SO_TIMESTAMPNS)", .notPermitted))
        var sender = try loopbackUnicast(peers: [receiver.localAddress])
        let sent = MonotonicClock.now()
        _ = send(&sender, [9])
        let batch = try ReceiveBatch(capacity: 2, maximumDatagramBytes: 8)
        #expect(try receiveAll(&receiver, into: batch, expected: 1) == [[9]])
        #expect(batch[0].timestampSource == .userSpace)
        #expect(batch[0].arrival >= sent && batch[0].arrival == batch.receivedAt)
    }

    @Test func aDatagramLongerThanTheBufferIsFlaggedTruncated() throws {
        var receiver = try loopbackUnicast(peers: [])
        var sender = try loopbackUnicast(peers: [receiver.localAddress])
        _ = send(&sender, Array(0..<20))
        let batch = try ReceiveBatch(capacity: 2, maximumDatagramBytes: 8)
        #expect(try receiveAll(&receiver, into: batch, expected: 1) == [Array(0..<8)])
        #expect(batch[0].truncated)
    }

    @Test func receiveRetriesEINTRAndTreatsEAGAINAsEmpty() throws {
        defer { SyscallFaults.clearAll() }
        let receiver = try loopbackUnicast(peers: [])
        var sender = try loopbackUnicast(peers: [receiver.localAddress])
        _ = send(&sender, [7])
        #expect(try Readiness.waitForReadable(receiver.fileDescriptor, until: MonotonicClock.now() + .seconds(2)))
        let batch = try ReceiveBatch(capacity: 2, maximumDatagramBytes: 8)
        SyscallFaults.inject(.wouldBlock, into: .receive, count: 1)
        #expect(try receiver.receive(into: batch) == 0)
        SyscallFaults.inject(.interrupted, into: .receive, count: 2)
        #expect(try receiver.receive(into: batch) == 1)
        SyscallFaults.inject(.noBufferSpace, into: .receive, count: 1)
        #expect(throws: PlatformError.systemCall("recvmmsg", .noBufferSpace)) { try receiver.receive(into: batch) }
    }

    @Test func aRefusedDestinationIsCountedAndTheOthersStillGetTheFrame() throws {
        defer { SyscallFaults.clearAll() }
        var a = try loopbackUnicast(peers: [])
        var b = try loopbackUnicast(peers: [])
        var sender = try loopbackUnicast(peers: [a.localAddress, b.localAddress])
        SyscallFaults.inject(.noBufferSpace, into: .send, count: 1)
        #expect(send(&sender, [5]) == SendOutcome(sent: 1, failed: 1, firstError: .noBufferSpace))
        SyscallFaults.inject(.interrupted, into: .send, count: 1)
        #expect(send(&sender, [6]) == SendOutcome(sent: 2, failed: 0, firstError: nil))
        let batch = try ReceiveBatch(capacity: 4, maximumDatagramBytes: 8)
        #expect(try receiveAll(&a, into: batch, expected: 1) == [[6]])
        #expect(try receiveAll(&b, into: batch, expected: 2) == [[5], [6]])
    }

    @Test func aClosedMediumReportsInsteadOfCrashing() throws {
        let receiver = try loopbackUnicast(peers: [])
        let sender = try loopbackUnicast(peers: [receiver.localAddress])
        sender.close()
        receiver.close()
        #expect([UInt8(1)].withUnsafeBytes { sender.send($0) } == SendOutcome(sent: 0, failed: 1, firstError: .badFileDescriptor))
        let batch = try ReceiveBatch(capacity: 1, maximumDatagramBytes: 8)
        #expect(throws: PlatformError.self) { try receiver.receive(into: batch) }
    }

    @Test func badConfigurationsGetClearErrors() throws {
        let peer = SocketAddress(address: .loopback, port: 9)
        let bad: [UnicastConfiguration] = [
            UnicastConfiguration(local: SocketAddress(address: .loopback, port: 0), peers: [SocketAddress(address: .any, port: 9)], kernelTimestamps: true),
            UnicastConfiguration(local: SocketAddress(address: .loopback, port: 0), peers: [SocketAddress(address: .loopback, port: 0)], kernelTimestamps: true),
            UnicastConfiguration(local: SocketAddress(address: .loopback, port: 0), peers: [SocketAddress(address: IPv4Address(239, 1, 1, 1), port: 9)], kernelTimestamps: true),
            UnicastConfiguration(local: SocketAddress(address: .loopback, port: 0), peers: [peer, peer], kernelTimestamps: true),
            UnicastConfiguration(local: SocketAddress(address: IPv4Address(239, 1, 1, 1), port: 0), peers: [], kernelTimestamps: true),
            UnicastConfiguration(local: SocketAddress(address: .loopback, port: 0),
                                 peers: (0..<1025).map { SocketAddress(address: .loopback, port: UInt16(1000 + $0)) }, kernelTimestamps: true),
        ]
        for configuration in bad {
            #expect {
                _ = try UnicastFanOutMedium(configuration)
            } throws: { error in
                if case .invalidConfiguration = error as? PlatformError { return true }
                return false
            }
        }
    }

    @Test func aPortAlreadyInUseIsABindError() throws {
        let first = try loopbackUnicast(peers: [])
        #expect {
            _ = try UnicastFanOutMedium(UnicastConfiguration(local: first.localAddress, peers: [], kernelTimestamps: true))
        } throws: { error in
            guard case .systemCall(let call, let errno) = error as? PlatformError else { return false }
            return call.hasPrefix("bind(") && errno == Errno(rawValue: 98)  // EADDRINUSE
        }
        SyscallFaults.inject(.permissionDenied, into: .socket, count: 1)
        defer { SyscallFaults.clearAll() }
        #expect(throws: PlatformError.systemCall("socket(AF_INET, SOCK_DGRAM)", .permissionDenied)) { _ = try loopbackUnicast(peers: []) }
    }
}

@Suite("Readiness and fake media", .hostShared)
struct ReadinessTests {
    @Test func waitingForAQuietSocketTimesOutNoEarlierThanTheDeadline() throws {
        let quiet = try loopbackUnicast(peers: [])
        let deadline = MonotonicClock.now() + .milliseconds(20)
        #expect(try !Readiness.waitForReadable(quiet.fileDescriptor, until: deadline))
        #expect(MonotonicClock.now() >= deadline)
        // A deadline in the past still checks once, without waiting.
        #expect(try !Readiness.waitForReadable(quiet.fileDescriptor, until: deadline - .seconds(1)))
    }

    @Test func pollRetriesEINTRAndReportsABadDescriptor() throws {
        defer { SyscallFaults.clearAll() }
        let quiet = try loopbackUnicast(peers: [])
        SyscallFaults.inject(.interrupted, into: .poll, count: 3)
        let deadline = MonotonicClock.now() + .milliseconds(5)
        #expect(try !Readiness.waitForReadable(quiet.fileDescriptor, until: deadline))
        #expect(MonotonicClock.now() >= deadline)
        let closed = try loopbackUnicast(peers: [])
        let number = closed.fileDescriptor
        closed.close()
        #expect(throws: PlatformError.systemCall("ppoll", .badFileDescriptor)) {
            _ = try Readiness.waitForReadable(number, until: MonotonicClock.now() + .milliseconds(5))
        }
    }

    /// A fake medium: what an executive test would use.
    struct LoopMedium: Medium {
        var queued: [[UInt8]] = []
        var clock = LocalInstant(nanoseconds: 1_000)
        var fileDescriptor: Int32 { -1 }
        mutating func send(_ frame: UnsafeRawBufferPointer) -> SendOutcome {
            queued.append(Array(frame))
            return SendOutcome(sent: 1, failed: 0, firstError: nil)
        }
        mutating func receive(into batch: ReceiveBatch) throws(PlatformError) -> Int {
            batch.removeAll()
            while !queued.isEmpty, queued[0].withUnsafeBytes({ batch.append($0, source: SocketAddress(address: .loopback, port: 1),
                                                                                arrival: clock, timestampSource: .kernel) }) {
                queued.removeFirst()
            }
            return batch.count
        }
    }

    @Test func fakeMediaFillBatchesThroughAppend() throws {
        var fake = LoopMedium()
        for i in 0..<3 { _ = send(&fake, [UInt8(i), 1, 2, 3, 4, 5]) }
        let batch = try ReceiveBatch(capacity: 2, maximumDatagramBytes: 4)
        #expect(try fake.receive(into: batch) == 2)
        #expect(Array(batch[1].bytes) == [1, 1, 2, 3] && batch[1].truncated && batch[1].arrival == LocalInstant(nanoseconds: 1_000))
        #expect(try fake.receive(into: batch) == 1)
        #expect(try fake.receive(into: batch) == 0)
    }

    @Test func batchSizesOutOfRangeAreRejected() {
        for (capacity, bytes) in [(0, 10), (1025, 10), (1, 0), (1, 65_508)] {
            #expect(throws: PlatformError.self) { _ = try ReceiveBatch(capacity: capacity, maximumDatagramBytes: bytes) }
        }
    }
}

@Suite("Multicast medium", .hostShared)
struct MulticastMediumTests {
    /// A random administratively scoped group and port, so concurrent runs do not hear each other.
    static func randomGroup() -> SocketAddress {
        SocketAddress(address: IPv4Address(239, 255, UInt8.random(in: 1...254), UInt8.random(in: 1...254)),
                      port: UInt16.random(in: 20_000...60_000))
    }

    static func open(_ group: SocketAddress, interface: NetworkInterface = .name("lo"), loopback: Bool = true) throws -> MulticastMedium {
        try MulticastMedium(MulticastConfiguration(group: group, interface: interface, timeToLive: 0, loopback: loopback, kernelTimestamps: true))
    }

    /// Two members of a fresh group on `lo` that can hear each other, or nil (with the reason
    /// printed) when this host cannot deliver multicast on loopback.
    static func pair(interface: NetworkInterface = .name("lo"), quiet: Bool = false) -> (MulticastMedium, MulticastMedium)? {
        let group = randomGroup()
        func print(_ text: String) { if !quiet { Swift.print(text) } }
        do {
            var a = try open(group, interface: interface), b = try open(group, interface: interface)
            let outcome = send(&a, [0xFF])
            guard outcome.failed == 0 else {
                print("multicast unavailable on \(interface): send failed with \(outcome.firstError.map { "\($0)" } ?? "?"); only the unicast medium is tested (see Docs/platform.md)")
                return nil
            }
            let batch = try ReceiveBatch(capacity: 4, maximumDatagramBytes: 16)
            guard try receiveAll(&b, into: batch, expected: 1, timeout: .milliseconds(500)).count == 1 else {
                print("multicast unavailable on \(interface): nothing arrived; only the unicast medium is tested (see Docs/platform.md)")
                return nil
            }
            _ = try receiveAll(&a, into: batch, expected: 1, timeout: .milliseconds(100))  // a's own copy
            return (a, b)
        } catch {
            print("multicast unavailable on \(interface): \(error); only the unicast medium is tested (see Docs/platform.md)")
            return nil
        }
    }

    @Test func membersOfAGroupHearEachOtherAndThemselves() throws {
        guard var (a, b) = Self.pair() else { return }
        #expect(a.localAddress == a.configuration.group)
        let sent = MonotonicClock.now()
        #expect(send(&b, [1, 2, 3]) == SendOutcome(sent: 1, failed: 0, firstError: nil))
        let batch = try ReceiveBatch(capacity: 4, maximumDatagramBytes: 64)
        #expect(try receiveAll(&a, into: batch, expected: 1) == [[1, 2, 3]])
        let returned = MonotonicClock.now()
        #expect(batch[0].source.port == b.configuration.group.port)
        #expect(batch[0].arrival >= sent - batch.timestampUncertainty && batch[0].arrival <= returned)
        #expect(batch[0].timestampSource == (a.kernelTimestamps ? .kernel : .userSpace))
        #expect(try receiveAll(&b, into: batch, expected: 1) == [[1, 2, 3]])  // loopback: its own copy
    }

    @Test func severalDatagramsArriveInOneBatch() throws {
        guard let (first, b) = Self.pair() else { return }
        var a = first
        for i in 0..<6 { _ = send(&a, [UInt8(i)]) }
        #expect(try Readiness.waitForReadable(b.fileDescriptor, until: MonotonicClock.now() + .seconds(2)))
        MonotonicClock.sleep(until: MonotonicClock.now() + .milliseconds(20))
        let batch = try ReceiveBatch(capacity: 16, maximumDatagramBytes: 16)
        #expect(try b.receive(into: batch) == 6)
        #expect((0..<6).map { batch[$0].bytes.first } == [0, 1, 2, 3, 4, 5])
    }

    @Test func theInterfaceCanBeNamedByItsAddress() throws {
        guard var (a, b) = Self.pair(interface: .address(.loopback)) else { return }
        _ = send(&a, [42])
        let batch = try ReceiveBatch(capacity: 4, maximumDatagramBytes: 16)
        #expect(try receiveAll(&b, into: batch, expected: 1) == [[42]])
    }

    @Test func theProbeReportsAHostWithoutMulticastInsteadOfFailing() {
        defer { SyscallFaults.clearAll() }
        // As on a host where the socket cannot be set up for multicast: a socket option fails.
        SyscallFaults.inject(.noSuchDevice, into: .setSocketOption, count: 1)
        #expect(Self.pair(quiet: true) == nil)
    }

    @Test func badConfigurationsGetClearErrors() {
        let group = Self.randomGroup()
        #expect {
            _ = try Self.open(SocketAddress(address: IPv4Address(10, 0, 0, 1), port: 5000))
        } throws: { error in
            guard case .invalidConfiguration(let message) = error as? PlatformError else { return false }
            return message.contains("not a multicast address")
        }
        #expect(throws: PlatformError.self) { _ = try Self.open(SocketAddress(address: group.address, port: 0)) }
        #expect {
            _ = try Self.open(group, interface: .name("nosuchif0"))
        } throws: { error in
            if case .unknownInterface = error as? PlatformError { return true }
            return false
        }
        defer { SyscallFaults.clearAll() }
        SyscallFaults.inject(.notPermitted, into: .bind, count: 1)
        #expect(throws: PlatformError.systemCall("bind(\(group))", .notPermitted)) { _ = try Self.open(group) }
    }
}
