import Backends
import CNcurses
import Foundation
import Views
#if canImport(Glibc)
import Glibc
#endif

/// The only code that talks to curses: key codes become `Key`s, and spans of cells are written
/// in their theme's style. Everything runs on the event loop's thread.
final class CursesDriver: TerminalDriver {
    private var pairs: [Theme.Style: Int32] = [:]
    private var theme: Theme
    let colors: Int

    init(theme: Theme) {
        setlocale(LC_ALL, "")
        // The screen is drawn in UTF-8 whatever the locale (as k9s and lazygit do): an SSH session
        // often arrives with no LANG at all, and in the C locale curses would print `‹` as `~@`.
        if String(cString: nl_langinfo(nl_item(CODESET))) != "UTF-8" { setlocale(LC_CTYPE, "C.UTF-8") }
        setenv("ESCDELAY", "25", 0)
        initscr()
        cbreak()
        noecho()
        nonl()
        keypad(tg_stdscr(), true)
        curs_set(0)
        if has_colors() {
            start_color()
            use_default_colors()
            colors = Int(tg_colors())
        } else {
            colors = 0
        }
        self.theme = theme.forTerminal(colors: colors)
    }

    func shutdown() { endwin() }

    var size: (width: Int, height: Int) { (Int(tg_cols()), Int(tg_lines())) }

    func setTheme(_ theme: Theme) {
        self.theme = theme.forTerminal(colors: colors)
        pairs = [:]
    }

    func copy(_ text: String) {
        let sequence = Array(("\u{1B}]52;c;" + Data(text.utf8).base64EncodedString() + "\u{07}").utf8)
        refresh()   // what curses holds goes first; the sequence moves no cursor and draws nothing
        sequence.withUnsafeBytes { _ = Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }

    func read(timeout: Double, wake: Int32) -> [TerminalInput] {
        var inputs = drain()
        if inputs.isEmpty, waitReadable([STDIN_FILENO, wake], timeout: timeout) {
            inputs = drain()
            // Readable with nothing to read: the terminal is gone (its window closed, the SSH
            // connection dropped) and no SIGHUP came, as when the hangup went to a session leader
            // that is not the console. End as a hangup does instead of spinning on it.
            if inputs.isEmpty && Self.terminalGone() { raise(SIGHUP) }
        }
        return inputs
    }

    private static func terminalGone() -> Bool {
        var p = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0 && p.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
    }

    /// Everything curses has or can read without waiting (it buffers what arrived in one read).
    private func drain() -> [TerminalInput] {
        timeout(0)
        var out: [TerminalInput] = []
        while out.count < 256 {
            var wch: wint_t = 0
            let rc = get_wch(&wch)
            if rc == ERR { break }
            if let input = Self.translate(rc: rc, wch) { out.append(input) }
        }
        return out
    }

    static func translate(rc: Int32, _ wch: wint_t) -> TerminalInput? {
        if rc == KEY_CODE_YES {
            switch Int32(wch) {
            case tg_key_resize(): return .resize
            case KEY_UP: return .key(.up)
            case KEY_DOWN: return .key(.down)
            case KEY_LEFT: return .key(.left)
            case KEY_RIGHT: return .key(.right)
            case KEY_NPAGE: return .key(.pageDown)
            case KEY_PPAGE: return .key(.pageUp)
            case KEY_HOME: return .key(.home)
            case KEY_END: return .key(.end)
            case KEY_ENTER: return .key(.enter)
            case KEY_BACKSPACE: return .key(.backspace)
            case KEY_DC: return .key(.delete)
            case KEY_BTAB: return .key(.backTab)
            default: return nil
            }
        }
        switch wch {
        case 0x1B: return .key(.escape)
        case 0x09: return .key(.tab)
        case 0x08, 0x7F: return .key(.backspace)
        case 0x0D, 0x0A: return .key(.enter)
        case 0x01...0x1A: return .key(.ctrl(Character(Unicode.Scalar(UInt8(wch) + 0x60))))
        default:
            guard let scalar = Unicode.Scalar(UInt32(wch)), !SafeText.isUnsafe(scalar) else { return nil }
            return .key(.char(Character(scalar)))
        }
    }

    func apply(_ spans: [Span], full: Bool) {
        if full { clear() }   // and repaint the whole terminal on the next refresh
        let (width, height) = size
        for span in spans where span.y < height {
            var text = span.text
            // The bottom-right cell makes curses scroll or fail: it is never written.
            if span.y == height - 1 && span.x + span.width >= width {
                guard span.width > 1 else { continue }
                text = String(text.dropLast())
            }
            _ = tg_attrset(attributes(for: span.role))
            _ = mvaddstr(Int32(span.y), Int32(span.x), text)
        }
        refresh()
    }

    private func attributes(for role: Role) -> UInt32 {
        let style = theme.style(role)
        var attrs = tg_a_normal()
        if style.bold { attrs |= tg_a_bold() }
        if style.reverse { attrs |= tg_a_reverse() }
        if style.underline { attrs |= tg_a_underline() }
        if style.dim { attrs |= tg_a_dim() }
        if style.fg != .terminalDefault || style.bg != .terminalDefault, colors > 0 {
            attrs |= UInt32(bitPattern: tg_color_pair(pair(for: style)))
        }
        return attrs
    }

    private func pair(for style: Theme.Style) -> Int32 {
        var key = Theme.Style()
        key.fg = style.fg
        key.bg = style.bg
        if let p = pairs[key] { return p }
        let p = Int32(pairs.count + 1)
        func number(_ c: Theme.Color) -> Int16 { if case .index(let i) = c { Int16(i) } else { -1 } }
        init_pair(Int16(p), number(style.fg), number(style.bg))
        pairs[key] = p
        return p
    }
}
