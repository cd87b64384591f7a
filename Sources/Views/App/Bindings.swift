/// Key bindings declared as data. The footer and the `?` help overlay are generated from this
/// table, so what is shown is what is bound.
public enum Action: String, Sendable, CaseIterable {
    case up, down, pageUp, pageDown, top, bottom, sortNext, sortReverse, refresh, throttle, help, quit
}

public struct Binding: Sendable {
    public let keys: [Key]
    public let action: Action
    public let description: String
    /// Shown in the footer when set; the short form of `description`.
    public let hint: String?

    public init(_ keys: [Key], _ action: Action, _ description: String, hint: String? = nil) {
        self.keys = keys
        self.action = action
        self.description = description
        self.hint = hint
    }

    public var keyLabel: String { keys.map(\.label).joined(separator: "/") }
}

public enum Bindings {
    public static let overview: [Binding] = [
        Binding([.char("j"), .down], .down, "move down", hint: "move"),
        Binding([.char("k"), .up], .up, "move up"),
        Binding([.pageDown, .char(" ")], .pageDown, "page down"),
        Binding([.pageUp, .char("b")], .pageUp, "page up"),
        Binding([.char("g"), .home], .top, "first tenant"),
        Binding([.char("G"), .end], .bottom, "last tenant"),
        Binding([.char("s")], .sortNext, "sort by the next column", hint: "sort"),
        Binding([.char("S")], .sortReverse, "reverse the sort order", hint: "reverse"),
        Binding([.char("r")], .refresh, "refresh now", hint: "refresh"),
        Binding([.char("T")], .throttle, "throttle the selected tenant (all routes)", hint: "throttle"),
        Binding([.char("?")], .help, "show or hide this help", hint: "help"),
        Binding([.char("q"), .ctrlC], .quit, "quit", hint: "quit"),
    ]

    public static func action(for key: Key, in table: [Binding]) -> Action? {
        table.first { $0.keys.contains(key) }?.action
    }
}
