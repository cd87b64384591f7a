import Backends

/// A key as the view layer sees it; a terminal driver translates what the terminal sends.
public enum Key: Hashable, Sendable {
    case char(Character)
    /// Control and a letter, `ctrl("c")` for ^C. Tab, Enter and Backspace have their own cases.
    case ctrl(Character)
    case up, down, left, right, pageUp, pageDown, home, end, enter, escape, tab, backTab, backspace, delete

    public var label: String {
        switch self {
        case .char(" "): "Space"
        case .char(let c): String(c)
        case .ctrl(let c): "^" + c.uppercased()
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .enter: "Enter"
        case .escape: "Esc"
        case .tab: "Tab"
        case .backTab: "S-Tab"
        case .backspace: "Backspace"
        case .delete: "Del"
        }
    }
}

/// Everything that reaches the event loop: keys, backend results, clock ticks, resizes.
public enum Msg: Sendable {
    case key(Key)
    case tick(Double)
    case resize(width: Int, height: Int)
    /// A live read the current screen asked for (`Screen.needs`) answered.
    case loaded(Feed, Loaded)
    /// A live read failed; the last data stays on screen, marked stale.
    case failed(Feed, String, at: Double)
    /// A fleet table's rows sorted and filtered off the UI thread (`Effect.arrange`).
    case arranged(FleetArrangement)
    /// The outcome of an action the model asked for.
    case actionFinished(ActionRequest, Result<ActionOutcome, BackendError>)
    /// A theme or a context is in use now, or could not be.
    case themeChanged(String)
    case contextChanged(SessionInfo)
    case refused(String)
}

/// What the loop must do after an update. I/O and work proportional to the fleet happen here,
/// never in the model; results come back as messages.
public enum Effect: Sendable {
    case quit
    /// Read every live feed of the current screen now.
    case refresh
    /// Forget what is on the terminal and draw everything again.
    case repaint
    /// Carry out an operator action through the action layer; the result comes back as `.actionFinished`.
    case perform(ActionRequest)
    /// Sort and filter a fleet snapshot for a table; comes back as `.arranged`.
    case arrange(FleetDigest, ArrangeSpec)
    /// Load a theme by name (built in, or a file that overrides it); `.themeChanged` or `.refused`.
    case theme(String)
    /// Switch to another context of the config file; `.contextChanged` or `.refused`.
    case context(String)
    /// Put text on the terminal's clipboard (OSC 52): a new key's secret, at the operator's `y`.
    case copy(String)
    /// Read a feed once (a page of older audit events); comes back as `.loaded`.
    case readOnce(Feed)
    /// Audit a read the policy refused (command mode asked for a tenant or a pane the operator
    /// may not see): the session's read guard writes it, as for the CLI.
    case auditRefusal(ReadKind, TenantID)
}
