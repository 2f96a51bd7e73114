// Every rule of the validator has a failing fixture (asserting its code, line and column) and a
// passing one. Fixtures are edits of one small valid schedule; '‸' in an edit marks the exact
// token the diagnostic must point at (the marker is removed before checking).

import Foundation
import Testing
import TaktTestSupport
import TaktSchedule

let baseSchedule = """
# base fixture: four sync nodes, one producer and one consumer
cluster t {
  round = 1 ms
  macrotick = 25 us
  bitrate = 10 Mbit/s
  propagation = 1 us
  drift = 100 ppm
  reading_error = 10 us
  fault_tolerance = 1
}
node a
node b
node c
node d
slot sa { sender = a; offset = 0 us; length = 250 us }
slot sb { sender = b; offset = 250 us; length = 250 us }
slot sc { sender = c; offset = 500 us; length = 250 us }
slot sd { sender = d; offset = 750 us; length = 250 us }
message m { sender = a; size = 8 bytes; period = 1 round; to = b }
task p { node = a; period = 1 ms; offset = 800 us; wcet = 100 us; writes = m }
task q { node = b; period = 1 ms; offset = 300 us; wcet = 100 us; reads = m }

"""

/// A base with two modes, for the mode rules.
let modeSchedule = """
cluster t {
  round = 1 ms
  cycle = 2 rounds
  macrotick = 25 us
  bitrate = 10 Mbit/s
  drift = 100 ppm
  reading_error = 10 us
  fault_tolerance = 1
}
node a
node b
node c
node d
message m { sender = a; size = 8 bytes; period = 1 round; to = b }
mode x {
  initial = yes
  transitions = y
  slot sa { sender = a; offset = 0 us; length = 250 us }
  slot sb { sender = b; offset = 250 us; length = 250 us }
  slot sc { sender = c; offset = 500 us; length = 250 us }
  slot sd { sender = d; offset = 750 us; length = 250 us }
  task p { node = a; period = 1 ms; offset = 800 us; wcet = 100 us; writes = m }
  task q { node = b; period = 2 ms; offset = 300 us; wcet = 100 us; reads = m }
}
mode y {
  transitions = x
  slot ya { sender = a; offset = 0 us; length = 500 us }
  slot yb { sender = b; offset = 500 us; length = 200 us }
  slot yc { sender = c; offset = 700 us; length = 150 us }
  slot yd { sender = d; offset = 850 us; length = 150 us }
}

"""

struct RuleFixture: CustomTestStringConvertible, Sendable {
    var code: DiagnosticCode
    var base: String = baseSchedule
    /// Edits applied to the base to make it fail; one of them contains the marker '‸'.
    var failing: [(String, String)]
    /// Edits applied to the base for the passing fixture (none: the base itself).
    var passing: [(String, String)] = []
    var testDescription: String { code.rawValue }
}

func applyEdits(_ base: String, _ edits: [(String, String)]) -> String {
    var text = base
    for (old, new) in edits {
        if old.isEmpty {
            text += new + "\n"
        } else {
            precondition(text.contains(old), "fixture edit does not apply: \(old)")
            text = text.replacingFirst(old, with: new)
        }
    }
    return text
}

extension String {
    func replacingFirst(_ old: String, with new: String) -> String {
        guard let range = self.range(of: old) else { return self }
        return self.replacingCharacters(in: range, with: new)
    }
}

/// Removes the marker and returns the text with the marker's 1-based line and column (in scalars).
func locateMarker(_ text: String) -> (String, TaktSchedule.SourceLocation?) {
    var line = 1, column = 1
    var out = String.UnicodeScalarView()
    var found: TaktSchedule.SourceLocation?
    for scalar in text.unicodeScalars {
        if scalar == "‸" { found = TaktSchedule.SourceLocation(line: line, column: column); continue }
        out.append(scalar)
        if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
    }
    return (String(out), found)
}

