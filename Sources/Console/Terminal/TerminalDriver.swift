import Backends
import Views
#if canImport(Glibc)
import Glibc
#endif

/// What the event loop needs of a terminal: its size, input, and spans of cells to write. The
/// curses driver is one; the headless terminal of the keypress tests is another; a session served
/// over SSH would be a third, writing to its channel.
protocol TerminalDriver: AnyObject {
    var size: (width: Int, height: Int) { get }
    /// Waits up to `timeout` seconds for input, returning early when `wake` (a file descriptor)
    /// becomes readable; returns everything that arrived.
    func read(timeout: Double, wake: Int32) -> [TerminalInput]
    /// Writes spans from `Grid.diff`; `full` clears the terminal first.
    func apply(_ spans: [Span], full: Bool)
    func setTheme(_ theme: Theme)
    /// Puts `text` on the terminal's clipboard (OSC 52), where the terminal allows it. Nothing is
    /// drawn and nothing is kept.
    func copy(_ text: String)
    /// How many colours the terminal shows.
    var colors: Int { get }
}

enum TerminalInput: Equatable {
    case key(Key)
    case resize
}

/// Waits until one of `fds` is readable or `timeout` seconds pass; true when one is readable.
@discardableResult
func waitReadable(_ fds: [Int32], timeout: Double) -> Bool {
    var polls = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
    let ms = Int32(max(0, min(timeout, 60)) * 1000)
    return poll(&polls, nfds_t(polls.count), ms) > 0
}
