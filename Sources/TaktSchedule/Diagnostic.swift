// Diagnostics: what the parser, the elaborator and the validator say about a schedule file.
//
// Every diagnostic has a stable code (`DiagnosticCode`), a primary source position, notes at the
// other party of a conflict, and an optional `help:` line with a concrete fix. Codes never change
// meaning once shipped; Docs/schedule-format.md lists them all.

/// A 1-based position in a schedule file. Columns count Unicode scalars, not bytes.
public struct SourceLocation: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The position used for facts about the whole file (e.g. "no cluster declared").
    public static let startOfFile = SourceLocation(line: 1, column: 1)

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    public var description: String { "\(line):\(column)" }
}

public enum Severity: String, Sendable, Comparable {
    case error
    case warning

    public static func < (a: Severity, b: Severity) -> Bool { a == .error && b == .warning }
}

/// A secondary message attached to a diagnostic, usually at the other declaration of a conflict.
public struct DiagnosticNote: Hashable, Sendable {
    public var location: SourceLocation
    public var message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }
}

public struct Diagnostic: Hashable, Sendable {
    public var severity: Severity
    public var code: DiagnosticCode
    public var location: SourceLocation
    public var message: String
    public var notes: [DiagnosticNote]
    public var help: String?

    public init(
        _ code: DiagnosticCode, at location: SourceLocation, _ message: String,
        notes: [DiagnosticNote] = [], help: String? = nil
    ) {
        self.severity = code.severity
        self.code = code
        self.location = location
        self.message = message
        self.notes = notes
        self.help = help
    }

    /// Renders the diagnostic the way compilers do: `file:line:col: error[CODE]: message`,
    /// then `file:line:col: note: …` lines and a `help: …` line.
    public func rendered(path: String) -> String {
        var text = "\(path):\(location.line):\(location.column): \(severity.rawValue)[\(code.rawValue)]: \(message)\n"
        for note in notes {
            text += "\(path):\(note.location.line):\(note.location.column): note: \(note.message)\n"
        }
        if let help {
            text += "  help: \(help)\n"
        }
        return text
    }
}

/// Orders diagnostics for output: by position, then errors before warnings, then code.
public func sortDiagnostics(_ diagnostics: inout [Diagnostic]) {
    diagnostics.sort { a, b in
        if a.location != b.location { return a.location < b.location }
        if a.severity != b.severity { return a.severity < b.severity }
        if a.code != b.code { return a.code.rawValue < b.code.rawValue }
        return a.message < b.message
    }
}

/// Every rule Takt checks, with its stable code. The raw value is what users see and search for.
public enum DiagnosticCode: String, Sendable, CaseIterable, Hashable {
    // Lexical and syntax (E1xx)
    case unexpectedCharacter = "E101"
    case malformedNumber = "E102"
    case syntax = "E103"
    case unknownDeclaration = "E104"
    case tooManyDiagnostics = "E105"

    // Declarations, names, properties, units (E2xx)
    case missingCluster = "E201"
    case duplicateName = "E202"
    case unknownName = "E203"
    case unknownProperty = "E204"
    case duplicateProperty = "E205"
    case missingProperty = "E206"
    case wrongValueKind = "E207"
    case missingUnit = "E208"
    case invalidQuantity = "E209"
    case outOfRange = "E210"
    case mixedModeDeclarations = "E211"

    // Cluster, time base, clock synchronization (E3xx)
    case notMacrotickMultiple = "E301"
    case hyperperiodOverflow = "E302"
    case tooFewSyncNodes = "E303"
    case precisionBelowBound = "E304"
    case granularityTooFine = "E305"
    case noFullCStateFrame = "E306"

    // Slots and frames (E4xx)
    case slotOverlap = "E401"
    case slotOutsideRound = "E402"
    case frameDoesNotFit = "E403"
    case guardTooShort = "E404"
    case syncNodeWithoutSlot = "E405"
    case slotOutOfOrder = "E406"
    case payloadTooLarge = "E407"
    case idleRoundTime = "W401"
    case nodeWithoutSlot = "W402"

    // Messages (E5xx)
    case messagePeriodNotDividingCycle = "E501"
    case messageSenderWithoutSlot = "E502"
    case messageCopiesDoNotFit = "E503"
    case messagePhaseOutOfRange = "E504"
    case writerNotOnSender = "E505"
    case multipleWriters = "E506"
    case producerLate = "E507"
    case consumerEarly = "E508"
    case readerNotDestination = "E509"
    case slotNotOfSender = "E510"
    case messageWithoutWriter = "W501"

    // Tasks (E6xx)
    case wcetExceedsDeadline = "E601"
    case deadlineExceedsPeriod = "E602"
    case offsetOutOfPeriod = "E603"
    case taskOverlap = "E604"
    case utilizationExceeded = "E605"
    case frameShorterThanWCET = "E606"
    case frameNotDividingHyperperiod = "E607"
    case frameTooLongForDeadline = "E608"
    case precedenceCycle = "E609"
    case precedenceViolated = "E610"

    // Cause–effect chains (E7xx)
    case chainLinkMissing = "E701"
    case chainReactionExceeded = "E702"
    case chainDataAgeExceeded = "E703"
    case chainMalformed = "E704"
    case chainNotAnalysed = "W701"

    // Modes (E8xx)
    case modeTransitionInvalid = "E801"
    case modeTaskPeriodNotDividingCycle = "E802"
    case multipleInitialModes = "E803"
    case modeUnreachable = "W801"

    public var severity: Severity { rawValue.hasPrefix("W") ? .warning : .error }
}
