// `takt plot`: the SVG timeline is well-formed XML and shows what the schedule says, for the
// shipped schedules; usage errors exit 2; large schedules stay bounded.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TaktTestSupport
@testable import TaktCLI
import TaktSchedule

/// Parses `svg` as XML and collects each element's name and attributes.
final class SVGCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var texts: [String] = []
    private var current = ""

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        elements.append((elementName, attributeDict))
        current = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        if elementName == "text" { texts.append(current) }
        current = ""
    }

    /// Elements whose class attribute is exactly `name`.
    func withClass(_ name: String) -> [[String: String]] {
        elements.filter { $0.attributes["class"] == name }.map(\.attributes)
    }
}

struct MalformedSVG: Error, CustomStringConvertible {
    var description: String
}

/// Parses `svg`, throwing when it is not well-formed XML.
func parseSVG(_ svg: String) throws -> SVGCollector {
    let parser = XMLParser(data: Data(svg.utf8))
    let collector = SVGCollector()
    parser.delegate = collector
    guard parser.parse() else {
        throw MalformedSVG(description: "SVG is not well-formed: \(parser.parserError.map { "\($0)" } ?? "unknown error") at line \(parser.lineNumber)")
    }
    return collector
}

/// Loads a shipped schedule through the checker (it must be valid).
func shippedSchedule(_ name: String) throws -> (Schedule, DerivedResults) {
    let text = try String(contentsOfFile: packageRoot + "/Schedules/" + name, encoding: .utf8)
    let result = ScheduleChecker.check(text)
    try #require(result.valid, "\(name) is not valid")
    return (result.schedule!, result.derived!)
}

/// Σ over the messages sent in mode `m` of (instances in one cycle) × (destinations).
func expectedFlowCount(_ schedule: Schedule, _ derived: DerivedResults, mode m: Int) -> Int {
    let cycle = schedule.cluster.cycle.nanoseconds
    var total = 0
    for a in derived.modes[m].messages where a.sent {
        var send = a.firstSendOffset.nanoseconds
        var instances = 0
        while send < cycle { instances += 1; send += a.periodInterval.nanoseconds }
        total += instances * schedule.messages[a.message].destinations.count
    }
    return total
}

/// Releases of mode `m`'s tasks in [0, cycle).
func expectedReleaseCount(_ schedule: Schedule, mode m: Int) -> Int {
    let cycle = schedule.cluster.cycle.nanoseconds
    var total = 0
    for task in schedule.modes[m].tasks {
        var release = task.offset.nanoseconds
        while release < cycle { total += 1; release += task.period.nanoseconds }
    }
    return total
}

@Suite("takt plot", .hostShared)
struct PlotTests {
    @Test func tmrPlotIsWellFormedAndShowsEveryLaneSlotTaskAndFlow() throws {
        let out = temporaryFile("tmr.svg", "")
        let (status, stdout, stderr) = takt("plot", packageRoot + "/Schedules/tmr.takt", "-o", out)
        #expect(status == 0, "\(stderr)")
        #expect(stdout == "wrote \(out): cluster tmr, mode default, 1 cycle of 10 ms\n")
        let svg = try String(contentsOfFile: out, encoding: .utf8)
        let doc = try parseSVG(svg)
        #expect(doc.elements.first?.name == "svg")

        let (schedule, derived) = try shippedSchedule("tmr.takt")
        // One lane label per node (the controllers carry their group).
        let laneLabels = doc.withClass("lane-label")
        #expect(laneLabels.count == schedule.nodes.count)
        for name in ["sensor", "actuator", "c1 (controllers)", "c2 (controllers)", "c3 (controllers)"] {
            #expect(doc.texts.contains(name), "no lane label '\(name)'")
        }
        // A rectangle per slot per round: 5 slots × 2 rounds.
        let slots = doc.withClass("slot")
        #expect(slots.count == 5 * 2)
        for slot in schedule.modes[0].slots {
            #expect(slots.filter { $0["data-slot"] == slot.name }.map { $0["data-round"] }.sorted { ($0 ?? "") < ($1 ?? "") } == ["0", "1"])
        }
        // A rectangle per task release in the cycle: 5 tasks × 1 release per 10 ms.
        let tasks = doc.withClass("task")
        #expect(tasks.count == 5)
        #expect(Set(tasks.compactMap { $0["data-task"] }) == ["sample", "control_1", "control_2", "control_3", "vote"])
        #expect(tasks.first { $0["data-task"] == "vote" }?["data-release"] == "5050000")
        // Arrows: reading → 3, cmd_1..3 → 1 each, status → 3 = 9, with an arrowhead marker.
        let flows = doc.withClass("flow")
        #expect(flows.count == expectedFlowCount(schedule, derived, mode: 0))
        #expect(flows.count == 9)
        #expect(flows.filter { $0["data-message"] == "reading" }.compactMap { $0["data-to"] }.sorted() == ["c1", "c2", "c3"])
        #expect(flows.allSatisfy { $0["marker-end"] == "url(#arrow)" })
        #expect(doc.elements.contains { $0.name == "marker" && $0.attributes["id"] == "arrow" })
        // Round boundaries, title and legend.
        #expect(doc.texts.contains("round 0") && doc.texts.contains("round 1"))
        #expect(!doc.texts.contains("round 2"))
        #expect(doc.texts.contains("5 ms") && doc.texts.contains("10 ms"))
        #expect(doc.texts.contains { $0.contains("cluster tmr") })
        #expect(doc.texts.contains { $0.contains("Π = 16.5 us") })
        #expect(doc.texts.contains { $0.contains("end of last copy + Π") })
        #expect(!svg.contains("not drawn"))
    }

