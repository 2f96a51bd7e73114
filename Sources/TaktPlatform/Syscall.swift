// The syscall funnel: every system call TaktPlatform makes that can fail goes through `Syscall`,
// which first asks the per-thread fault injector whether this call should fail instead
// (STYLE.md rule 6; swift-system's mocking). Tests force EINTR, EPERM or ENOBUFS this way, so the
// retry and reporting paths are exercised on any machine, privileged or not.
//
// EINTR policy: the funnel never retries. Each caller states its policy where it calls, in a
// comment next to the loop (sleeps and receives retry; nothing else in this module can block).
//
// Injection is thread-local (a C `_Thread_local` table), so tests running in parallel on other
// threads are unaffected, and costs one thread-local read per call when unused.

import CTaktPlatform
import Glibc

/// The operations whose failure tests can force. Raw values match the TAKT_OP_* constants.
package enum FaultableOperation: Int32, CaseIterable, Sendable {
    case socket = 0, setSocketOption, bind, send, receive, poll, clockNanosleep
    case setScheduler, lockMemory, setAffinity, timerSlack, open, write
    case read, fsync, syncDirectory, rename, unlink, makeDirectory, access
}

/// Test hook: forces the next calls of an operation on the CALLING THREAD to fail.
package enum SyscallFaults {
    /// The next `count` calls of `operation` on this thread fail with `errno` without reaching the
    /// kernel. PRECONDITION: `count >= 0`.
    package static func inject(_ errno: Errno, into operation: FaultableOperation, count: Int) {
        precondition(count >= 0, "a fault count is non-negative")
        takt_fault_inject(operation.rawValue, errno.rawValue, Int32(clamping: count))
    }

    /// Clears every injected fault on this thread.
    package static func clearAll() {
        for operation in FaultableOperation.allCases { takt_fault_inject(operation.rawValue, 0, 0) }
    }
}

/// The funnel. Every member returns the call's result or the errno it failed with.
enum Syscall {
    /// The errno injected for this call of `operation` on this thread, if any (one use consumed).
    @inline(__always)
    static func injected(_ operation: FaultableOperation) -> Errno? {
        let error = takt_fault_take(operation.rawValue)
        return error == 0 ? nil : Errno(rawValue: error)
    }
}

extension Syscall {
    // MARK: Clocks

