// A minimal JSON object writer for the reports of this module (real-time setup, histogram
// summaries). Keys are written in insertion order, so output is deterministic. Not for hot paths.

enum JSONText {
    struct Object {
        private var members: [String] = []

        mutating func addRaw(_ key: String, _ rawValue: String) {
            members.append(JSONText.quoted(key) + ": " + rawValue)
        }
        mutating func add(_ key: String, _ value: String?) { addRaw(key, value.map(JSONText.quoted) ?? "null") }
        mutating func add(_ key: String, _ value: Int64?) { addRaw(key, value.map { String($0) } ?? "null") }
        mutating func add(_ key: String, _ value: UInt64?) { addRaw(key, value.map { String($0) } ?? "null") }
        mutating func add(_ key: String, _ value: Bool) { addRaw(key, value ? "true" : "false") }

        var text: String { "{" + members.joined(separator: ", ") + "}" }
    }

    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