    @Test func renderIsDeterministic() throws {
        let (schedule, derived) = try shippedSchedule("multirate.takt")
        let a = SVGTimeline.render(schedule: schedule, derived: derived, mode: 0)
        let b = SVGTimeline.render(schedule: schedule, derived: derived, mode: 0)
        #expect(a == b)
    }

    @Test func multirateDrawsEveryRoundReleaseAndInstance() throws {
        let (schedule, derived) = try shippedSchedule("multirate.takt")
        let svg = SVGTimeline.render(schedule: schedule, derived: derived, mode: 0)
        let doc = try parseSVG(svg)
        #expect(doc.withClass("slot").count == schedule.modes[0].slots.count * 4)
        // read_imu 4×, read_gps 1×, fuse 2×, log 1×.
        #expect(doc.withClass("task").count == expectedReleaseCount(schedule, mode: 0))
        #expect(doc.withClass("task").count == 8)
        // accel 4 instances, position 1, estimate 2; one destination each.
        #expect(doc.withClass("flow").count == expectedFlowCount(schedule, derived, mode: 0))
        #expect(doc.withClass("flow").count == 7)
        #expect(doc.texts.contains("round 3"))
    }

    @Test func modeOptionSelectsTheMode() throws {
        let path = packageRoot + "/Schedules/modes.takt"
        let normalOut = temporaryFile("modes-normal.svg", ""), degradedOut = temporaryFile("modes-degraded.svg", "")
        let (s1, o1, e1) = takt("plot", path, "-o", normalOut)
        #expect(s1 == 0, "\(e1)")
        #expect(o1.contains("mode normal"))
        let (s2, o2, e2) = takt("plot", path, "--mode", "degraded", "-o", degradedOut)
        #expect(s2 == 0, "\(e2)")
        #expect(o2.contains("mode degraded"))
        let normal = try String(contentsOfFile: normalOut, encoding: .utf8)
        let degraded = try String(contentsOfFile: degradedOut, encoding: .utf8)
        #expect(normal != degraded)
        let n = try parseSVG(normal), d = try parseSVG(degraded)
        #expect(n.withClass("slot").contains { $0["data-slot"] == "m_sensor" })
        #expect(d.withClass("slot").contains { $0["data-slot"] == "d_actuator" })
        #expect(!d.withClass("slot").contains { $0["data-slot"] == "m_sensor" })
        #expect(Set(d.withClass("task").compactMap { $0["data-task"] }) == ["sample", "control_a", "apply"])
        // Normal: 4 tasks × 2 releases per 10 ms; degraded: 3 tasks × 1.
        #expect(n.withClass("task").count == 8)
        #expect(d.withClass("task").count == 3)
        let (schedule, derived) = try shippedSchedule("modes.takt")
        #expect(d.withClass("flow").count == expectedFlowCount(schedule, derived, mode: 1))

        let (s3, _, e3) = takt("plot", path, "--mode", "limp", "-o", temporaryFile("modes-limp.svg", ""))
        #expect(s3 == 2)
        #expect(e3.contains("no mode 'limp'") && e3.contains("normal, degraded"))
    }

