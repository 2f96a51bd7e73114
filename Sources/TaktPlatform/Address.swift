// IPv4 addresses, `ADDR:PORT` socket addresses and network interfaces: parsing with clear errors,
// conversion to the kernel's structures.
//
// Parsing is strict on purpose. An address is four decimal numbers 0–255 separated by dots, with
// no leading zeros (inet_aton would read "010" as octal 8 and "1.2" as 1.0.0.2; such text is
// rejected, not guessed at). Host names are not resolved: a time-triggered node does not depend
// on DNS at run time. IPv6 is not supported yet and is rejected with that reason. Every rejection
// is a `PlatformError` naming the text and what was expected; no input traps.

import Glibc

/// An IPv4 address.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    /// The address as a 32-bit number in host byte order: 127.0.0.1 is 0x7F00_0001.
    public var value: UInt32

    /// The address whose 32-bit number (host byte order) is `value`.
    public init(value: UInt32) { self.value = value }

    /// The address a.b.c.d.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// 0.0.0.0 (INADDR_ANY: "any interface" when binding or choosing an interface).
    public static let any = IPv4Address(value: 0)
    /// 127.0.0.1.
    public static let loopback = IPv4Address(127, 0, 0, 1)

    /// Parses dotted-quad text ("239.1.2.3"). Throws `.invalidAddress` with the reason otherwise.
    public init(parsing text: String) throws(PlatformError) {
        var utf8 = text.utf8[...]
        self = try IPv4Address.parse(&utf8, whole: text)
    }

    /// True for 224.0.0.0/4, the multicast range.
    public var isMulticast: Bool { value >> 28 == 0xE }

    /// "a.b.c.d".
    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    /// The kernel's in_addr (network byte order).
    var inAddress: in_addr { in_addr(s_addr: value.bigEndian) }

    static func parse(_ utf8: inout Substring.UTF8View, whole: String) throws(PlatformError) -> IPv4Address {
        if utf8.isEmpty { throw .invalidAddress(whole, reason: "the address is empty") }
        if utf8.contains(UInt8(ascii: ":")) || utf8.first == UInt8(ascii: "[") {
            throw .invalidAddress(whole, reason: "IPv6 is not supported; give an IPv4 address such as 239.1.2.3")
        }
        var value: UInt32 = 0
        var parts = 0
        var index = utf8.startIndex
        while true {
            var digits = 0
            var octet: UInt32 = 0
            let start = index
            while index < utf8.endIndex, utf8[index] >= UInt8(ascii: "0"), utf8[index] <= UInt8(ascii: "9") {
                // At most 4 digits are accumulated before the range check below, so no overflow.
                if digits < 4 { octet = octet * 10 + UInt32(utf8[index] - UInt8(ascii: "0")) }
                digits += 1
                index = utf8.index(after: index)
            }
            if digits == 0 {
                throw .invalidAddress(whole, reason: "expected four decimal numbers 0–255 separated by dots, like 239.1.2.3 (host names are not looked up)")
            }
            let octetText = String(Substring(utf8[start..<index]))
            if digits > 1 && utf8[start] == UInt8(ascii: "0") {
                throw .invalidAddress(whole, reason: "'\(octetText)' has a leading zero (some tools read that as octal); write it without")
            }
            if digits > 3 || octet > 255 {
                throw .invalidAddress(whole, reason: "'\(octetText)' is larger than 255")
            }
            value = value << 8 | octet
            parts += 1
            if index == utf8.endIndex { break }
            if utf8[index] != UInt8(ascii: ".") || parts == 4 {
                throw .invalidAddress(whole, reason: "expected four decimal numbers 0–255 separated by dots, like 239.1.2.3 (host names are not looked up)")
            }
            index = utf8.index(after: index)
        }
        if parts != 4 {
            throw .invalidAddress(whole, reason: "has \(parts) part\(parts == 1 ? "" : "s"), expected four numbers separated by dots, like 239.1.2.3")
        }
        return IPv4Address(value: value)
    }
}

