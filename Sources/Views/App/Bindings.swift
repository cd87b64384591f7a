/// Key bindings declared as data. Each screen lists its own, each with the reason it is disabled
/// right now; the footer and the `?` overlay are generated from the screen's list and the global
/// one, so what is shown is what is bound.
public enum Action: Hashable, Sendable {
    case up, down, pageUp, pageDown, top, bottom
    /// Drill into the selected row.
    case open
    case back, historyBack, historyForward
    case sortNext, sortReverse
    /// Focus the next pane of a screen with several.
    case nextPane
    case filter, command, help, quit, refresh, repaint
    case throttle, budget
    /// The keys screen of the tenant; a key's create, rotate and revoke.
    case keys, create, rotate, revoke
    /// The audit screen and the usage screen; following, filters and search matches in the audit.
    case audit, usage, pause, filterForm, nextMatch, previousMatch
}

public struct Binding: Sendable {
    public let keys: [Key]
    public let action: Action
    public let description: String
    /// Shown in the footer when set; the short form of `description`.
    public let hint: String?
    /// Why the binding does nothing now (read-only, role, nothing selected), or nil.
    public var disabled: String?

    public init(_ keys: [Key], _ action: Action, _ description: String, hint: String? = nil, disabled: String? = nil) {
        self.keys = keys
        self.action = action
        self.description = description
        self.hint = hint
        self.disabled = disabled
    }

    public var keyLabel: String { keys.map(\.label).joined(separator: "/") }
}

public enum Bindings {
    /// Moving through a table: every table screen starts its list with these.
    public static func table(_ noun: String) -> [Binding] {
        [
            Binding([.char("j"), .down], .down, "next \(noun)", hint: "move"),
            Binding([.char("k"), .up], .up, "previous \(noun)"),
            Binding([.pageDown, .char(" ")], .pageDown, "page down"),
            Binding([.pageUp], .pageUp, "page up"),
            Binding([.char("g"), .home], .top, "first \(noun)"),
            Binding([.char("G"), .end], .bottom, "last \(noun)"),
        ]
    }

    /// The bindings of every screen, after the screen's own.
    public static func global(_ nav: Navigation) -> [Binding] {
        let canGoBack = !nav.back.isEmpty, canGoForward = !nav.forward.isEmpty, filtering = nav.current.filter != nil
        let slash = switch nav.current.textFilter {
        case .none: Binding([.char("/")], .filter, "filter as you type", hint: "filter", disabled: "this screen has no table to filter")
        case .filter: Binding([.char("/")], .filter, "filter as you type (! negates)", hint: "filter")
        case .search: Binding([.char("/")], .filter, "search the loaded rows (highlights; n/N jump)", hint: "search")
        }
        return [
            slash,
            Binding([.char(":")], .command, "command mode", hint: "cmd"),
            Binding([.escape, .char("h")], .back, filtering ? "clear the filter" : "back", hint: canGoBack || filtering ? (filtering ? "clear" : "back") : nil,
                    disabled: canGoBack || filtering ? nil : "this is the first screen"),
            Binding([.char("[")], .historyBack, "back in history", disabled: canGoBack ? nil : "nothing before this screen"),
            Binding([.char("]")], .historyForward, "forward in history", disabled: canGoForward ? nil : "nothing after this screen"),
            Binding([.char("r")], .refresh, "refresh now"),
            Binding([.ctrl("l")], .repaint, "repaint the terminal"),
            Binding([.char("?")], .help, "these keys", hint: "help"),
            Binding([.char("q"), .ctrl("c")], .quit, "quit", hint: "quit"),
        ]
    }

    public static func find(_ key: Key, in table: [Binding]) -> Binding? {
        table.first { $0.keys.contains(key) }
    }
}