    @Test func usageErrorsExitTwo() {
        let tmr = packageRoot + "/Schedules/tmr.takt"
        let (missingOutput, _, err) = takt("plot", tmr)
        #expect(missingOutput == 2)
        #expect(err.contains("-o"))
        #expect(takt("plot", "-o", temporaryFile("none.svg", "")).0 == 2)
        #expect(takt("plot", tmr, tmr, "-o", temporaryFile("two.svg", "")).0 == 2)
        let (missingFile, _, err2) = takt("plot", "/nonexistent/file.takt", "-o", temporaryFile("nofile.svg", ""))
        #expect(missingFile == 2)
        #expect(err2.contains("no such file"))
        let (unwritable, _, err3) = takt("plot", tmr, "-o", "/nonexistent-directory/out.svg")
        #expect(unwritable == 2)
        #expect(err3.contains("cannot write /nonexistent-directory/out.svg"))
    }

    @Test func invalidScheduleExitsOne() {
        let path = temporaryFile("plot-bad.takt", "cluster x { }\n")
        let (status, _, err) = takt("plot", path, "-o", temporaryFile("plot-bad.svg", ""))
        #expect(status == 1)
        #expect(err.contains("not a valid schedule"))
    }

    @Test func large64IsBoundedAndWellFormed() throws {
        let (schedule, derived) = try shippedSchedule("large64.takt")
        let svg = SVGTimeline.render(schedule: schedule, derived: derived, mode: 0)
        #expect(svg.utf8.count < 5_000_000)
        let doc = try parseSVG(svg)
        #expect(doc.withClass("lane-label").count == 64)
        #expect(doc.withClass("slot").count == schedule.modes[0].slots.count * Int(schedule.cluster.cycleRounds))
        let expected = expectedFlowCount(schedule, derived, mode: 0)
        let drawn = doc.withClass("flow").count
        #expect(expected > SVGTimeline.maximumFlows)
        #expect(drawn > 0 && drawn <= SVGTimeline.maximumFlows)
        #expect(doc.texts.contains { $0.contains("\(expected - drawn) more flows not drawn") })
        // Beyond the budget every message still shows at least one flow.
        let shown = Set(doc.withClass("flow").compactMap { $0["data-message"] })
        #expect(shown.count == derived.modes[0].messages.filter(\.sent).count)
    }

    @Test func generatedThousandNodeScheduleIsBounded() throws {
        let path = temporaryFile("plot-gen.takt", "")
        let (genStatus, _, genErr) = takt("gen", "--nodes", "1000", "--tasks", "20000", "-o", path)
        try #require(genStatus == 0, "\(genErr)")
        let result = ScheduleChecker.check(try String(contentsOfFile: path, encoding: .utf8))
        try #require(result.valid)
        let svg = SVGTimeline.render(schedule: result.schedule!, derived: result.derived!, mode: 0)
        #expect(svg.utf8.count < 5_000_000)
        _ = try parseSVG(svg)
    }

    @Test func escapeReplacesXMLSpecialCharacters() throws {
        #expect(SVGTimeline.escape(#"a&b<c>d"e'f"#) == "a&amp;b&lt;c&gt;d&quot;e&apos;f")
        #expect(SVGTimeline.escape("plain_name_1") == "plain_name_1")
        #expect(SVGTimeline.escape("Π = 16.5 us · →") == "Π = 16.5 us · →")
        #expect(SVGTimeline.escape("&amp;") == "&amp;amp;")
        // An escaped string survives inside an attribute and as text.
        let nasty = #"<x a="1" b='2'>&</x>"#
        let doc = try parseSVG("<svg title=\"\(SVGTimeline.escape(nasty))\"><text>\(SVGTimeline.escape(nasty))</text></svg>")
        #expect(doc.elements.first?.attributes["title"] == nasty)
        #expect(doc.texts == [nasty])
        // The parser used here does reject what escaping prevents.
        #expect(throws: MalformedSVG.self) { try parseSVG("<svg><text>a & b</text></svg>") }
    }

    @Test func numbersAreShortAndLocaleFree() {
        #expect(SVGTimeline.number(12) == "12")
        #expect(SVGTimeline.number(12.25) == "12.3")
        #expect(SVGTimeline.number(-3.14) == "-3.1")
        #expect(SVGTimeline.number(0.04) == "0")
        #expect(SVGTimeline.number(.nan) == "0")
    }
}
