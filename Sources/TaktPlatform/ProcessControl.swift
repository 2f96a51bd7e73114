// Process-level controls a node needs when another process supervises it.

import CTaktPlatform
import Glibc

public enum ProcessControl {
    /// Asks the kernel to send SIGTERM to this process when its parent exits (PR_SET_PDEATHSIG), so
    /// nodes started by `takt cluster` never outlive it. Returns the refusal, if any.
    @discardableResult
    public static func terminateWithParent() -> Errno? {
        let result = takt_set_parent_death_signal(SIGTERM)
        return result == 0 ? nil : Errno(rawValue: -result)
    }
}
