import Backends

/// A key as the view layer sees it; the curses driver translates key codes into these.
public enum Key: Hashable, Sendable {
    case char(Character)
    case up, down, left, right, pageUp, pageDown, home, end, enter, escape, ctrlC, tab, backspace

    public var label: String {
        switch self {
        case .char(" "): "Space"
        case .char(let c): String(c)
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
        case .ctrlC: "^C"
        case .tab: "Tab"
        case .backspace: "Backspace"
        }
    }
}

/// Everything that reaches the event loop: keys, backend results, clock ticks, resizes.
public enum Msg: Sendable {
    case key(Key)
    case fleet(FleetSnapshot)
    case fleetFailed(String, at: Double)
    case tick(Double)
    case resize(width: Int, height: Int)
    /// The outcome of an action the model asked for: a line for the status bar.
    case actionFinished(String, failed: Bool)
}

/// What the loop must do after an update. I/O happens here, never in the model.
public enum Effect: Equatable, Sendable {
    case quit
    case refreshNow
    /// Carry out an operator action through the action layer; the result comes back as `.actionFinished`.
    case perform(ActionRequest)
}
