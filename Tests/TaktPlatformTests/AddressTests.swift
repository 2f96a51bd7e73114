// Address and interface parsing: good text parses, bad text gets a PlatformError with a reason.

import Testing
import TaktTestSupport
@testable import TaktPlatform

@Suite("Addresses and interfaces", .hostShared)
struct AddressTests {
    @Test func dottedQuadsAndPortsParse() throws {
        #expect(try IPv4Address(parsing: "239.1.2.3") == IPv4Address(239, 1, 2, 3))
        #expect(try IPv4Address(parsing: "0.0.0.0") == .any)
        #expect(try IPv4Address(parsing: "255.255.255.255").value == .max)
        #expect(try IPv4Address(parsing: "127.0.0.1") == .loopback)
        let address = try SocketAddress(parsing: "239.255.10.20:5000")
        #expect(address == SocketAddress(address: IPv4Address(239, 255, 10, 20), port: 5000))
        #expect(address.description == "239.255.10.20:5000")
        #expect(try SocketAddress(parsing: "10.0.0.1:65535").port == 65_535)
        #expect(try SocketAddress(parsing: "10.0.0.1:0").port == 0)
        #expect(IPv4Address(239, 0, 0, 1).isMulticast && IPv4Address(224, 0, 0, 0).isMulticast)
        #expect(!IPv4Address(240, 0, 0, 1).isMulticast && !IPv4Address.loopback.isMulticast)
    }

    @Test func theKernelStructureRoundTrips() throws {
        let address = try SocketAddress(parsing: "192.0.2.7:4242")
        #expect(SocketAddress(address.socketAddress) == address)
        #expect(address.socketAddress.sin_port == UInt16(4242).bigEndian)
    }

    static let badAddresses: [(String, String)] = [
        ("", "missing"),
        ("239.1.2.3", "port is missing"),
        ("239.1.2.3:", "port is missing"),
        (":5000", "address is missing"),
        ("239.1.2:5000", "has 3 parts"),
        ("239.1.2.3.4:5000", "four decimal numbers"),
        ("256.1.2.3:5000", "larger than 255"),
        ("1.2.3.99999999999999999999:5", "larger than 255"),
        ("01.2.3.4:5000", "leading zero"),
        ("localhost:5000", "host names are not looked up"),
        ("1.2.3.4:70000", "larger than 65535"),
        ("1.2.3.4:99999999999999999999999", "larger than 65535"),
        ("1.2.3.4:-1", "not a decimal number"),
        ("1.2.3.4:50a", "not a decimal number"),
        ("1.2.3.4: 5", "not a decimal number"),
        ("[::1]:5000", "IPv6"),
        ("fe80::1:5000", "IPv6"),
        ("1..2.3:5", "four decimal numbers"),
        ("1.2.3.:5", "four decimal numbers"),
        ("+1.2.3.4:5", "four decimal numbers"),
        ("1.2.3.4\u{0}:5", "four decimal numbers"),
        ("é.1.2.3:5", "four decimal numbers"),
    ]

    @Test(arguments: badAddresses)
    func badAddressesGetAClearError(text: String, reasonContains fragment: String) {
        #expect {
            _ = try SocketAddress(parsing: text)
        } throws: { error in
            guard case .invalidAddress(let echoed, let reason) = error as? PlatformError else { return false }
            return echoed == text && reason.contains(fragment)
        }
    }

    @Test func interfacesParseAsAddressesOrNames() throws {
        #expect(try NetworkInterface(parsing: "lo") == .name("lo"))
        #expect(try NetworkInterface(parsing: "127.0.0.1") == .address(.loopback))
        #expect(try NetworkInterface(parsing: "0.0.0.0") == .any)
        for bad in ["", "a/b", "eth 0", "averyveryverylongname", "..", "x:y"] {
            #expect(throws: PlatformError.self) { try NetworkInterface(parsing: bad) }
        }
    }

    @Test func interfacesResolveOrGiveAClearError() throws {
        #expect(try NetworkInterface.name("lo").resolve().index > 0)
        #expect(try NetworkInterface.address(.loopback).resolve().index > 0)
        #expect(try NetworkInterface.any.resolve().index == 0)
        #expect {
            _ = try NetworkInterface.name("nosuchif0").resolve()
        } throws: { error in
            if case .unknownInterface("nosuchif0", _) = error as? PlatformError { return true }
            return false
        }
        #expect {
            _ = try NetworkInterface.address(IPv4Address(192, 0, 2, 254)).resolve()
        } throws: { error in
            if case .unknownInterface("192.0.2.254", _) = error as? PlatformError { return true }
            return false
        }
    }

    @Test func errnoPrintsItsNameAndText() {
        #expect(Errno.notPermitted.name == "EPERM")
        #expect(Errno.notPermitted.description == "EPERM (Operation not permitted)")
        #expect(Errno(rawValue: 99_999).description == "errno 99999")
        #expect(PlatformError.systemCall("bind(1.2.3.4:5)", .permissionDenied).description.contains("EACCES"))
    }
}
