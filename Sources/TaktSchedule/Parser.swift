// A hand-written recursive-descent parser for the schedule language.
//
//     file        := declaration*
//     declaration := KEYWORD NAME block?          (KEYWORD: cluster node slot message task chain mode)
//     block       := '{' (property | declaration)* '}'      (declarations only inside `mode`)
//     property    := KEY '=' value ';'?
//     value       := NUMBER UNIT? | NAME (',' NAME)* | NAME ('->' NAME)+
//
// Error recovery: after a syntax error the parser skips to the next token that begins a line,
// a `;` or a `}`, so one run reports every independent error of a file. The number of
// diagnostics per file is capped (`maximumDiagnostics`) so garbage input cannot flood output.

public struct Parser {
    /// The declaration keywords of schedule files. Other files in the same syntax (scenarios)
    /// pass their own keywords.
    public static let scheduleKeywords: Set<Substring> = ["cluster", "node", "slot", "message", "task", "chain", "mode"]
    private let declarationKeywords: Set<Substring>
    public static let maximumDiagnostics = 200

    private var tokens: [Token]
    private var position = 0
    public private(set) var diagnostics: [Diagnostic]

    public init(text: Substring, keywords: Set<Substring> = Parser.scheduleKeywords) {
        declarationKeywords = keywords
        var lexer = Lexer(text)
        tokens = lexer.tokenize()
        diagnostics = lexer.diagnostics
    }

    public static func parse(_ text: String, keywords: Set<Substring> = Parser.scheduleKeywords) -> (SyntaxFile, [Diagnostic]) {
        var parser = Parser(text: text[...], keywords: keywords)
        let file = parser.parseFile()
        return (file, parser.diagnostics)
    }

    private var current: Token { tokens[position] }

    private mutating func advance() {
        if position < tokens.count - 1 { position += 1 }
    }

    private mutating func error(_ code: DiagnosticCode, at location: SourceLocation, _ message: String, help: String? = nil) {
        diagnostics.append(Diagnostic(code, at: location, message, help: help))
    }

    public mutating func parseFile() -> SyntaxFile {
        var declarations: [SyntaxDeclaration] = []
        while current.kind != .endOfFile {
            if diagnostics.count >= Parser.maximumDiagnostics {
                diagnostics.append(Diagnostic(.tooManyDiagnostics, at: current.location,
                                              "stopped parsing after \(Parser.maximumDiagnostics) diagnostics; the rest of the file was not read",
                                              help: "fix the errors above and check again"))
                break
            }
            if current.kind == .semicolon {
                advance()  // ';' may separate declarations on one line
            } else if current.kind == .word, declarationKeywords.contains(current.text) {
                if let d = parseDeclaration(nested: false) { declarations.append(d) }
            } else {
                let token = current
                if token.kind == .word {
                    error(.unknownDeclaration, at: token.location,
                          "expected a declaration (\(declarationKeywords.sorted().joined(separator: ", "))), found \(token.describedForError)",
                          help: suggestion(for: token.text, among: declarationKeywords.map(String.init)).map { "did you mean '\($0)'?" })
                } else {
                    error(.syntax, at: token.location, "expected a declaration, found \(token.describedForError)")
                }
                advance()
                skipToTopLevel()
            }
        }
        return SyntaxFile(declarations: declarations)
    }

    /// Top-level recovery: skips the rest of a broken declaration, including a balanced `{ … }`
    /// block, and stops at the next word that begins a line outside any block.
    private mutating func skipToTopLevel() {
        var depth = 0
        while current.kind != .endOfFile {
            switch current.kind {
            case .leftBrace: depth += 1
            case .rightBrace: depth = max(0, depth - 1)
            case .word:
                if depth == 0 && current.startsLine { return }
                if current.startsLine && declarationKeywords.contains(current.text) && current.text != "slot" && current.text != "task" {
                    return  // a missing '}': resume at the next top-level declaration
                }
            default: break
            }
            advance()
        }
    }

    /// Skips to the next plausible start of a property: a token beginning a line, a `;`, or `}`.
    private mutating func skipInBlock() {
        while current.kind != .endOfFile {
            switch current.kind {
            case .rightBrace: return
            case .semicolon: advance(); return
            default:
                if current.startsLine { return }
                advance()
            }
        }
    }

    private mutating func parseDeclaration(nested: Bool) -> SyntaxDeclaration? {
        let keyword = current
        advance()
        guard current.kind == .word, !declarationKeywords.contains(current.text) else {
            error(.syntax, at: current.location, "expected a name after '\(keyword.text)', found \(current.describedForError)",
                  help: "write '\(keyword.text) NAME { … }'")
            if nested { skipInBlock() } else { skipToTopLevel() }
            return nil
        }
        let name = current
        advance()
        var declaration = SyntaxDeclaration(keyword: keyword, name: name, properties: [], children: [])
        if current.kind == .leftBrace {
            let open = current
            advance()
            parseBlockBody(into: &declaration, open: open, allowsChildren: keyword.text == "mode" && !nested)
        }
        return declaration
    }

