import TOMLKit

/// How each role looks: colours and attributes, loaded from a theme file (themes/*.toml).
///
/// Schema (docs/themes.md): a top-level `name`, and a `[roles.ROLE]` table per role with `fg` and
/// `bg` (a colour name: default black red green yellow blue magenta cyan white, or 0-255) and
/// `attrs` (any of bold, reverse, underline, dim). Roles a file leaves out fall back to plain text.
public struct Theme: Equatable, Sendable {
    public enum Color: Equatable, Hashable, Sendable {
        case terminalDefault
        case index(Int)  // 0-255
    }

    public struct Style: Equatable, Hashable, Sendable {
        public var fg: Color = .terminalDefault
        public var bg: Color = .terminalDefault
        public var bold = false, reverse = false, underline = false, dim = false
        public init() {}
    }

    public var name: String
    public var styles: [Role: Style]

    public init(name: String, styles: [Role: Style]) {
        self.name = name
        self.styles = styles
    }

    public func style(_ role: Role) -> Style { styles[role] ?? Style() }

    /// Needs no file and no colour: used when no theme file can be found, and on terminals
    /// without colours.
    public static let monochrome: Theme = {
        var s: [Role: Style] = [:]
        var reverse = Style(); reverse.reverse = true
        var bold = Style(); bold.bold = true
        var dim = Style(); dim.dim = true
        var underline = Style(); underline.underline = true
        s[.bar] = reverse; s[.title] = reverse; s[.selected] = reverse; s[.header] = underline
        s[.bad] = bold; s[.error] = bold; s[.accent] = bold; s[.dim] = dim
        var titleBold = reverse; titleBold.bold = true
        s[.title] = titleBold
        return Theme(name: "mono", styles: s)
    }()

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    static let colorNames = ["black": 0, "red": 1, "green": 2, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7]

    /// Parses a theme file's text. Unknown roles, colours or attributes are errors naming the value.
    public static func parse(_ text: String, source: String) throws(ParseError) -> Theme {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch {
            throw ParseError(description: "\(source): not valid TOML: \(error)")
        }
        let name = table["name"]?.string ?? source
        var styles: [Role: Style] = [:]
        guard let roles = table["roles"]?.table else {
            throw ParseError(description: "\(source): missing [roles.*] tables")
        }
        for (key, value) in roles {
            guard let role = Role(rawValue: key) else {
                throw ParseError(description: "\(source): unknown role \(SafeTextQuote(key)); roles are \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let t = value.table else { throw ParseError(description: "\(source): roles.\(key) must be a table") }
            var style = Style()
            style.fg = try color(t["fg"], "\(source): roles.\(key).fg")
            style.bg = try color(t["bg"], "\(source): roles.\(key).bg")
            for attr in t["attrs"]?.array ?? TOMLArray() {
                switch attr.string {
                case "bold": style.bold = true
                case "reverse": style.reverse = true
                case "underline": style.underline = true
                case "dim": style.dim = true
                default:
                    throw ParseError(description: "\(source): roles.\(key).attrs: unknown attribute \(SafeTextQuote(attr.debugDescription)); use bold, reverse, underline, dim")
                }
            }
            styles[role] = style
        }
        return Theme(name: name, styles: styles)
    }

    private static func color(_ value: TOMLValueConvertible?, _ at: String) throws(ParseError) -> Color {
        guard let value else { return .terminalDefault }
        if let i = value.int {
            guard (0...255).contains(i) else { throw ParseError(description: "\(at): colour \(i) is out of range 0-255") }
            return .index(i)
        }
        if let s = value.string {
            if s == "default" { return .terminalDefault }
            if let i = colorNames[s] { return .index(i) }
            throw ParseError(description: "\(at): unknown colour \(SafeTextQuote(s)); use default, \(colorNames.keys.sorted().joined(separator: ", ")) or 0-255")
        }
        throw ParseError(description: "\(at): a colour must be a name or a number 0-255")
    }
}

import Backends
private func SafeTextQuote(_ s: String) -> String { SafeText.quoted(s) }
