/// The screens the console went through: back, the current one, forward (after going back).
/// Opening a screen drops what was forward, as a browser does. The history is bounded.
public struct Navigation: Sendable {
    public private(set) var back: [any Screen] = []
    public var current: any Screen
    public private(set) var forward: [any Screen] = []
    public static let depth = 50

    public init(_ root: any Screen) { current = root }

    public mutating func push(_ screen: any Screen) {
        back.append(current)
        if back.count > Self.depth { back.removeFirst(back.count - Self.depth) }
        current = screen
        forward = []
    }

    public mutating func goBack() -> Bool {
        guard let previous = back.popLast() else { return false }
        forward.append(current)
        current = previous
        return true
    }

    public mutating func goForward() -> Bool {
        guard let next = forward.popLast() else { return false }
        back.append(current)
        current = next
        return true
    }
}

/// What sits on top of the current screen and takes keys before it does.
public enum Overlay: Sendable {
    case help
    case form(FormDialog)
    case notice(Notice)
    case command(CommandPrompt)
    case filter(FilterPrompt)
    case secret(SecretNotice)
}
