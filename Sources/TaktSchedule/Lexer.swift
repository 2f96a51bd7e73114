// The lexer of the schedule language (Docs/schedule-format.md).
//
// It works on raw bytes so that any input, including binary garbage and invalid UTF-8, is
// tokenized without trapping: bytes that start no token become `E101` diagnostics and are skipped.
// Newlines are not tokens; every token records where it starts (line, column in Unicode scalars)
// and whether it is the first token of its line, which the parser uses to resynchronize.

public enum TokenKind: Sendable, Equatable {
    /// `[A-Za-z_µμ][A-Za-z0-9_/µμ]*` — a keyword, a name, a property key or a unit.
    case word
    /// `[0-9][0-9_]*(.[0-9][0-9_]*)?` — a decimal literal, unsigned.
    case number
    case leftBrace
    case rightBrace
    case equals
    case comma
    case semicolon
    case arrow
    case endOfFile
}

public struct Token: Sendable, Equatable {
    public var kind: TokenKind
    /// The token's text; for `.endOfFile`, empty.
    public var text: Substring
    public var location: SourceLocation
    /// True when no other token precedes this one on its line.
    public var startsLine: Bool

    public var describedForError: String {
        switch kind {
        case .endOfFile: return "end of file"
        case .word: return "'\(text)'"
        case .number: return "number '\(text)'"
        default: return "'\(text)'"
        }
    }
}

public struct Lexer {
    private let text: Substring
    /// The text's UTF-8 bytes, indexed by integer offsets (the lexer never sees anything else).
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var column = 1
    private var sawTokenOnLine = false

    public private(set) var diagnostics: [Diagnostic] = []

    public init(_ text: Substring) {
        self.text = text
        // A bulk copy from contiguous storage (native strings); element-wise only as a fallback.
        self.bytes = text.utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(text.utf8)
    }

    /// Returns every token, ending with exactly one `.endOfFile`.
    public mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = next()
            tokens.append(token)
            if token.kind == .endOfFile { return tokens }
        }
    }

    @inline(__always)
    private func peek(_ offset: Int = 0) -> UInt8? {
        let i = index + offset
        return i < bytes.count ? bytes[i] : nil
    }

    /// Advances one byte, keeping line and column (columns count scalars: continuation bytes
    /// 0b10xxxxxx do not advance the column).
    @inline(__always)
    private mutating func advance() {
        let byte = bytes[index]
        index += 1
        if byte == UInt8(ascii: "\n") {
            line += 1
            column = 1
            sawTokenOnLine = false
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    /// The substring of the original text for the byte range [start, end).
    private func slice(_ start: Int, _ end: Int) -> Substring {
        let utf8 = text.utf8
        let lower = utf8.index(utf8.startIndex, offsetBy: start)
        let upper = utf8.index(lower, offsetBy: end - start)
        return text[lower..<upper]
    }

    private static func isWordStart(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_")
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// The micro sign U+00B5 is C2 B5 in UTF-8; the Greek small mu U+03BC is CE BC.
    private func microSignLength() -> Int {
        if peek() == 0xC2 && peek(1) == 0xB5 { return 2 }
        if peek() == 0xCE && peek(1) == 0xBC { return 2 }
        return 0
    }

    private mutating func skipTrivia() {
        while let b = peek() {
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r") || b == UInt8(ascii: "\n") {
                advance()
            } else if b == UInt8(ascii: "#") {
                while let c = peek(), c != UInt8(ascii: "\n") { advance() }
            } else {
                return
            }
        }
    }

    private mutating func next() -> Token {
        while true {
            skipTrivia()
            let start = index
            let location = SourceLocation(line: line, column: column)
            let startsLine = !sawTokenOnLine
            guard let b = peek() else {
                return Token(kind: .endOfFile, text: text[text.endIndex...], location: location, startsLine: true)
            }
            func make(_ kind: TokenKind) -> Token {
                sawTokenOnLine = true
                return Token(kind: kind, text: slice(start, index), location: location, startsLine: startsLine)
            }
            switch b {
            case UInt8(ascii: "{"): advance(); return make(.leftBrace)
            case UInt8(ascii: "}"): advance(); return make(.rightBrace)
            case UInt8(ascii: "="): advance(); return make(.equals)
            case UInt8(ascii: ","): advance(); return make(.comma)
            case UInt8(ascii: ";"): advance(); return make(.semicolon)
            case UInt8(ascii: "-") where peek(1) == UInt8(ascii: ">"):
                advance(); advance(); return make(.arrow)
            default: break
            }
            if Lexer.isDigit(b) {
                lexNumber(location: location)
                return make(.number)
            }
            if Lexer.isWordStart(b) || microSignLength() > 0 {
                while let c = peek() {
                    let micro = microSignLength()
                    if micro > 0 {
                        for _ in 0..<micro { advance() }
                    } else if Lexer.isWordStart(c) || Lexer.isDigit(c) || c == UInt8(ascii: "/") {
                        advance()
                    } else {
                        break
                    }
                }
                return make(.word)
            }
            // Not the start of any token: report once per run of bad bytes, then skip the run.
            var count = 0
            while let c = peek(), !isTokenStartOrTrivia(c) {
                advance()
                count += 1
            }
            if count == 0 { advance(); count = 1 }
            let shown = describeBytes(bytes[start..<index])
            diagnostics.append(Diagnostic(
                .unexpectedCharacter, at: location,
                "unexpected \(shown) in schedule text",
                help: "the schedule language uses names, numbers with units, '{', '}', '=', ',', ';', '->' and '#' comments"))
        }
    }

    private func isTokenStartOrTrivia(_ b: UInt8) -> Bool {
        if Lexer.isWordStart(b) || Lexer.isDigit(b) { return true }
        if microSignLength() > 0 { return true }
        switch b {
        case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "="), UInt8(ascii: ","), UInt8(ascii: ";"),
            UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: "#"):
            return true
        case UInt8(ascii: "-"):
            return peek(1) == UInt8(ascii: ">")
        default:
            return false
        }
    }

    private func describeBytes(_ run: ArraySlice<UInt8>) -> String {
        let shownBytes = Array(run.prefix(8))
        if shownBytes.count == 1, shownBytes[0] >= 0x21, shownBytes[0] < 0x7F {
            return "character '\(Character(Unicode.Scalar(shownBytes[0])))'"
        }
        let digits = Array("0123456789ABCDEF")
        let hex = shownBytes.map { b in "\(digits[Int(b >> 4)])\(digits[Int(b & 0xF)])" }.joined(separator: " ")
        let more = run.count > 8 ? " …" : ""
        return run.count == 1 ? "byte 0x\(hex)" : "bytes \(hex)\(more)"
    }

    /// Numbers: digits, optional `_` separators, optional fraction. A malformed tail such as `1.`
    /// or `1.x` is reported as E102 and the token still ends cleanly.
    private mutating func lexNumber(location: SourceLocation) {
        while let c = peek(), Lexer.isDigit(c) || c == UInt8(ascii: "_") { advance() }
        if peek() == UInt8(ascii: "."), let d = peek(1), Lexer.isDigit(d) {
            advance()
            while let c = peek(), Lexer.isDigit(c) || c == UInt8(ascii: "_") { advance() }
        } else if peek() == UInt8(ascii: ".") {
            advance()
            diagnostics.append(Diagnostic(
                .malformedNumber, at: location, "a decimal point must be followed by digits",
                help: "write '1.0' or '1', not '1.'"))
        }
        if let c = peek(), Lexer.isWordStart(c) {
            // A unit glued to the number (`10ms`) is accepted: the word is lexed as the next token.
            return
        }
    }
}
