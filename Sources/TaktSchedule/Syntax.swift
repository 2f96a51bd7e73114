// The syntax tree of a schedule file, before names and units are resolved.
//
// The grammar (Docs/schedule-format.md) is deliberately uniform: every declaration is a keyword,
// a name and a block of `key = value` properties, and `mode` blocks may nest `slot` and `task`
// declarations. What each key means and which value it takes is decided by the elaborator, so
// the parser stays small and every error points at a token.

/// A value on the right of `=`.
public enum SyntaxValue: Sendable, Equatable {
    /// `10 ms`, `100 ppm`, `2 rounds`, or a bare count such as `3` (unit is nil).
    case quantity(number: Token, unit: Token?)
    /// `a`, `yes`, `a, b, c`.
    case names([Token])
    /// `sense -> control -> act`.
    case path([Token])

    public var location: SourceLocation {
        switch self {
        case .quantity(let number, _): return number.location
        case .names(let names): return names.first?.location ?? .startOfFile
        case .path(let names): return names.first?.location ?? .startOfFile
        }
    }
}

public struct SyntaxProperty: Sendable, Equatable {
    public var key: Token
    public var value: SyntaxValue
}

public struct SyntaxDeclaration: Sendable, Equatable {
    /// `cluster`, `node`, `slot`, `message`, `task`, `chain` or `mode`.
    public var keyword: Token
    public var name: Token
    public var properties: [SyntaxProperty]
    /// Only in `mode` blocks: nested `slot` and `task` declarations.
    public var children: [SyntaxDeclaration]
}

public struct SyntaxFile: Sendable, Equatable {
    public var declarations: [SyntaxDeclaration]
}
