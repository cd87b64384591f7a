import CNcurses
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Puts the terminal back on every way out: a normal quit, every signal whose default action ends
/// the process (SIGINT, SIGTERM, SIGHUP on an SSH drop, SIGUSR1/2, SIGALRM, the real-time ones...)
/// and fatal signals (a Swift trap is SIGILL/SIGTRAP). SIGPIPE is ignored: a write to a closed
/// connection must fail with an error, not end the console.
///
/// Quit signals only set a flag; the event loop sees it within one poll and leaves through the
/// normal path, which calls `endwin()`. Fatal signals cannot return, so their handler restores the
/// saved termios and writes the reset sequence with async-signal-safe calls only, then re-raises
/// the signal with its default action so the exit status stays honest.
enum TerminalGuard {
    /// The quit signal received, or 0.
    static let pendingSignal = Atomic<Int32>(0)

    // Written once in `install()` before any handler can run, read only by the fatal handler.
    nonisolated(unsafe) private static var saved = termios()
    nonisolated(unsafe) private static var haveSaved = false
    private static let reset: StaticString = "\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l\r\n"

    static func install() {
        haveSaved = tcgetattr(STDIN_FILENO, &saved) == 0
        for sig in quitSignals {
            signal(sig) { s in TerminalGuard.pendingSignal.store(s, ordering: .relaxed) }
        }
        signal(SIGPIPE, SIG_IGN)
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGSYS] {
            signal(sig) { s in TerminalGuard.fatal(s) }
        }
    }

    private static func fatal(_ sig: Int32) {
        if haveSaved { _ = tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        reset.withUTF8Buffer { _ = write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        signal(sig, SIG_DFL)
        raise(sig)
    }

    /// Every signal whose default action is to end the process, but for the fatal ones above and
    /// SIGPIPE: each leaves through the normal path, which restores the terminal.
    static var quitSignals: [Int32] {
        [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGSTKFLT, SIGIO, SIGPWR]
            + Array(__libc_current_sigrtmin()...__libc_current_sigrtmax())
    }

    /// Conventional exit status for a quit signal: 128 + signal number.
    static func exitStatus(for sig: Int32) -> Int32 { 128 + sig }
}
