import Backends
import TOMLKit

/// TOML text parsed by TOMLKit, for theme files and the config file, with one guard in front:
/// the toml++ that TOMLKit bundles aborts the process (an assertion, in release builds too) on a
/// table header whose first key starts with a character that is neither bare nor a quote, such as
/// `[é]` or `[ #]` (found by Tests/ViewsTests/PropertyTests.swift). Such a header is refused here
/// with the line it is on.
public enum TOMLText {
    /// The table, or a message naming the problem, sanitised.
    public static func table(_ text: String) -> Result<TOMLTable, TOMLTextError> {
        if let line = unsafeHeaderLine(text) {
            return .failure(TOMLTextError("line \(line): a table header must start with a bare key (A-Z a-z 0-9 _ -) or a quoted one"))
        }
        do { return .success(try TOMLTable(string: text)) } catch {
            return .failure(TOMLTextError(SafeText.clean("\(error)")))
        }
    }

    /// The first line (1-based) holding `[` or `[[` then optional blanks, then the line's end or a
    /// character that is none of bare-key characters, quotes or `]`.
    static func unsafeHeaderLine(_ text: String) -> Int? {
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = line.drop { $0 == " " || $0 == "\t" }
            guard rest.first == "[" else { continue }
            rest = rest.dropFirst()
            if rest.first == "[" { rest = rest.dropFirst() }
            rest = rest.drop { $0 == " " || $0 == "\t" }
            // The line's end is no better: the parser reads the next line's first character as the key's.
            guard let c = rest.unicodeScalars.first else { return number + 1 }
            let ok = (c.value >= 0x41 && c.value <= 0x5A) || (c.value >= 0x61 && c.value <= 0x7A) || (c.value >= 0x30 && c.value <= 0x39)
                || c == "_" || c == "-" || c == "\"" || c == "'" || c == "]"
            if !ok { return number + 1 }
        }
        return nil
    }
}

public struct TOMLTextError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