    private mutating func parseBlockBody(into declaration: inout SyntaxDeclaration, open: Token, allowsChildren: Bool) {
        while true {
            if diagnostics.count >= Parser.maximumDiagnostics { return }
            switch current.kind {
            case .rightBrace:
                advance()
                return
            case .endOfFile:
                error(.syntax, at: current.location,
                      "unterminated block of '\(declaration.keyword.text) \(declaration.name.text)': expected '}'",
                      help: "add '}' to close the block opened at line \(open.location.line)")
                diagnostics[diagnostics.count - 1].notes.append(DiagnosticNote(open.location, "block opened here"))
                return
            case .semicolon:
                advance()
            case .word:
                if declarationKeywords.contains(current.text), peekKind(1) == .word {
                    if allowsChildren && (current.text == "slot" || current.text == "task") {
                        if let child = parseDeclaration(nested: true) { declaration.children.append(child) }
                        continue
                    }
                    if current.startsLine {
                        // Most likely a missing '}' before the next top-level declaration.
                        error(.syntax, at: current.location,
                              "'\(current.text)' declarations are not allowed inside '\(declaration.keyword.text)'; is a '}' missing?",
                              help: allowsChildren ? "a mode block may contain only slot and task declarations and mode properties"
                                                   : "close the block opened at line \(open.location.line) with '}'")
                        diagnostics[diagnostics.count - 1].notes.append(DiagnosticNote(open.location, "block opened here"))
                        return
                    }
                }
                if let property = parseProperty() { declaration.properties.append(property) }
            default:
                error(.syntax, at: current.location, "expected a property 'key = value' or '}', found \(current.describedForError)")
                advance()
                skipInBlock()
            }
        }
    }

    private func peekKind(_ offset: Int) -> TokenKind {
        let i = position + offset
        return i < tokens.count ? tokens[i].kind : .endOfFile
    }

    private mutating func parseProperty() -> SyntaxProperty? {
        let key = current
        advance()
        guard current.kind == .equals else {
            error(.syntax, at: current.location, "expected '=' after '\(key.text)', found \(current.describedForError)",
                  help: "properties are written 'key = value'")
            skipInBlock()
            return nil
        }
        advance()
        guard let value = parseValue(after: key) else {
            skipInBlock()
            return nil
        }
        if current.kind == .semicolon { advance() }
        else if !current.startsLine && current.kind != .rightBrace && current.kind != .endOfFile {
            error(.syntax, at: current.location, "unexpected \(current.describedForError) after the value of '\(key.text)'",
                  help: "put one property per line, or separate properties with ';'")
            skipInBlock()
        }
        return SyntaxProperty(key: key, value: value)
    }

    private mutating func parseValue(after key: Token) -> SyntaxValue? {
        switch current.kind {
        case .number:
            let number = current
            advance()
            // A unit is the next word on the same line that is not itself `key =`.
            if current.kind == .word, !current.startsLine, peekKind(1) != .equals {
                let unit = current
                advance()
                return .quantity(number: number, unit: unit)
            }
            return .quantity(number: number, unit: nil)
        case .word:
            var names = [current]
            advance()
            if current.kind == .arrow {
                while current.kind == .arrow {
                    advance()
                    guard current.kind == .word else {
                        error(.syntax, at: current.location, "expected a name after '->', found \(current.describedForError)")
                        return nil
                    }
                    names.append(current)
                    advance()
                }
                return .path(names)
            }
            while current.kind == .comma {
                advance()
                guard current.kind == .word else {
                    error(.syntax, at: current.location, "expected a name after ',', found \(current.describedForError)")
                    return nil
                }
                names.append(current)
                advance()
            }
            return .names(names)
        default:
            error(.syntax, at: current.location, "expected a value after '\(key.text) =', found \(current.describedForError)",
                  help: "a value is a number with a unit (10 ms), a name, a list of names (a, b) or a path (a -> b)")
            return nil
        }
    }
}

/// The closest candidate by edit distance, if it is close enough to be a plausible typo.
public func suggestion(for word: Substring, among candidates: some Sequence<String>, limit: Int = 5_000) -> String? {
    let target = Array(word.unicodeScalars)
    guard target.count <= 64 else { return nil }
    var best: (String, Int)?
    var scanned = 0
    for candidate in candidates {
        scanned += 1
        if scanned > limit { break }
        let c = Array(candidate.unicodeScalars)
        if abs(c.count - target.count) > 2 { continue }
        let d = editDistance(target, c)
        let threshold = max(1, min(2, target.count / 3))
        // Ties go to the earlier candidate (declaration order, or the caller's preference order).
        if d <= threshold, best == nil || d < best!.1 {
            best = (candidate, d)
        }
    }
    return best?.0
}

func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var row = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        row[0] = i
        for j in 1...b.count {
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &row)
    }
    return previous[b.count]
}