/// An IPv4 address and a UDP port: where a datagram goes or came from.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The host.
    public var address: IPv4Address
    /// The UDP port (0 means "any free port" when binding; it is never a valid destination).
    public var port: UInt16

    /// The address `address:port`.
    public init(address: IPv4Address, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Parses `ADDR:PORT` ("239.1.2.3:5000"; PORT decimal 0–65535). Throws `.invalidAddress` with
    /// the reason otherwise.
    public init(parsing text: String) throws(PlatformError) {
        let utf8 = text.utf8
        if utf8.first == UInt8(ascii: "[") || utf8.filter({ $0 == UInt8(ascii: ":") }).count > 1 {
            throw .invalidAddress(text, reason: "IPv6 is not supported; give ADDR:PORT with an IPv4 address, like 239.1.2.3:5000")
        }
        guard let colon = utf8.lastIndex(of: UInt8(ascii: ":")) else {
            throw .invalidAddress(text, reason: "expected ADDR:PORT, like 239.1.2.3:5000 (the port is missing)")
        }
        var host = utf8[utf8.startIndex..<colon]
        let portText = utf8[utf8.index(after: colon)...]
        if host.isEmpty { throw .invalidAddress(text, reason: "expected ADDR:PORT, like 239.1.2.3:5000 (the address is missing)") }
        if portText.isEmpty { throw .invalidAddress(text, reason: "expected ADDR:PORT, like 239.1.2.3:5000 (the port is missing)") }
        var port: UInt32 = 0
        for byte in portText {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
                throw .invalidAddress(text, reason: "the port '\(String(Substring(portText)))' is not a decimal number 0–65535")
            }
            port = port * 10 + UInt32(byte - UInt8(ascii: "0"))
            if port > 65_535 { throw .invalidAddress(text, reason: "the port '\(String(Substring(portText)))' is larger than 65535") }
        }
        self.address = try IPv4Address.parse(&host, whole: text)
        self.port = UInt16(port)
    }

    /// "a.b.c.d:port".
    public var description: String { "\(address):\(port)" }

    /// The kernel's sockaddr_in (network byte order).
    var socketAddress: sockaddr_in {
        var result = sockaddr_in()
        result.sin_family = sa_family_t(AF_INET)
        result.sin_port = port.bigEndian
        result.sin_addr = address.inAddress
        return result
    }

    /// From the kernel's sockaddr_in.
    init(_ kernel: sockaddr_in) {
        self.init(address: IPv4Address(value: UInt32(bigEndian: kernel.sin_addr.s_addr)), port: UInt16(bigEndian: kernel.sin_port))
    }
}

/// Which network interface a socket uses for multicast: any (the routing table decides), one named
/// ("lo", "eth0") or the one holding an IPv4 address.
public enum NetworkInterface: Hashable, Sendable, CustomStringConvertible {
    /// Let the kernel choose (by the route for the group; needs a route for 224.0.0.0/4 or a
    /// default route).
    case any
    /// The interface of this name.
    case name(String)
    /// The interface holding this IPv4 address.
    case address(IPv4Address)

    /// Parses an interface argument: an IPv4 address ("0.0.0.0" is `.any`), otherwise a name.
    /// Throws `.unknownInterface` for text that cannot be an interface name (empty, longer than
    /// 15 bytes, containing '/', ':' or white space). Whether the interface exists is checked when
    /// a socket is opened with it.
    public init(parsing text: String) throws(PlatformError) {
        if let address = try? IPv4Address(parsing: text) {
            self = address == .any ? .any : .address(address)
            return
        }
        try NetworkInterface.validateName(text)
        self = .name(text)
    }

    public var description: String {
        switch self {
        case .any: return "any"
        case .name(let name): return name
        case .address(let address): return "\(address)"
        }
    }

    /// Linux's rule for device names (dev_valid_name): 1–15 bytes, not "." or "..", no '/', ':'
    /// or white space.
    static func validateName(_ name: String) throws(PlatformError) {
        let bytes = name.utf8
        if bytes.isEmpty { throw .unknownInterface(name, reason: "the interface name is empty") }
        if bytes.count >= Int(IF_NAMESIZE) {
            throw .unknownInterface(name, reason: "interface names are at most \(IF_NAMESIZE - 1) bytes")
        }
        if name == "." || name == ".." || bytes.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 0x20 }) {
            throw .unknownInterface(name, reason: "not a valid interface name (no '/', ':' or white space)")
        }
    }

    /// The interface's index (0 for `.any`) and the address to name it by in ip_mreqn (0.0.0.0 for
    /// `.any` and `.name`). Throws `.unknownInterface` when no such interface exists.
    func resolve() throws(PlatformError) -> (index: Int32, address: IPv4Address) {
        switch self {
        case .any:
            return (0, .any)
        case .name(let name):
            try NetworkInterface.validateName(name)
            let index = if_nametoindex(name)
            if index == 0 { throw .unknownInterface(name, reason: "no interface of this name on this host (see `ip link`)") }
            return (Int32(index), .any)
        case .address(let address):
            guard let name = NetworkInterface.interfaceName(holding: address) else {
                throw .unknownInterface("\(address)", reason: "no interface on this host has this IPv4 address (see `ip -4 addr`)")
            }
            return (Int32(if_nametoindex(name)), address)
        }
    }

    /// The name of the interface with IPv4 address `address`, from getifaddrs; nil if none.
    static func interfaceName(holding address: IPv4Address) -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(first) }
        var entry: UnsafeMutablePointer<ifaddrs>? = first
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard let raw = current.pointee.ifa_addr, raw.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            let kernel = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in.self)
            if UInt32(bigEndian: kernel.sin_addr.s_addr) == address.value, let name = current.pointee.ifa_name {
                return String(cString: name)
            }
        }
        return nil
    }
}