    /// clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline): nil when the deadline passed,
    /// the error otherwise (EINTR when a signal arrived first). PRECONDITION: `nanoseconds >= 0`.
    static func sleepMonotonic(untilNanoseconds nanoseconds: Int64) -> Errno? {
        precondition(nanoseconds >= 0, "CLOCK_MONOTONIC deadlines are non-negative")
        if let error = injected(.clockNanosleep) { return error }
        var deadline = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        // clock_nanosleep returns the error number itself; it does not set errno.
        let result = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil)
        return result == 0 ? nil : Errno(rawValue: result)
    }

    // MARK: Sockets

    /// A non-blocking, close-on-exec UDP/IPv4 socket.
    static func udpSocket() throws(Errno) -> Int32 {
        if let error = injected(.socket) { throw error }
        let fd = takt_udp_socket()
        if fd < 0 { throw Errno(rawValue: -fd) }
        return fd
    }

    /// setsockopt(fd, level, option, &value, sizeof value).
    static func setSocketOption<Value: BitwiseCopyable>(_ fd: Int32, _ level: Int32, _ option: Int32, _ value: Value) throws(Errno) {
        if let error = injected(.setSocketOption) { throw error }
        var value = value
        let result = setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Value>.size))
        if result != 0 { throw Errno(rawValue: errno) }
    }

    /// bind(fd, address).
    static func bind(_ fd: Int32, _ address: sockaddr_in) throws(Errno) {
        if let error = injected(.bind) { throw error }
        var address = address
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 { throw Errno(rawValue: errno) }
    }

    /// getsockname(fd) for an IPv4 socket. Not faultable: it cannot fail on a socket we opened.
    static func localAddress(_ fd: Int32) throws(Errno) -> sockaddr_in {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        if result != 0 { throw Errno(rawValue: errno) }
        return address
    }

    /// close(fd). Errors are ignored: on Linux the descriptor is released even when close fails,
    /// and retrying on EINTR could close a descriptor another thread just opened.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// One sendmmsg over entries [start, count): how many were sent, or the error of entry `start`.
    static func sendVector(_ fd: Int32, _ vector: UnsafeMutableRawPointer, start: Int, count: Int,
                           frame: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        if let error = injected(.send) { return .failure(error) }
        let result = takt_send_vector(fd, vector, UInt32(start), UInt32(count), frame.baseAddress, frame.count)
        return result < 0 ? .failure(Errno(rawValue: -result)) : .success(Int(result))
    }

    /// One non-blocking recvmmsg into entries [0, count): how many arrived, or the error
    /// (EAGAIN when none was queued).
    static func receiveBatch(_ fd: Int32, _ vector: UnsafeMutableRawPointer, count: Int,
                             _ info: UnsafeMutablePointer<takt_datagram_info>) -> Result<Int, Errno> {
        if let error = injected(.receive) { return .failure(error) }
        let result = takt_receive_batch(fd, vector, UInt32(count), info)
        return result < 0 ? .failure(Errno(rawValue: -result)) : .success(Int(result))
    }

    /// ppoll for POLLIN with a relative timeout: true readable, false timed out, or the error.
    static func pollReadable(_ fd: Int32, timeoutNanoseconds: Int64) -> Result<Bool, Errno> {
        if let error = injected(.poll) { return .failure(error) }
        let result = takt_poll_readable(fd, timeoutNanoseconds)
        return result < 0 ? .failure(Errno(rawValue: -result)) : .success(result > 0)
    }

    // MARK: Scheduling and memory

    /// sched_setscheduler(0, policy, {priority}) for the calling thread.
    static func setScheduler(policy: Int32, priority: Int32) throws(Errno) {
        if let error = injected(.setScheduler) { throw error }
        var parameters = sched_param(sched_priority: priority)
        if sched_setscheduler(0, policy, &parameters) != 0 { throw Errno(rawValue: errno) }
    }

    /// mlockall(MCL_CURRENT | MCL_FUTURE).
    static func lockAllMemory() throws(Errno) {
        if let error = injected(.lockMemory) { throw error }
        if mlockall(MCL_CURRENT | MCL_FUTURE) != 0 { throw Errno(rawValue: errno) }
    }

    /// sched_setaffinity(0, …) to exactly `cpus`, for the calling thread.
    static func setAffinity(_ cpus: [Int32]) throws(Errno) {
        if let error = injected(.setAffinity) { throw error }
        let result = cpus.withUnsafeBufferPointer { takt_set_affinity($0.baseAddress, Int32($0.count)) }
        if result != 0 { throw Errno(rawValue: result) }
    }

    /// prctl(PR_SET_TIMERSLACK, nanoseconds) for the calling thread.
    static func setTimerSlack(nanoseconds: UInt64) throws(Errno) {
        if let error = injected(.timerSlack) { throw error }
        let result = takt_set_timer_slack(nanoseconds)
        if result != 0 { throw Errno(rawValue: result) }
    }

    // MARK: Files

    /// open(path, flags) with O_CLOEXEC added.
    static func open(_ path: String, flags: Int32) throws(Errno) -> Int32 {
        if let error = injected(.open) { throw error }
        let fd = Glibc.open(path, flags | O_CLOEXEC)
        if fd < 0 { throw Errno(rawValue: errno) }
        return fd
    }

    /// write(fd, bytes): how many bytes were written. EINTR is the caller's to retry.
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int {
        if let error = injected(.write) { throw error }
        let written = Glibc.write(fd, bytes.baseAddress, bytes.count)
        if written < 0 { throw Errno(rawValue: errno) }
        return written
    }
}
