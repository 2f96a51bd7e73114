// Schedule identity: a stable 64-bit name for a validated schedule, carried in every frame and
// folded into the C-state, so nodes running different schedules never accept each other's frames.
//
// Algorithm: FNV-1a 64 (Fowler, Noll, Vo; offset basis 0xCBF29CE484222325, prime 0x100000001B3)
// over a canonical text of the schedule's meaning: the cluster parameters, the nodes, the
// messages, the chains and, per mode, its slots, tasks and transitions, all in declaration order,
// every duration in integer nanoseconds, every string length-prefixed (so no two schedules share
// a text). Source positions, comments and layout are not part of it: reformatting a file keeps
// its identity; changing any value (a slot offset, a message size, a node name) changes it.
//
// Deterministic across runs, processes and machines: it never uses Swift's `Hasher`, which is
// seeded per process. Not cryptographic: it detects configuration mistakes, not forgeries. The
// canonical text starts with a version tag; a change of the text format changes the tag.

import TaktSchedule
import TaktTime

/// The identity of a schedule (FNV-1a 64 of its canonical text).
public enum ScheduleIdentity {
    /// The version tag that opens the canonical text.
    public static let canonicalTextVersion = "takt-schedule-identity 1"

    /// The identity of `schedule`. Start-up only (builds a string).
    public static func compute(schedule: Schedule) -> UInt64 {
        fnv1a64(canonicalText(schedule: schedule).utf8)
    }

    /// FNV-1a 64 of `bytes`.
    public static func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3  // FNV arithmetic is modulo 2^64 by definition
        }
        return hash
    }

    /// The canonical text the identity hashes: one line per entity, `key=value` fields separated by
    /// spaces, strings as `LENGTH:TEXT` (UTF-8 bytes), durations as integer ns, lists as
    /// comma-separated indices, absent optionals as `-`.
    public static func canonicalText(schedule: Schedule) -> String {
        var text = canonicalTextVersion + "\n"
        func string(_ s: String) -> String { "\(s.utf8.count):\(s)" }
        func optional(_ s: String?) -> String { s.map(string) ?? "-" }
        func ns(_ i: Interval) -> String { String(i.nanoseconds) }
        func optionalNs(_ i: Interval?) -> String { i.map(ns) ?? "-" }
        func list(_ xs: [Int]) -> String { xs.map(String.init).joined(separator: ",") }

        let c = schedule.cluster
        text += "cluster name=\(string(c.name)) round=\(ns(c.round)) cycle=\(c.cycleRounds) macrotick=\(ns(c.macrotick))"
            + " bitrate=\(c.bitrate.bitsPerSecond) propagation=\(ns(c.propagation)) drift_ppb=\(c.drift.partsPerBillion)"
            + " reading_error=\(ns(c.readingError)) fault_tolerance=\(c.faultTolerance)"
            + " precision=\(optionalNs(c.declaredPrecision)) convergence=\(c.convergence.rawValue)\n"
        for n in schedule.nodes {
            text += "node name=\(string(n.name)) sync=\(n.sync ? 1 : 0) group=\(optional(n.group)) frame=\(optionalNs(n.frame))\n"
        }
        for m in schedule.messages {
            text += "message name=\(string(m.name)) sender=\(m.sender) size=\(m.size.bytes) period=\(m.periodRounds)"
                + " phase=\(m.phaseRounds) to=\(list(m.destinations)) copies=\(m.copies) slot=\(optional(m.slotName))\n"
        }
        for ch in schedule.chains {
            text += "chain name=\(string(ch.name)) path=\(ch.path.map(string).joined(separator: ","))"
                + " deadline=\(optionalNs(ch.deadline)) max_age=\(optionalNs(ch.maxAge))\n"
        }
        text += "modes declared=\(schedule.modesDeclared ? 1 : 0) initial=\(schedule.initialMode)\n"
        for mode in schedule.modes {
            text += "mode name=\(string(mode.name)) initial=\(mode.initial ? 1 : 0) transitions=\(list(mode.transitions))\n"
            for s in mode.slots {
                text += "slot name=\(string(s.name)) sender=\(s.sender) offset=\(ns(s.offset)) length=\(ns(s.length))"
                    + " cstate=\(s.carriesCState ? 1 : 0)\n"
            }
            for t in mode.tasks {
                text += "task name=\(string(t.name)) node=\(t.node) period=\(ns(t.period)) offset=\(ns(t.offset))"
                    + " wcet=\(ns(t.wcet)) deadline=\(ns(t.deadline)) reads=\(list(t.reads)) writes=\(list(t.writes))"
                    + " after=\(list(t.after))\n"
            }
        }
        return text
    }
}
