// A run's timeline as Chrome/Perfetto trace-event JSON (open it in ui.perfetto.dev or
// chrome://tracing): one track per node with its slots, rejected or missing frames, membership
// changes, clock corrections (a counter) and freezes; global instants for faults and violations.
// Timestamps are the simulation's true time in microseconds. Bounded: after `maximumEvents` the
// trace ends with a note, so a long run cannot exhaust memory.

public final class SimulationTrace {
    public let maximumEvents: Int
    public private(set) var events: [String] = []
    public private(set) var truncated = false

    public init(maximumEvents: Int = 200_000) {
        self.maximumEvents = maximumEvents
    }

    static func microseconds(_ ns: Int64) -> String {
        let sign = ns < 0 ? "-" : ""
        let magnitude = ns.magnitude
        let fraction = String(magnitude % 1_000)
        return "\(sign)\(magnitude / 1_000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// Names are schedule names ([A-Za-z0-9_]) or fixed text; quotes and backslashes are escaped anyway.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: if c.value >= 0x20 { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }

    private func add(_ event: String) {
        guard !truncated else { return }
        if events.count >= maximumEvents {
            truncated = true
            events.append("{\"name\":\"trace truncated after \(maximumEvents) events\",\"ph\":\"i\",\"s\":\"g\",\"ts\":0,\"pid\":0,\"tid\":0}")
            return
        }
        events.append(event)
    }

    func nodeName(_ node: Int, _ name: String) {
        add("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":0,\"tid\":\(node),\"args\":{\"name\":\(SimulationTrace.quoted("node " + name))}}")
    }

    func slot(_ name: String, node: Int, start: Int64, duration: Int64, round: UInt64, sent: Bool) {
        add("{\"name\":\(SimulationTrace.quoted(sent ? name : name + " (silent)")),\"cat\":\"slot\",\"ph\":\"X\",\"ts\":\(SimulationTrace.microseconds(start)),\"dur\":\(SimulationTrace.microseconds(duration)),\"pid\":0,\"tid\":\(node),\"args\":{\"round\":\(round)}}")
    }

    func instant(_ name: String, node: Int?, at time: Int64, detail: String = "") {
        let scope = node == nil ? "g" : "t"
        let args = detail.isEmpty ? "" : ",\"args\":{\"detail\":\(SimulationTrace.quoted(detail))}"
        add("{\"name\":\(SimulationTrace.quoted(name)),\"ph\":\"i\",\"s\":\"\(scope)\",\"ts\":\(SimulationTrace.microseconds(time)),\"pid\":0,\"tid\":\(node ?? 0)\(args)}")
    }

    func counter(_ name: String, node: Int, at time: Int64, value: Int64) {
        add("{\"name\":\(SimulationTrace.quoted(name)),\"ph\":\"C\",\"ts\":\(SimulationTrace.microseconds(time)),\"pid\":0,\"tid\":\(node),\"args\":{\"ns\":\(value)}}")
    }

    /// The complete trace-event JSON document.
    public func json() -> String {
        "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n" + events.joined(separator: ",\n") + "\n]}\n"
    }
}
