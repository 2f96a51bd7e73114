// `takt plot FILE -o OUT.svg [--mode NAME]`: one cluster cycle of a schedule as an SVG timeline.
//
// One lane per node: its slots in every round of the cycle (upper band, light fill), its task
// executions [release, release + WCET) (lower band, dark fill), and arrows for message flows from
// the send instant in the sender's slot to the delivery instant at each destination (send + Δ,
// where Δ ends Π after the last copy's slot). The renderer is pure string building, so the same
// schedule gives the same bytes; its size is bounded for any schedule the elaborator accepts
// (rectangles merge per pixel column when there are too many to draw one by one, and at most
// `maximumFlows` arrows are drawn).

import Foundation
import TaktSchedule
import TaktTime

enum PlotCommand {
    static let options: [OptionSpec] = [
        OptionSpec(["--output", "-o"], value: "OUT.svg", help: "the SVG file to write"),
        OptionSpec(["--mode"], value: "NAME", help: "plot this mode (default: the initial mode)"),
    ]

    static func run(_ arguments: ParsedArguments, _ console: inout Console) -> Int32 {
        guard arguments.positionals.count == 1 else {
            return TaktCommand.usageError(arguments.positionals.isEmpty ? "no schedule file given" : "plot takes one file",
                                          subcommand: "plot", console: &console)
        }
        guard let output = arguments.value("--output"), !output.isEmpty else {
            return TaktCommand.usageError("no output file given (-o OUT.svg)", subcommand: "plot", console: &console)
        }
        let path = arguments.positionals[0]
        let (result, failure) = loadValidSchedule(path, console: &console)
        if let failure { return failure }
        let schedule = result.schedule!, derived = result.derived!
        var mode = schedule.initialMode
        if let name = arguments.value("--mode") {
            guard let m = schedule.modes.firstIndex(where: { $0.name == name }) else {
                console.err.write("error: \(path) has no mode '\(name)' (modes: \(schedule.modes.map(\.name).joined(separator: ", ")))\n")
                return ExitStatus.usage
            }
            mode = m
        }
        let svg = SVGTimeline.render(schedule: schedule, derived: derived, mode: mode)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue {
            console.err.write("error: cannot write \(output): it is a directory\n")
            return ExitStatus.usage
        }
        do {
            try svg.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            console.err.write("error: cannot write \(output): \(error.localizedDescription)\n")
            return ExitStatus.usage
        }
        let c = schedule.cluster
        console.out.write("wrote \(output): cluster \(c.name), mode \(schedule.modes[mode].name), 1 cycle of \(c.cycle)\n")
        return ExitStatus.success
    }
}

enum SVGTimeline {
    /// At most this many message-flow arrows are drawn; the rest are counted in a note.
    static let maximumFlows = 400
    /// Slot (and, separately, task) rectangles drawn one by one up to this count; beyond it they
    /// are merged per lane into runs of occupied pixel columns.
    static let maximumRectangles = 4_000

    /// `text` with the five XML special characters replaced by entities.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // Characters XML 1.0 cannot carry at all (C0 controls other than tab, LF, CR).
                if ch.value < 0x20 && ch != "\t" && ch != "\n" && ch != "\r" { out += "\u{FFFD}" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }

    /// A coordinate with at most one decimal, deterministic and locale-free ("12", "12.5", "-3.1").
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let tenths = Int64((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let m = tenths.magnitude
        return m % 10 == 0 ? "\(sign)\(m / 10)" : "\(sign)\(m / 10).\(m % 10)"
    }

    /// Light fill (slots) and dark fill (tasks, outlines) per node, cycling.
    static let palette: [(light: String, dark: String)] = [
        ("#a6cee3", "#1f5f8b"), ("#fdbf6f", "#b35806"), ("#b2df8a", "#2b7a2b"), ("#fb9a99", "#a51c1c"),
        ("#cab2d6", "#5e3c99"), ("#dfc27d", "#7a5a12"), ("#f4b6d8", "#a3326f"), ("#c7c7c7", "#4d4d4d"),
        ("#9fe0e8", "#13737f"), ("#e0e08a", "#6b6b10"),
    ]

    /// Approximate advance width of `text` in a sans-serif font of `size` px.
    static func textWidth(_ text: String, size: Double) -> Double { Double(text.count) * size * 0.6 }

    struct Box {
        var x0, y0, x1, y1: Double
        func intersects(_ o: Box) -> Bool { x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1 }
    }

    /// The output, with the placed text boxes (for label collision avoidance).
    struct Canvas {
        var body = ""
        var labels: [Box] = []
        mutating func add(_ s: String) { body += s; body += "\n" }
        func free(_ b: Box) -> Bool { !labels.contains { $0.intersects(b) } }
    }

    /// A "nice" step (1, 2 or 5 × 10^k ns) that cuts `total` into at most `maximumSteps` pieces.
    static func tickStep(_ total: Int64, maximumSteps: Int64) -> Int64 {
        var power: Int64 = 1
        while true {
            for m: Int64 in [1, 2, 5] {
                let (step, overflow) = m.multipliedReportingOverflow(by: power)
                if overflow { return max(total, 1) }
                if total / step <= maximumSteps { return step }
            }
            let (next, overflow) = power.multipliedReportingOverflow(by: 10)
            if overflow { return max(total, 1) }
            power = next
        }
    }

    static func timeLabel(_ ns: Int64) -> String { ns == 0 ? "0" : Interval(nanoseconds: ns).description }

    static func render(schedule: Schedule, derived: DerivedResults, mode m: Int) -> String {
        let cluster = schedule.cluster
        let mode = schedule.modes[m]
        let analysis = derived.modes[m]
        let nodes = schedule.nodes
        let laneCount = max(nodes.count, 1)
        let cycleNs = max(cluster.cycle.nanoseconds, 1)
        let roundNs = max(cluster.round.nanoseconds, 1)
        let rounds = max(cluster.cycleRounds, 1)
        let repeats = analysis.hyperperiod == cluster.cycle  // every task period divides the cycle

        // Geometry.
        let plotWidth = 1200.0
        let laneHeight = min(56, max(4, (1800.0 / Double(laneCount)).rounded(.down)))
        let laneFont = min(13, (laneHeight * 0.42).rounded(.down))
        let showLaneLabels = laneFont >= 6
        func laneLabel(_ node: Node) -> String {
            var text = node.name
            if let group = node.group { text += " (\(group))" }
            if text.count > 32 { text = String(text.prefix(31)) + "…" }
            return text
        }
        let longestLabel = nodes.map { textWidth(laneLabel($0), size: max(laneFont, 6)) }.max() ?? 40
        let left = (min(260, max(90, longestLabel + 24))).rounded()
        let right = 28.0
        let top = 132.0
        let lanesBottom = top + laneHeight * Double(laneCount)
        let width = left + plotWidth + right
        let plotRight = left + plotWidth
        func x(_ ns: Int64) -> Double { left + Double(ns) / Double(cycleNs) * plotWidth }
        func laneTop(_ lane: Int) -> Double { top + Double(lane) * laneHeight }
        let pad = laneHeight >= 20 ? 4.0 : laneHeight * 0.1
        let slotTop = pad, slotBottom = laneHeight * 0.55
        let taskTop = laneHeight * 0.62, taskBottom = laneHeight - pad * 1.5
        let deliveryLine = (slotBottom + taskTop) / 2
        let slotFont = min(11, (slotBottom - slotTop) * 0.7).rounded(.down)
        let taskFont = min(10, (taskBottom - taskTop) * 0.85).rounded(.down)

        var canvas = Canvas()
        var notes: [String] = []

        // Lanes: alternating background, separator, and the node's name at the left.
        canvas.add("<g class=\"lanes\">")
        for lane in 0..<laneCount {
            let y = laneTop(lane)
            if lane % 2 == 1 {
                canvas.add("<rect x=\"\(number(left))\" y=\"\(number(y))\" width=\"\(number(plotWidth))\" height=\"\(number(laneHeight))\" fill=\"#f3f4f6\"/>")
            }
        }
        if laneHeight >= 10 {
            canvas.add("<path d=\"M\(number(left)) \(number(top))H\(number(plotRight))\(stride(from: 1, through: laneCount, by: 1).map { "M\(number(left)) \(number(laneTop($0)))H\(number(plotRight))" }.joined())\" stroke=\"#d4d7dc\" stroke-width=\"0.6\"/>")
        }
        canvas.add("</g>")

        // Time grid (light) and round boundaries (dark), with tick labels below the lanes.
        let step = tickStep(cycleNs, maximumSteps: 10)
        canvas.add("<g class=\"axis\">")
        var t: Int64 = 0
        var ticks = ""
        while t <= cycleNs {
            let tx = x(t)
            if t % roundNs != 0 {
                canvas.add("<line x1=\"\(number(tx))\" y1=\"\(number(top))\" x2=\"\(number(tx))\" y2=\"\(number(lanesBottom))\" stroke=\"#e2e4e8\" stroke-width=\"0.8\"/>")
            }
            ticks += "<line x1=\"\(number(tx))\" y1=\"\(number(lanesBottom))\" x2=\"\(number(tx))\" y2=\"\(number(lanesBottom + 5))\" stroke=\"#555\"/>"
            ticks += "<text class=\"tick\" x=\"\(number(tx))\" y=\"\(number(lanesBottom + 18))\" text-anchor=\"middle\">\(escape(timeLabel(t)))</text>\n"
            let (next, overflow) = t.addingReportingOverflow(step)
            if overflow { break }
            t = next
        }
        let roundPixels = plotWidth / Double(rounds)
        let roundLabelWidth = textWidth("round \(rounds - 1)", size: 11) + 10
        var labelEvery: Int64 = 1
        for k: Int64 in [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000] {
            labelEvery = k
            if roundPixels * Double(k) >= roundLabelWidth { break }
        }
        for r in 0...rounds {
            let drawLine = roundPixels >= 4 || r % labelEvery == 0 || r == rounds
            let rx = x(r * roundNs)
            if drawLine {
                canvas.add("<line class=\"round\" x1=\"\(number(rx))\" y1=\"\(number(top - 16))\" x2=\"\(number(rx))\" y2=\"\(number(lanesBottom))\" stroke=\"#6b7280\" stroke-width=\"1.2\" stroke-dasharray=\"4 3\"/>")
            }
            if r < rounds && r % labelEvery == 0 {
                let center = roundPixels * Double(labelEvery) >= roundLabelWidth && labelEvery == 1 ? rx + roundPixels / 2 : rx + 4
                let anchor = labelEvery == 1 ? "middle" : "start"
                canvas.add("<text class=\"round-label\" x=\"\(number(center))\" y=\"\(number(top - 5))\" text-anchor=\"\(anchor)\">round \(r)</text>")
            }
        }
        canvas.add(ticks + "<line x1=\"\(number(left))\" y1=\"\(number(lanesBottom))\" x2=\"\(number(plotRight))\" y2=\"\(number(lanesBottom))\" stroke=\"#555\"/>")
        canvas.add("<text class=\"caption\" x=\"\(number(left + plotWidth / 2))\" y=\"\(number(lanesBottom + 36))\" text-anchor=\"middle\">cluster time from the start of the cycle</text>")
        canvas.add("</g>")

        // Slots.
        let slotInstances = Int64(mode.slots.count) * rounds
        canvas.add("<g class=\"slots\">")
        if slotInstances <= Int64(maximumRectangles) {
            var labels = ""
            for r in 0..<rounds {
                for slot in mode.slots {
                    let lane = slot.sender
                    guard lane >= 0 && lane < laneCount else { continue }
                    let start = r * roundNs + slot.offset.nanoseconds
                    let x0 = x(start), x1 = x(start + slot.length.nanoseconds)
                    let y0 = laneTop(lane) + slotTop, y1 = laneTop(lane) + slotBottom
                    let colours = palette[lane % palette.count]
                    canvas.add("<rect class=\"slot\" data-slot=\"\(escape(slot.name))\" data-round=\"\(r)\" x=\"\(number(x0))\" y=\"\(number(y0))\" width=\"\(number(max(x1 - x0, 0.5)))\" height=\"\(number(y1 - y0))\" fill=\"\(colours.light)\" stroke=\"\(colours.dark)\"><title>slot \(escape(slot.name)) of \(escape(nodes[lane].name)), round \(r): \(escape(timeLabel(start))) to \(escape(timeLabel(start + slot.length.nanoseconds)))</title></rect>")
                    let w = textWidth(slot.name, size: slotFont)
                    if slotFont >= 7 && w + 6 <= x1 - x0 {
                        let box = Box(x0: (x0 + x1 - w) / 2, y0: y0, x1: (x0 + x1 + w) / 2, y1: y1)
                        canvas.labels.append(box)
                        labels += "<text class=\"slot-label\" x=\"\(number((x0 + x1) / 2))\" y=\"\(number((y0 + y1) / 2 + slotFont * 0.35))\" text-anchor=\"middle\" font-size=\"\(number(slotFont))\">\(escape(slot.name))</text>\n"
                    }
                }
            }
            canvas.body += labels
        } else {
            var spans: [[(Double, Double)]] = Array(repeating: [], count: laneCount)
            for slot in mode.slots where slot.sender >= 0 && slot.sender < laneCount {
                for r in 0..<rounds {
                    let start = r * roundNs + slot.offset.nanoseconds
                    spans[slot.sender].append((x(start) - left, x(start + slot.length.nanoseconds) - left))
                }
            }
            drawMerged(&canvas, spans: spans, cssClass: "slots-merged", width: plotWidth, left: left) { lane in
                (laneTop(lane) + slotTop, slotBottom - slotTop, palette[lane % palette.count].light)
            }
            notes.append("\(slotInstances) slot instances: slots of a lane that share a pixel column are drawn merged")
        }
        canvas.add("</g>")

        // Tasks: every release in [0, cycle), clipped at the cycle end; the clipped part wraps to
        // the start when the task pattern repeats every cycle.
        var releaseCount: Int64 = 0
        var firstRelease: [Int64?] = []
        for task in mode.tasks {
            let period = task.period.nanoseconds, offset = task.offset.nanoseconds
            guard period > 0 else { firstRelease.append(nil); continue }
            let first = offset >= 0 ? offset : offset + ((-offset + period - 1) / period) * period
            guard first < cycleNs else { firstRelease.append(nil); continue }
            firstRelease.append(first)
            releaseCount += (cycleNs - 1 - first) / period + 1
        }
        canvas.add("<g class=\"tasks\">")
        if releaseCount <= Int64(maximumRectangles) {
            var labels = ""
            // Per lane, the task rectangles (for placing labels beside narrow ones).
            var placed: [(lane: Int, x0: Double, x1: Double, name: String)] = []
            for (i, task) in mode.tasks.enumerated() {
                guard let first = firstRelease[i], task.node >= 0 && task.node < laneCount else { continue }
                let lane = task.node
                let colours = palette[lane % palette.count]
                let y0 = laneTop(lane) + taskTop, y1 = laneTop(lane) + taskBottom
                var release = first
                while release < cycleNs {
                    let end = release + task.wcet.nanoseconds
                    let x0 = x(release), x1 = x(min(end, cycleNs))
                    canvas.add("<rect class=\"task\" data-task=\"\(escape(task.name))\" data-release=\"\(release)\" x=\"\(number(x0))\" y=\"\(number(y0))\" width=\"\(number(max(x1 - x0, 1)))\" height=\"\(number(y1 - y0))\" fill=\"\(colours.dark)\"><title>task \(escape(task.name)) on \(escape(nodes[lane].name)): released \(escape(timeLabel(release))), WCET \(escape(task.wcet.description)), deadline \(escape(timeLabel(release + task.deadline.nanoseconds)))</title></rect>")
                    placed.append((lane, x0, max(x1, x0 + 1), task.name))
                    if end > cycleNs && repeats {
                        let wrapEnd = x(min(end - cycleNs, cycleNs))
                        canvas.add("<rect class=\"task-wrap\" x=\"\(number(left))\" y=\"\(number(y0))\" width=\"\(number(max(wrapEnd - left, 1)))\" height=\"\(number(y1 - y0))\" fill=\"\(colours.dark)\" opacity=\"0.6\"><title>task \(escape(task.name)) on \(escape(nodes[lane].name)), continued from the previous cycle</title></rect>")
                        placed.append((lane, left, max(wrapEnd, left + 1), ""))
                    }
                    let (next, overflow) = release.addingReportingOverflow(task.period.nanoseconds)
                    if overflow { break }
                    release = next
                }
            }
            // Labels: inside when the rectangle is wide enough, else beside it (right, then left)
            // when the lane's task band is free there.
            if taskFont >= 7 {
                let byLane = Dictionary(grouping: placed.indices, by: { placed[$0].lane })
                for index in placed.indices where !placed[index].name.isEmpty {
                    let p = placed[index]
                    let w = textWidth(p.name, size: taskFont)
                    let y0 = laneTop(p.lane) + taskTop, y1 = laneTop(p.lane) + taskBottom
                    let baseline = number((y0 + y1) / 2 + taskFont * 0.35)
                    if w + 6 <= p.x1 - p.x0 {
                        canvas.labels.append(Box(x0: (p.x0 + p.x1 - w) / 2, y0: y0, x1: (p.x0 + p.x1 + w) / 2, y1: y1))
                        labels += "<text class=\"task-label inside\" x=\"\(number((p.x0 + p.x1) / 2))\" y=\"\(baseline)\" text-anchor=\"middle\" font-size=\"\(number(taskFont))\">\(escape(p.name))</text>\n"
                        continue
                    }
                    let others = (byLane[p.lane] ?? []).filter { $0 != index }.map { placed[$0] }
                    let candidates = [Box(x0: p.x1 + 2, y0: y0, x1: p.x1 + 4 + w, y1: y1), Box(x0: p.x0 - 4 - w, y0: y0, x1: p.x0 - 2, y1: y1)]
                    for (k, box) in candidates.enumerated() where box.x0 >= left && box.x1 <= plotRight {
                        guard !others.contains(where: { $0.x0 < box.x1 && box.x0 < $0.x1 }), canvas.free(box) else { continue }
                        canvas.labels.append(box)
                        let anchor = k == 0 ? "start" : "end"
                        let tx = k == 0 ? box.x0 + 1 : box.x1 - 1
                        labels += "<text class=\"task-label\" x=\"\(number(tx))\" y=\"\(baseline)\" text-anchor=\"\(anchor)\" font-size=\"\(number(taskFont))\" fill=\"\(palette[p.lane % palette.count].dark)\">\(escape(p.name))</text>\n"
                        break
                    }
                }
            }
            canvas.body += labels
        } else {
            var spans: [[(Double, Double)]] = Array(repeating: [], count: laneCount)
            let columnNs = Double(cycleNs) / plotWidth
            for (i, task) in mode.tasks.enumerated() {
                guard let first = firstRelease[i], task.node >= 0 && task.node < laneCount else { continue }
                let period = task.period.nanoseconds
                if Double(period) < columnNs && task.wcet.nanoseconds > 0 {
                    // Releases closer than a pixel column: the task occupies the rest of the cycle.
                    spans[task.node].append((x(first) - left, plotWidth))
                    continue
                }
                var release = first
                while release < cycleNs {
                    spans[task.node].append((x(release) - left, x(min(release + task.wcet.nanoseconds, cycleNs)) - left))
                    let (next, overflow) = release.addingReportingOverflow(period)
                    if overflow { break }
                    release = next
                }
            }
            drawMerged(&canvas, spans: spans, cssClass: "tasks-merged", width: plotWidth, left: left) { lane in
                (laneTop(lane) + taskTop, taskBottom - taskTop, palette[lane % palette.count].dark)
            }
            notes.append("\(releaseCount) task executions: executions of a lane that share a pixel column are drawn merged")
        }
        canvas.add("</g>")

        // Message flows.
        struct Flow { var message: Int; var instance: Int64; var send: Int64; var delivery: Int64; var destination: Int; var first: Bool }
        // Every (message, instance) with its destinations, nearest lane first. When there are more
        // flows than `maximumFlows`, each instance keeps its nearest destinations (as many as the
        // budget allows for all instances alike), so every message still shows where it goes.
        struct Stream { var message: Int; var send0: Int64; var period: Int64; var count: Int64; var delta: Int64; var destinations: [Int] }
        var streams: [Stream] = []
        var totalFlows: Int64 = 0, totalInstances: Int64 = 0
        for a in analysis.messages where a.sent {
            let message = schedule.messages[a.message]
            let period = a.periodInterval.nanoseconds, send0 = a.firstSendOffset.nanoseconds
            guard period > 0, send0 >= 0, send0 < cycleNs, message.sender >= 0, message.sender < laneCount else { continue }
            let count = (cycleNs - 1 - send0) / period + 1
            let destinations = message.destinations.filter { $0 >= 0 && $0 < laneCount }
                .sorted { (abs($0 - message.sender), $0) < (abs($1 - message.sender), $1) }
            totalFlows += count * Int64(destinations.count)
            guard !destinations.isEmpty else { continue }
            totalInstances += count
            streams.append(Stream(message: a.message, send0: send0, period: period, count: count, delta: a.deliveryBound.nanoseconds, destinations: destinations))
        }
        // The instances to draw (stream, index): all of them, or, beyond the budget, evenly spread.
        var picked: [(Int, Int64)] = []
        if totalInstances <= Int64(maximumFlows) {
            for (s, stream) in streams.enumerated() { for i in 0..<stream.count { picked.append((s, i)) } }
        } else {
            var s = 0, before: Int64 = 0
            for j in 0..<Int64(maximumFlows) {
                let g = j * totalInstances / Int64(maximumFlows)
                while g >= before + streams[s].count { before += streams[s].count; s += 1 }
                picked.append((s, g - before))
            }
        }
        // Each picked instance gets its nearest destinations, as many as the budget allows for all alike.
        let perInstance = totalFlows <= Int64(maximumFlows) ? Int.max : max(1, maximumFlows / max(picked.count, 1))
        var flows: [Flow] = []
        for (s, i) in picked {
            let stream = streams[s]
            let send = stream.send0 + i * stream.period
            for (k, d) in stream.destinations.prefix(perInstance).enumerated() {
                flows.append(Flow(message: stream.message, instance: i, send: send, delivery: send + stream.delta, destination: d, first: k == 0))
            }
        }
        let dense = flows.count > 60
        canvas.add("<g class=\"flows\" stroke=\"#1f2937\" stroke-width=\"\(dense ? "0.8" : "1.3")\" fill=\"none\" stroke-opacity=\"\(dense ? "0.45" : "0.8")\">")
        var flowLabels = ""
        let flowFont = 10.0
        for f in flows {
            let message = schedule.messages[f.message]
            let sender = message.sender
            let sx = x(f.send)
            let sy = f.destination < sender ? laneTop(sender) + slotTop : laneTop(sender) + slotBottom
            let dy = laneTop(f.destination) + deliveryLine
            let wrapped = f.delivery >= cycleNs
            let dx = x(wrapped ? f.delivery % cycleNs : f.delivery)
            var d: String
            var segment: (Double, Double, Double, Double)
            if wrapped {
                let fraction = Double(cycleNs - f.send) / Double(max(f.delivery - f.send, 1))
                let cy = sy + (dy - sy) * min(1, fraction)
                d = "M\(number(sx)) \(number(sy))L\(number(plotRight)) \(number(cy))M\(number(left)) \(number(cy))L\(number(dx)) \(number(dy))"
                segment = plotRight - sx >= dx - left ? (sx, sy, plotRight, cy) : (left, cy, dx, dy)
            } else {
                d = "M\(number(sx)) \(number(sy))L\(number(dx)) \(number(dy))"
                segment = (sx, sy, dx, dy)
            }
            let title = "message \(message.name) (instance \(f.instance)): sent \(timeLabel(f.send)) by \(nodes[sender].name), delivered \(timeLabel(f.delivery % cycleNs))\(wrapped ? " (next cycle)" : "") to \(nodes[f.destination].name)"
            canvas.add("<path class=\"flow\" data-message=\"\(escape(message.name))\" data-to=\"\(escape(nodes[f.destination].name))\" d=\"\(d)\" marker-end=\"url(#arrow)\"><title>\(escape(title))</title></path>")
            guard f.first, laneHeight >= 14 else { continue }
            let w = textWidth(message.name, size: flowFont)
            for fraction in [0.5, 0.35, 0.65, 0.2, 0.8] {
                let px = segment.0 + (segment.2 - segment.0) * fraction
                let py = segment.1 + (segment.3 - segment.1) * fraction
                let box = Box(x0: px - w / 2 - 2, y0: py - flowFont * 0.75, x1: px + w / 2 + 2, y1: py + flowFont * 0.45)
                guard box.x0 >= left, box.x1 <= plotRight, canvas.free(box) else { continue }
                canvas.labels.append(box)
                flowLabels += "<text class=\"flow-label\" x=\"\(number(px))\" y=\"\(number(py + flowFont * 0.35))\" text-anchor=\"middle\">\(escape(message.name))</text>\n"
                break
            }
        }
        canvas.add("</g>")
        canvas.body += flowLabels
        if totalFlows > Int64(flows.count) {
            notes.append("\(totalFlows - Int64(flows.count)) more flows not drawn (at most \(maximumFlows) are; each message instance shows its nearest destinations)")
        }

        // Lane labels, drawn last so nothing covers them.
        if showLaneLabels {
            for (lane, node) in nodes.enumerated() {
                canvas.add("<text class=\"lane-label\" x=\"\(number(left - 10))\" y=\"\(number(laneTop(lane) + laneHeight / 2 + laneFont * 0.35))\" text-anchor=\"end\" font-size=\"\(number(laneFont))\" fill=\"\(palette[lane % palette.count].dark)\">\(escape(laneLabel(node)))</text>")
            }
        } else {
            notes.append("\(nodes.count) lanes, top to bottom in declaration order: \(nodes.first.map(\.name) ?? "") … \(nodes.last.map(\.name) ?? "") (too narrow to label)")
        }

        // Header: title, parameters, legend.
        let precision = derived.precision ?? derived.precisionBound
        let modeText = schedule.modesDeclared ? "mode \(mode.name)\(m == schedule.initialMode ? " (initial)" : "")" : "mode \(mode.name)"
        let title = "cluster \(cluster.name) — \(modeText)"
        let subtitle = "\(nodes.count) node\(nodes.count == 1 ? "" : "s") · Π = \(precision.map(\.description) ?? "undefined") · round R = \(cluster.round) · cycle = \(cluster.cycleRounds) round\(cluster.cycleRounds == 1 ? "" : "s") = \(cluster.cycle) · \(mode.slots.count) slot\(mode.slots.count == 1 ? "" : "s") · \(mode.tasks.count) task\(mode.tasks.count == 1 ? "" : "s") · \(analysis.messages.filter(\.sent).count) message\(analysis.messages.filter(\.sent).count == 1 ? "" : "s")"
        var header = ""
        header += "<text class=\"title\" x=\"\(number(left))\" y=\"26\">\(escape(title))</text>\n"
        header += "<text class=\"subtitle\" x=\"\(number(left))\" y=\"46\">\(escape(subtitle))</text>\n"
        let ly = 68.0
        var lx = left
        let legendColours = palette[0]
        header += "<g class=\"legend\">\n"
        header += "<rect x=\"\(number(lx))\" y=\"\(number(ly))\" width=\"28\" height=\"14\" fill=\"\(legendColours.light)\" stroke=\"\(legendColours.dark)\"/>"
        header += "<text x=\"\(number(lx + 34))\" y=\"\(number(ly + 11))\">slot (frame sent by the lane's node)</text>\n"
        lx += 34 + textWidth("slot (frame sent by the lane's node)", size: 11) + 22
        header += "<rect x=\"\(number(lx))\" y=\"\(number(ly + 3))\" width=\"28\" height=\"9\" fill=\"\(legendColours.dark)\"/>"
        header += "<text x=\"\(number(lx + 34))\" y=\"\(number(ly + 11))\">task execution [release, release + WCET)</text>\n"
        lx += 34 + textWidth("task execution [release, release + WCET)", size: 11) + 22
        header += "<path d=\"M\(number(lx)) \(number(ly + 7))h30\" stroke=\"#1f2937\" stroke-width=\"1.3\" marker-end=\"url(#arrow)\"/>"
        header += "<text x=\"\(number(lx + 38))\" y=\"\(number(ly + 11))\">message flow: send → delivery = end of last copy + Π</text>\n"
        header += "</g>\n"
        header += "<text class=\"subtitle\" x=\"\(number(left))\" y=\"\(number(ly + 32))\">one colour per node; dashed lines: round boundaries; arrows leave the sender's slot and end at the delivery instant in each destination's lane</text>\n"

        var footer = ""
        var ny = lanesBottom + 60
        for note in notes {
            footer += "<text class=\"note\" x=\"\(number(left))\" y=\"\(number(ny))\">\(escape(note))</text>\n"
            ny += 16
        }
        let height = notes.isEmpty ? lanesBottom + 50 : (ny - 4).rounded(.up)

        var svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(width))\" height=\"\(number(height))\" viewBox=\"0 0 \(number(width)) \(number(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\">\n"
        svg += "<title>\(escape("takt plot: " + title))</title>\n"
        svg += """
        <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">
        <path d="M0 1L10 5L0 9z" fill="#1f2937"/>
        </marker>
        <style>
        .title{font-size:16px;font-weight:bold;fill:#111827}
        .subtitle,.caption,.note{fill:#4b5563}
        .note{font-style:italic}
        .tick{fill:#374151}
        .round-label{fill:#374151;font-weight:bold}
        .slot{stroke-width:0.8}
        .slot-label{fill:#111827}
        .task-label{font-weight:bold;paint-order:stroke;stroke:#ffffff;stroke-width:3px;stroke-linejoin:round}
        .task-label.inside{fill:#ffffff;stroke:none}
        .flow-label{font-size:10px;fill:#111827;font-style:italic;paint-order:stroke;stroke:#ffffff;stroke-width:3px;stroke-linejoin:round}
        .lane-label{font-weight:bold}
        </style>
        </defs>

        """
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        svg += header
        svg += canvas.body
        svg += footer
        svg += "</svg>\n"
        return svg
    }

