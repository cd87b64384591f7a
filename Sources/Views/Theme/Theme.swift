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

    /// The themes compiled into the binary from `themes/*.toml` (the EmbedThemes plugin).
    public static var builtinNames: [String] { BuiltinThemes.files.keys.sorted() }

    /// A built-in theme by name, or nil when there is none of that name.
    public static func builtin(_ name: String) throws(ParseError) -> Theme? {
        guard let text = BuiltinThemes.files[name] else { return nil }
        return try parse(text, source: "built-in theme \(name)")
    }

    /// The monochrome theme, for terminals without colour and for NO_COLOR. A test proves the
    /// shipped file parses.
    public static var mono: Theme { (try? builtin("mono")) ?? Theme(name: "mono", styles: [:]) }

    /// This theme as a terminal with `colors` colours can show it: unchanged with enough
    /// colours; with 8 to 255, text colours become the nearest of the 8 basic ones and roles drawn
    /// on a background colour (bars, the selection) take the monochrome theme's attributes; with
    /// fewer than 8, the monochrome theme.
    public func forTerminal(colors: Int) -> Theme {
        let top = styles.values.flatMap { [$0.fg, $0.bg] }.compactMap { c -> Int? in if case .index(let i) = c { i } else { nil } }.max() ?? -1
        if top < colors { return self }
        let mono = Theme.mono
        guard colors >= 8 else { return mono }
        var out: [Role: Style] = [:]
        for (role, style) in styles {
            if style.bg != .terminalDefault { out[role] = mono.style(role); continue }
            var s = style
            if case .index(let i) = style.fg {
                s.fg = .index(Self.nearestBasic(i))
                if Self.isMidGray(i) { s.dim = true }   // grey text stays quieter than normal text
            }
            out[role] = s
        }
        return Theme(name: name, styles: out)
    }

    static func isMidGray(_ index: Int) -> Bool { (index >= 240 && index <= 250) || index == 8 }

    /// The nearest of the 8 basic colours to a colour of the xterm 256-colour palette.
    static func nearestBasic(_ index: Int) -> Int {
        if index < 8 { return index }
        if index < 16 { return index - 8 }
        let rgb: (Int, Int, Int)
        if index >= 232 {
            let v = 8 + (index - 232) * 10
            rgb = (v, v, v)
        } else {
            let levels = [0, 95, 135, 175, 215, 255], c = index - 16
            rgb = (levels[c / 36], levels[c / 6 % 6], levels[c % 6])
        }
        // Greys become black or white: the nearest hue of a grey means nothing.
        if max(rgb.0, rgb.1, rgb.2) - min(rgb.0, rgb.1, rgb.2) < 40 { return (rgb.0 + rgb.1 + rgb.2) / 3 < 100 ? 0 : 7 }
        let basic = [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229)]
        func distance(_ a: (Int, Int, Int)) -> Int { (a.0 - rgb.0) * (a.0 - rgb.0) + (a.1 - rgb.1) * (a.1 - rgb.1) + (a.2 - rgb.2) * (a.2 - rgb.2) }
        return basic.indices.min { distance(basic[$0]) < distance(basic[$1]) }!
    }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    static let colorNames = ["black": 0, "red": 1, "green": 2, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7]

    /// Parses a theme file's text. Unknown roles, colours or attributes are errors naming the value.
    public static func parse(_ text: String, source: String) throws(ParseError) -> Theme {
        let table: TOMLTable
        switch TOMLText.table(text) {
        case .success(let t): table = t
        case .failure(let error): throw ParseError(description: "\(source): not valid TOML: \(error)")
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
