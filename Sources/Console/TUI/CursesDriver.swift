import Backends
import CNcurses
import Views
#if canImport(Glibc)
import Glibc
#endif

/// The only code that talks to curses. It turns key codes into `Key`s and flushes a grid by
/// diffing it against the previous one: per row, only the span from the first to the last
/// changed cell is written, in runs of one style.
final class CursesDriver {
    private var previous: Grid?
    private var pairs: [Theme.Style: Int32] = [:]
    private let theme: Theme

    init(theme: Theme) {
        setlocale(LC_ALL, "")
        setenv("ESCDELAY", "25", 0)
        initscr()
        cbreak()
        noecho()
        nonl()
        keypad(tg_stdscr(), true)
        curs_set(0)
        timeout(100)
        var chosen = theme
        if has_colors() {
            start_color()
            use_default_colors()
            let maxIndex = theme.styles.values.flatMap { [$0.fg, $0.bg] }.compactMap { c -> Int? in
                if case .index(let i) = c { i } else { nil }
            }.max() ?? 0
            if maxIndex >= Int(tg_colors()) { chosen = .monochrome }
        } else {
            chosen = .monochrome
        }
        self.theme = chosen
    }

    func shutdown() {
        endwin()
    }

    var size: (width: Int, height: Int) { (Int(tg_cols()), Int(tg_lines())) }

    enum Input { case key(Key), resize, none }

    /// Waits up to the poll timeout for a key.
    func read() -> Input {
        var wch: wint_t = 0
        let rc = get_wch(&wch)
        if rc == ERR { return .none }
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
            default: return .none
            }
        }
        switch wch {
        case 0x1B: return .key(.escape)
        case 0x09: return .key(.tab)
        case 0x08, 0x7F: return .key(.backspace)
        case 0x0D, 0x0A: return .key(.enter)
        case 0x03: return .key(.ctrlC)
        default:
            guard let scalar = Unicode.Scalar(UInt32(wch)), !SafeText.isUnsafe(scalar) else { return .none }
            return .key(.char(Character(scalar)))
        }
    }

    /// Reads a key without waiting (used to drain a burst of resize events).
    func readNow() -> Input {
        timeout(0)
        defer { timeout(100) }
        return read()
    }

    /// Makes the next `draw` repaint everything (after a resize).
    func invalidate() {
        previous = nil
        clear()
    }

    func draw(_ grid: Grid) {
        let full = previous.map { $0.width != grid.width || $0.height != grid.height } ?? true
        if full { erase() }
        for y in 0..<grid.height {
            var first = -1, last = -1
            for x in 0..<grid.width where full || previous![x, y] != grid[x, y] {
                if first < 0 { first = x }
                last = x
            }
            guard first >= 0 else { continue }
            while first > 0 && grid[first, y].isContinuation { first -= 1 }
            if last + 1 < grid.width && grid[last + 1, y].isContinuation { last += 1 }
            // The bottom-right cell makes curses scroll or fail: it is never written.
            if y == grid.height - 1 { last = min(last, grid.width - 2) }
            if last >= first { writeSpan(grid, y: y, from: first, to: last) }
        }
        previous = grid
        refresh()
    }

    private func writeSpan(_ grid: Grid, y: Int, from: Int, to: Int) {
        var x = from
        while x <= to {
            let role = grid[x, y].role
            var text = ""
            let start = x
            while x <= to && grid[x, y].role == role {
                if !grid[x, y].isContinuation { text += grid[x, y].text }
                x += 1
            }
            _ = tg_attrset(attributes(for: role))
            _ = mvaddstr(Int32(y), Int32(start), text)
        }
    }

    private func attributes(for role: Role) -> UInt32 {
        let style = theme.style(role)
        var attrs = tg_a_normal()
        if style.bold { attrs |= tg_a_bold() }
        if style.reverse { attrs |= tg_a_reverse() }
        if style.underline { attrs |= tg_a_underline() }
        if style.dim { attrs |= tg_a_dim() }
        if style.fg != .terminalDefault || style.bg != .terminalDefault, has_colors() {
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