    /// Draws each lane's spans (x in plot coordinates, 0...width) as runs of occupied pixel
    /// columns, coarsening the columns until all lanes together need at most `maximumRectangles`.
    static func drawMerged(_ canvas: inout Canvas, spans: [[(Double, Double)]], cssClass: String, width: Double, left: Double,
                           geometry: (Int) -> (y: Double, height: Double, fill: String)) {
        var columns = Int(width)
        var occupied: [[Bool]] = spans.map { lane in
            var cells = Array(repeating: false, count: columns)
            for (x0, x1) in lane {
                let a = max(0, min(columns - 1, Int(x0.rounded(.down))))
                let b = max(a, min(columns - 1, Int(x1.rounded(.up)) - 1))
                for c in a...b { cells[c] = true }
            }
            return cells
        }
        func runs(_ cells: [Bool]) -> [(Int, Int)] {
            var result: [(Int, Int)] = []
            var start: Int?
            for (c, on) in cells.enumerated() {
                if on, start == nil { start = c }
                if !on, let s = start { result.append((s, c)); start = nil }
            }
            if let s = start { result.append((s, cells.count)) }
            return result
        }
        while columns > 8 && occupied.reduce(0, { $0 + runs($1).count }) > maximumRectangles {
            columns = (columns + 1) / 2
            occupied = occupied.map { cells in
                (0..<columns).map { c in cells[2 * c] || (2 * c + 1 < cells.count && cells[2 * c + 1]) }
            }
        }
        let columnWidth = width / Double(columns)
        for (lane, cells) in occupied.enumerated() {
            let (y, height, fill) = geometry(lane)
            for (a, b) in runs(cells) {
                canvas.add("<rect class=\"\(cssClass)\" x=\"\(number(left + Double(a) * columnWidth))\" y=\"\(number(y))\" width=\"\(number(Double(b - a) * columnWidth))\" height=\"\(number(height))\" fill=\"\(fill)\"/>")
            }
        }
    }
}