let ruleFixtures: [RuleFixture] = [
    RuleFixture(code: .unexpectedCharacter, failing: [("", "node e ‸$")], passing: [("", "node e { sync = no }  # a $ in a comment is fine")]),
    RuleFixture(code: .malformedNumber, failing: [("round = 1 ms", "round = ‸1. ms")]),
    RuleFixture(code: .syntax, failing: [("sender = a;", "sender = ‸, a;")]),
    RuleFixture(code: .unknownDeclaration, failing: [("", "‸nod e")]),
    RuleFixture(code: .missingCluster, failing: [("cluster t {\n  round = 1 ms\n  macrotick = 25 us\n  bitrate = 10 Mbit/s\n  propagation = 1 us\n  drift = 100 ppm\n  reading_error = 10 us\n  fault_tolerance = 1\n}\nnode a", "‸node a")]),
    RuleFixture(code: .duplicateName, failing: [("", "node ‸a")]),
    RuleFixture(code: .unknownName, failing: [("message m { sender = a;", "message m { sender = ‸zz;")]),
    RuleFixture(code: .unknownProperty, failing: [("node a\n", "node a { ‸colour = red }\n")], passing: [("node a\n", "node a { sync = yes }\n")]),
    RuleFixture(code: .duplicateProperty, failing: [("  round = 1 ms\n", "  round = 1 ms\n  ‸round = 2 ms\n")]),
    RuleFixture(code: .missingProperty, failing: [("task p { node = a; period = 1 ms; offset = 800 us; wcet = 100 us;", "task ‸p { node = a; period = 1 ms; offset = 800 us;")]),
    RuleFixture(code: .wrongValueKind, failing: [("drift = 100 ppm", "drift = 100 ‸us")]),
    RuleFixture(code: .missingUnit, failing: [("round = 1 ms", "round = ‸1")]),
    RuleFixture(code: .invalidQuantity, failing: [("propagation = 1 us", "propagation = ‸0.5 ns")], passing: [("propagation = 1 us", "propagation = 0.5 us")]),
    RuleFixture(code: .outOfRange, failing: [("to = b }", "to = b; copies = ‸0 }")], passing: [("to = b }", "to = b; copies = 1 }")]),
    RuleFixture(code: .mixedModeDeclarations, base: modeSchedule, failing: [("message m", "‸slot stray { sender = a; offset = 0 us; length = 10 us }\nmessage m")]),
    RuleFixture(code: .notMacrotickMultiple, failing: [("offset = 300 us; wcet = 100 us; reads", "offset = ‸310 us; wcet = 100 us; reads")]),
    RuleFixture(code: .hyperperiodOverflow, failing: [("", "task x1 { node = d; period = 999_999_925 us; offset = 0 us; wcet = 25 us }\ntask x2 { node = d; period = ‸999_999_975 us; offset = 100 us; wcet = 25 us }")],
                passing: [("", "task x1 { node = d; period = 999_999_925 us; offset = 0 us; wcet = 25 us }")]),
    RuleFixture(code: .tooFewSyncNodes, failing: [("fault_tolerance = 1", "fault_tolerance = ‸2")]),
    RuleFixture(code: .precisionBelowBound, failing: [("fault_tolerance = 1\n", "fault_tolerance = 1\n  precision = ‸10 us\n")],
                passing: [("fault_tolerance = 1\n", "fault_tolerance = 1\n  precision = 21 us\n")]),
    RuleFixture(code: .granularityTooFine, failing: [("macrotick = 25 us", "macrotick = ‸10 us")]),
    RuleFixture(code: .noFullCStateFrame, failing: [("slot sa { sender = a;", "slot ‸sa { sender = a; cstate = no;"), ("slot sb { sender = b;", "slot sb { sender = b; cstate = no;"),
                                                   ("slot sc { sender = c;", "slot sc { sender = c; cstate = no;"), ("slot sd { sender = d;", "slot sd { sender = d; cstate = no;")],
                passing: [("slot sa { sender = a;", "slot sa { sender = a; cstate = no;")]),
    RuleFixture(code: .slotOverlap, failing: [("sender = b; offset = 250 us", "sender = b; offset = ‸200 us")]),
    RuleFixture(code: .slotOutsideRound, failing: [("slot sd { sender = d; offset = 750 us; length = 250 us }", "slot ‸sd { sender = d; offset = 750 us; length = 300 us }")]),
    RuleFixture(code: .frameDoesNotFit, failing: [("bitrate = 10 Mbit/s", "bitrate = 1 Mbit/s"), ("slot sa { sender = a; offset = 0 us; length = 250 us }", "slot sa { sender = a; offset = 0 us; length = ‸250 us }"),
                                                  ("size = 8 bytes", "size = 200 bytes")],
                passing: [("bitrate = 10 Mbit/s", "bitrate = 10 Mbit/s"), ("size = 8 bytes", "size = 200 bytes")]),
    RuleFixture(code: .guardTooShort, failing: [("size = 8 bytes", "size = 230 bytes"), ("slot sa { sender = a; offset = 0 us; length = 250 us }", "slot sa { sender = a; offset = 0 us; length = ‸250 us }")],
                passing: [("size = 8 bytes", "size = 180 bytes")]),
    RuleFixture(code: .syncNodeWithoutSlot, failing: [("node d", "node ‸d"), ("slot sd { sender = d; offset = 750 us; length = 250 us }\n", "")]),
    RuleFixture(code: .slotOutOfOrder, failing: [("slot sa { sender = a; offset = 0 us; length = 250 us }\nslot sb { sender = b; offset = 250 us; length = 250 us }",
                                                  "slot sb { sender = b; offset = 250 us; length = 250 us }\nslot sa { sender = a; offset = ‸0 us; length = 250 us }")]),
    RuleFixture(code: .payloadTooLarge, failing: [("slot sa {", "slot ‸sa {"), ("bitrate = 10 Mbit/s", "bitrate = 10 Gbit/s"), ("length = 250 us }\nslot sb", "length = 250 us }\nslot sb"),
                                                  ("", "message big1 { sender = a; size = 40000 bytes }\nmessage big2 { sender = a; size = 40000 bytes }")],
                passing: [("bitrate = 10 Mbit/s", "bitrate = 10 Gbit/s"), ("", "message big1 { sender = a; size = 40000 bytes }")]),
    RuleFixture(code: .idleRoundTime, failing: [("slot sd { sender = d; offset = 750 us; length = 250 us }", "slot ‸sd { sender = d; offset = 750 us; length = 200 us }")]),
    RuleFixture(code: .nodeWithoutSlot, failing: [("", "node ‸e { sync = no }")]),
    RuleFixture(code: .messagePeriodNotDividingCycle, failing: [("period = 1 round; to = b", "period = ‸2 rounds; to = b")]),
    RuleFixture(code: .messageSenderWithoutSlot, failing: [("", "node e { sync = no }\nmessage m2 { sender = ‸e; size = 8 bytes; to = b }"), ("reads = m }", "reads = m, m2 }")]),
    RuleFixture(code: .messageCopiesDoNotFit, failing: [("to = b }", "to = b; copies = ‸2 }")], passing: [("period = 1 round; to = b }", "period = 1 round; to = b; copies = 1 }")]),
    RuleFixture(code: .messagePhaseOutOfRange, failing: [("to = b }", "to = b; phase = ‸1 rounds }")], passing: [("to = b }", "to = b; phase = 0 rounds }")]),
    RuleFixture(code: .writerNotOnSender, failing: [("task p { node = a; period = 1 ms; offset = 800 us; wcet = 100 us; writes = m }", "task p { node = c; period = 1 ms; offset = 800 us; wcet = 100 us; writes = ‸m }")]),
    RuleFixture(code: .multipleWriters, failing: [("", "task p2 { node = a; period = 1 ms; offset = 600 us; wcet = 100 us; writes = ‸m }")]),
    RuleFixture(code: .producerLate, failing: [("offset = 800 us; wcet = 100 us; writes", "offset = ‸950 us; wcet = 100 us; writes")]),
    RuleFixture(code: .consumerEarly, failing: [("offset = 300 us; wcet = 100 us; reads", "offset = ‸200 us; wcet = 100 us; reads")]),
    RuleFixture(code: .readerNotDestination, failing: [("task q { node = b; period = 1 ms; offset = 300 us; wcet = 100 us; reads = m }", "task q { node = c; period = 1 ms; offset = 300 us; wcet = 100 us; reads = ‸m }")]),
    RuleFixture(code: .slotNotOfSender, failing: [("to = b }", "to = b; slot = ‸sb }")], passing: [("to = b }", "to = b; slot = sa }")]),
    RuleFixture(code: .messageWithoutWriter, failing: [("message m {", "message ‸m {"), ("wcet = 100 us; writes = m }", "wcet = 100 us }")]),
    RuleFixture(code: .wcetExceedsDeadline, failing: [("wcet = 100 us; writes = m", "wcet = ‸200 us; deadline = 150 us; writes = m")]),
    RuleFixture(code: .deadlineExceedsPeriod, failing: [("wcet = 100 us; writes = m", "wcet = 100 us; deadline = ‸2 ms; writes = m")]),
    RuleFixture(code: .offsetOutOfPeriod, failing: [("offset = 300 us; wcet = 100 us; reads", "offset = ‸1300 us; wcet = 100 us; reads")]),
    RuleFixture(code: .taskOverlap, failing: [("", "task p3 { node = a; period = 1 ms; offset = ‸850 us; wcet = 50 us }")],
                passing: [("", "task p3 { node = a; period = 1 ms; offset = 900 us; wcet = 50 us }")]),
    RuleFixture(code: .utilizationExceeded, failing: [("node a", "node ‸a"), ("", "task big { node = a; period = 1 ms; offset = 0 us; wcet = 950 us }")],
                passing: [("", "task big { node = a; period = 1 ms; offset = 0 us; wcet = 800 us }")]),
    RuleFixture(code: .frameShorterThanWCET, failing: [("node a\n", "node a { frame = ‸50 us }\n")], passing: [("node a\n", "node a { frame = 500 us }\n")]),
    RuleFixture(code: .frameNotDividingHyperperiod, failing: [("node a\n", "node a { frame = ‸300 us }\n")], passing: [("node a\n", "node a { frame = 250 us }\n")]),
    RuleFixture(code: .frameTooLongForDeadline, failing: [("node a\n", "node a { frame = 500 us }\n"), ("wcet = 100 us; writes = m", "wcet = 100 us; deadline = ‸400 us; writes = m")],
                passing: [("node a\n", "node a { frame = 500 us }\n"), ("wcet = 100 us; writes = m", "wcet = 100 us; deadline = 500 us; writes = m")]),
    RuleFixture(code: .precedenceCycle, failing: [("", "task x { node = c; period = 1 ms; offset = 0 us; wcet = 10 us; after = y }\ntask y { node = c; period = 1 ms; offset = 100 us; wcet = 10 us; after = ‸x }")],
                passing: [("", "task x { node = c; period = 1 ms; offset = 0 us; wcet = 10 us }\ntask y { node = c; period = 1 ms; offset = 100 us; wcet = 10 us; after = x }")]),
    RuleFixture(code: .precedenceViolated, failing: [("", "task y { node = c; period = 1 ms; offset = ‸0 us; wcet = 10 us; after = q }")],
                passing: [("", "task y { node = c; period = 1 ms; offset = 400 us; wcet = 10 us; after = q }")]),
    RuleFixture(code: .chainLinkMissing, failing: [("", "task z { node = c; period = 1 ms; offset = 500 us; wcet = 10 us }\nchain ch { path = p -> ‸z }")],
                passing: [("", "chain ch { path = p -> q }")]),
    RuleFixture(code: .chainReactionExceeded, failing: [("", "chain ch { path = p -> q; deadline = ‸100 us }")], passing: [("", "chain ch { path = p -> q; deadline = 5 ms }")]),
    RuleFixture(code: .chainDataAgeExceeded, failing: [("", "chain ch { path = p -> q; max_age = ‸100 us }")], passing: [("", "chain ch { path = p -> q; max_age = 5 ms }")]),
    RuleFixture(code: .chainMalformed, failing: [("", "task r { node = a; period = 1 ms; offset = 500 us; wcet = 10 us; reads = m }\nchain ch { path = p -> q -> ‸p }")],
                passing: [("", "chain ch { path = p -> q }")]),
    RuleFixture(code: .chainNotAnalysed, failing: [("", "task z { node = c; period = 25_000_075 us; offset = 500 us; wcet = 10 us; reads = m }\nchain ‸ch { path = p -> z }"), ("to = b }", "to = b, c }")],
                passing: [("", "task z { node = c; period = 1 ms; offset = 500 us; wcet = 10 us; reads = m }\nchain ch { path = p -> z }"), ("to = b }", "to = b, c }")]),
    RuleFixture(code: .modeTransitionInvalid, base: modeSchedule, failing: [("transitions = y", "transitions = ‸x")]),
    RuleFixture(code: .modeTaskPeriodNotDividingCycle, base: modeSchedule, failing: [("task q { node = b; period = 2 ms;", "task q { node = b; period = ‸4 ms;")]),
    RuleFixture(code: .multipleInitialModes, base: modeSchedule, failing: [("transitions = x", "initial = ‸yes\n  transitions = x")]),
    RuleFixture(code: .modeUnreachable, base: modeSchedule, failing: [("  transitions = y\n", ""), ("mode y", "mode ‸y")]),
]

