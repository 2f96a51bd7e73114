// Errno and PlatformError: how TaktPlatform reports what the operating system refused and what
// input it could not use.
//
// STYLE.md rule 6: errors are typed values, not bare Int32s. Every failing system call becomes
// `PlatformError.systemCall(name, errno)`; every unusable text or configuration value becomes one
// of the other cases, with a message that says what was expected. Nothing in this module traps on
// bad input; traps are reserved for programmer errors (documented as PRECONDITION).
//
// Functions that throw use typed throws (`throws(PlatformError)`): an error is an enum value, so
// throwing one does not allocate an existential box (the receive path stays allocation-free even
// when it fails).

import CTaktPlatform
import Glibc

/// A POSIX error number (`errno`), with its symbolic name and description for reports.
public struct Errno: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The error number, as in <errno.h>.
    public var rawValue: Int32

    /// The error with number `rawValue`. Never traps (unknown numbers print as "errno N").
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// EPERM: the caller lacks the privilege (for example SCHED_FIFO without CAP_SYS_NICE).
    public static let notPermitted = Errno(rawValue: EPERM)
    /// EINTR: a signal interrupted the call before it completed.
    public static let interrupted = Errno(rawValue: EINTR)
    /// EAGAIN (= EWOULDBLOCK on Linux): nothing to do without blocking.
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    /// EBADF: not an open file descriptor.
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    /// EINVAL: an argument was out of range for the kernel.
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// ENOMEM: the kernel could not allocate (or lock) memory.
    public static let outOfMemory = Errno(rawValue: ENOMEM)
    /// ENOBUFS: the socket's send queue is full.
    public static let noBufferSpace = Errno(rawValue: ENOBUFS)
    /// ENETUNREACH: no route (for multicast: no route for 224.0.0.0/4 and no interface chosen).
    public static let networkUnreachable = Errno(rawValue: ENETUNREACH)
    /// ENODEV: no such device (for example a multicast interface that does not exist).
    public static let noSuchDevice = Errno(rawValue: ENODEV)
    /// EACCES: permission denied (for example opening /dev/cpu_dma_latency as a normal user).
    public static let permissionDenied = Errno(rawValue: EACCES)

    /// The symbolic name: "EPERM"; "errno N" when glibc does not know the number.
    public var name: String {
        guard let text = takt_errno_name(rawValue) else { return "errno \(rawValue)" }
        return String(cString: text)
    }

    /// "EPERM (Operation not permitted)".
    public var description: String {
        guard let text = takt_errno_description(rawValue) else { return name }
        return name + " (" + String(cString: text) + ")"
    }
}

/// Why a TaktPlatform operation failed.
public enum PlatformError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A system call (named as in its man page, or the socket option it set) failed with `errno`.
    case systemCall(String, Errno)
    /// Text that should be `ADDR:PORT` (or an IPv4 address) is not; `reason` says what is wrong.
    case invalidAddress(String, reason: String)
    /// No network interface with this name or address exists on this host.
    case unknownInterface(String, reason: String)
    /// A configuration value is out of range; the message names the value and the accepted range.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .systemCall(let call, let errno): return "\(call) failed: \(errno)"
        case .invalidAddress(let text, let reason): return "invalid address '\(text)': \(reason)"
        case .unknownInterface(let text, let reason): return "unknown interface '\(text)': \(reason)"
        case .invalidConfiguration(let message): return "invalid configuration: \(message)"
        }
    }
}
