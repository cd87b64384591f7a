import Synchronization
import Views
#if canImport(Glibc)
import Glibc
#endif

/// A terminal with no terminal: keys typed by a test, and a grid that mirrors what was written,
/// for keypress tests of the real event loop (docs/architecture.md).
final class HeadlessTerminal: TerminalDriver {
    private let pending = Mutex<[TerminalInput]>([])
    private(set) var screen: Grid
    let colors = 256

    init(width: Int, height: Int) { screen = Grid(width: width, height: height) }

    var size: (width: Int, height: Int) { (screen.width, screen.height) }

    func type(_ keys: [Key]) { pending.withLock { $0 += keys.map(TerminalInput.key) } }
    func type(_ text: String) { type(text.map(Key.char)) }

    func resize(width: Int, height: Int) {
        screen = Grid(width: width, height: height)
        pending.withLock { $0.append(.resize) }
    }

    var hasPendingInput: Bool { pending.withLock { !$0.isEmpty } }

    func read(timeout: Double, wake: Int32) -> [TerminalInput] {
        var inputs = pending.withLock { q in defer { q.removeAll() }; return q }
        if inputs.isEmpty {
            waitReadable([wake], timeout: timeout)
            inputs = pending.withLock { q in defer { q.removeAll() }; return q }
        }
        return inputs
    }

    func apply(_ spans: [Span], full: Bool) {
        if full { screen = Grid(width: screen.width, height: screen.height) }
        for s in spans { screen.put(s.text, x: s.x, y: s.y, role: s.role, maxWidth: s.width) }
    }

    func setTheme(_ theme: Theme) {}

    /// What `copy` was asked to put on the clipboard, for the tests.
    private(set) var clipboard: String?
    func copy(_ text: String) { clipboard = text }

    /// What a person would read on the screen now.
    var text: String { screen.text }
}