@Suite("Validation rules: failing and passing fixtures", .hostShared)
struct RuleFixtureTests {
    @Test("the base fixtures are valid and free of warnings")
    func basesAreClean() {
        for base in [baseSchedule, modeSchedule] {
            let result = ScheduleChecker.check(base)
            #expect(result.valid, "\(result.diagnostics.map { $0.rendered(path: "base") })")
            #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map { $0.rendered(path: "base") })")
        }
    }

    @Test("each failing fixture reports its code at the marked token", arguments: ruleFixtures)
    func failing(_ fixture: RuleFixture) throws {
        let (text, marker) = locateMarker(applyEdits(fixture.base, fixture.failing))
        let location = try #require(marker, "fixture for \(fixture.code.rawValue) has no marker")
        let result = ScheduleChecker.check(text)
        let matches = result.diagnostics.filter { $0.code == fixture.code }
        #expect(!matches.isEmpty, "expected \(fixture.code.rawValue); got:\n\(result.diagnostics.map { $0.rendered(path: "f") }.joined())")
        #expect(matches.contains { $0.location == location },
                "expected \(fixture.code.rawValue) at \(location); got at \(matches.map(\.location))\n\(result.diagnostics.map { $0.rendered(path: "f") }.joined())")
        if fixture.code.severity == .error { #expect(!result.valid) }
        for d in matches {
            #expect(!d.message.isEmpty)
            // Rules about the schedule's meaning (E3xx and up) always say how to fix it.
            let number = Int(d.code.rawValue.dropFirst()) ?? 0
            if number >= 300 { #expect(d.help != nil, "\(d.code.rawValue) has no help") }
        }
    }

    @Test("each passing fixture is free of its code", arguments: ruleFixtures)
    func passing(_ fixture: RuleFixture) {
        let text = applyEdits(fixture.base, fixture.passing)
        let result = ScheduleChecker.check(text)
        #expect(!result.diagnostics.contains { $0.code == fixture.code },
                "\(result.diagnostics.map { $0.rendered(path: "p") }.joined())")
        #expect(result.valid, "\(result.diagnostics.map { $0.rendered(path: "p") }.joined())")
    }

    @Test("every diagnostic code has a fixture")
    func everyCodeCovered() {
        let covered = Set(ruleFixtures.map(\.code))
        let missing = DiagnosticCode.allCases.filter { !covered.contains($0) && $0 != .tooManyDiagnostics }
        #expect(missing.isEmpty, "codes without a fixture: \(missing.map(\.rawValue))")
    }

    @Test("more than 200 diagnostics are cut with E105")
    func tooMany() {
        let text = baseSchedule + String(repeating: "nod x\n", count: 400)
        let result = ScheduleChecker.check(text)
        #expect(result.diagnostics.contains { $0.code == .tooManyDiagnostics })
        #expect(result.diagnostics.count <= 201)
    }
}
