/// The command line (`:`): typing, Tab completion from `Commands`, history with ↑ and ↓. An error
/// keeps the line open with the typed text, so a typo is mended rather than retyped.
public struct CommandPrompt: Equatable, Sendable {
    public private(set) var editor = LineEditor("", limit: 200)
    public private(set) var candidates: [String] = []
    public var error: String?
    private var historyIndex: Int?
    private var draft = ""

    public init() {}

    public enum Outcome: Equatable, Sendable { case editing, cancelled, run(String) }

    public mutating func handle(_ key: Key, history: [String], sources: Commands.Sources) -> Outcome {
        switch key {
        case .escape, .ctrl("c"): return .cancelled
        case .enter: return .run(editor.text)
        case .tab:
            let (text, candidates) = Commands.complete(editor.text, sources)
            editor.set(text)
            self.candidates = candidates
            error = nil
        case .up:
            guard !history.isEmpty else { break }
            if historyIndex == nil { draft = editor.text }
            let i = max(0, (historyIndex ?? history.count) - 1)
            historyIndex = i
            editor.set(history[i])
        case .down:
            guard let i = historyIndex else { break }
            if i + 1 < history.count {
                historyIndex = i + 1
                editor.set(history[i + 1])
            } else {
                historyIndex = nil
                editor.set(draft)
            }
        case .backspace where editor.text.isEmpty: return .cancelled
        default:
            if editor.handle(key) {
                candidates = []
                error = nil
            }
        }
        return .editing
    }

    /// The prompt on the bottom line, candidates or the error above it.
    public func draw(into grid: inout Grid) {
        let y = grid.height - 1
        grid.fill(Rect(x: 0, y: y, width: grid.width, height: 1), role: .normal)
        grid.put(":", x: 0, y: y, role: .accent)
        editor.draw(into: &grid, x: 1, y: y, width: grid.width - 2, role: .normal, focused: true)
        var above: [(String, Role)] = []
        if let error { above = Wrap.lines(error, width: grid.width - 2).map { ($0, .error) } }
        else if !candidates.isEmpty {
            let shown = candidates.prefix(60).joined(separator: "  ") + (candidates.count > 60 ? "  … \(candidates.count - 60) more" : "")
            above = Wrap.lines(shown, width: grid.width - 2).suffix(4).map { ($0, .accent) }
        }
        for (i, line) in above.reversed().enumerated() where y - 1 - i >= 0 {
            let row = y - 1 - i
            grid.fill(Rect(x: 0, y: row, width: grid.width, height: 1), role: .bar)
            grid.put(" " + line.0, x: 0, y: row, role: line.1 == .error ? .error : .bar, maxWidth: grid.width)
        }
    }
}

/// The filter line (`/`): what is typed filters the current table as it is typed. Enter keeps
/// the filter, Esc clears it.
public struct FilterPrompt: Equatable, Sendable {
    public private(set) var editor: LineEditor
    /// Searching highlights matches instead of hiding rows, and has no negation.
    public let searching: Bool

    public init(_ text: String, searching: Bool = false) {
        editor = LineEditor(text, limit: 100)
        self.searching = searching
    }

    public enum Outcome: Equatable, Sendable { case editing(changed: Bool), keep, clear }

    public mutating func handle(_ key: Key) -> Outcome {
        switch key {
        case .enter: return .keep
        case .escape, .ctrl("c"): return .clear
        case .backspace where editor.text.isEmpty: return .clear
        default:
            let before = editor.text
            _ = editor.handle(key)
            return .editing(changed: editor.text != before)
        }
    }

    public func draw(into grid: inout Grid) {
        let y = grid.height - 1
        grid.fill(Rect(x: 0, y: y, width: grid.width, height: 1), role: .normal)
        let help = searching ? "  Enter keep (n/N jump) · Esc clear" : "  Enter keep · Esc clear · ! negates"
        let room = grid.width - 1 - help.count
        grid.put("/", x: 0, y: y, role: .accent)
        editor.draw(into: &grid, x: 1, y: y, width: max(2, room), role: .normal, focused: true)
        if room > 10 { grid.put(help, x: grid.width - help.count - 1, y: y, role: .dim) }
    }
}
