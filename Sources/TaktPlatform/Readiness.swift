// Readiness: block until a descriptor is readable or an absolute CLOCK_MONOTONIC deadline passes.
//
// ppoll takes a relative timeout, so the remaining time is recomputed from the absolute deadline
// before every call: after EINTR (retried) the wait does not drift past the deadline, and a
// timeout that ended early would be waited out again. Allocation-free.

import TaktTime

public enum Readiness {
    /// Waits until `fileDescriptor` is readable (true) or `deadline` passes (false). Returns at once
    /// when it is already readable; when the deadline has passed it still checks once without
    /// waiting. An error condition pending on the descriptor counts as readable (the next receive
    /// reports it). Throws `.systemCall("ppoll", …)` for a bad descriptor.
    public static func waitForReadable(_ fileDescriptor: Int32, until deadline: LocalInstant) throws(PlatformError) -> Bool {
        while true {
            let remaining = deadline - MonotonicClock.now()
            switch Syscall.pollReadable(fileDescriptor, timeoutNanoseconds: Swift.max(remaining.nanoseconds, 0)) {
            case .success(true):
                return true
            case .success(false):
                // Linux ends a relative timeout no earlier than our absolute deadline (its clock read
                // comes after ours), but the contract is absolute, so check rather than assume.
                if MonotonicClock.now() >= deadline { return false }
            case .failure(let error):
                // EINTR: retry with the remaining time recomputed from the absolute deadline.
                if error != .interrupted { throw .systemCall("ppoll", error) }
            }
        }
    }
}
