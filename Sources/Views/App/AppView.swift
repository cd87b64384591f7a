import Backends

/// Draws the whole console into a grid: two header lines, the current screen, the footer, and
/// the overlay on top. Pure: the same model always gives the same grid. Only the screen's visible
/// rows are touched; nothing here walks the fleet.
public enum AppView {
    public static func render(_ app: AppModel) -> Grid {
        var grid = Grid(width: app.width, height: app.height)
        if app.tooSmall {
            drawTooSmall(app, into: &grid)
            return grid
        }
        let env = app.env
        drawHeader(app, env, into: &grid)
        app.nav.current.draw(into: &grid, area: app.screenArea, env)
        drawFooter(app, env, into: &grid)
        switch app.overlay {
        case nil: break
        case .help: drawHelp(app, env, into: &grid)
        case .form(let d): d.draw(into: &grid)
        case .notice(let n): n.draw(into: &grid)
        case .command(let p): p.draw(into: &grid)
        case .filter(let p): p.draw(into: &grid)
        case .secret(let s): s.draw(into: &grid)
        }
        return grid
    }

    // MARK: Header

    /// Line 1, a bar: where you are and who you are, and each store's state and data age (placed
    /// first: on call, freshness matters most). Line 2: the screen's own facts, in their colours.
    static func drawHeader(_ app: AppModel, _ env: ScreenEnv, into grid: inout Grid) {
        grid.fill(Rect(x: 0, y: 0, width: grid.width, height: 1), role: .bar)
        let stores = storeStates(app, env)
        var right: [(String, Role)] = []
        for (i, s) in stores.enumerated() { right.append((i == 0 ? "" : " · ", .bar)); right.append(s) }
        right.append((" ", .bar))
        let rightWidth = min(right.reduce(0) { $0 + DisplayWidth.of(SafeText.clean($1.0)) }, grid.width * 3 / 5)
        var rx = grid.width - rightWidth
        for (text, role) in right where rx < grid.width { rx += grid.put(text, x: rx, y: 0, role: role, maxWidth: grid.width - rx) }

        var x = grid.put(" tollgate ", x: 0, y: 0, role: .title)
        let room = grid.width - rightWidth - x - 1
        var left = " " + app.nav.current.title
        if let previous = app.nav.back.last { left += " ‹ " + previous.title }
        left += "  " + ([app.session.context.map { "ctx \($0)" }, app.session.operatorLabel,
                         app.session.policy.readonly ? "read-only" : nil].compactMap { $0 }).joined(separator: " · ")
        x += grid.put(Fit.text(left, max(0, room)), x: x, y: 0, role: .bar, maxWidth: max(0, room))

        var sx = 1
        for (i, part) in fitting(app.nav.current.summary(env), width: grid.width - 2).enumerated() where sx < grid.width - 1 {
            if i > 0 { sx += grid.put(" · ", x: sx, y: 1, role: .dim) }
            sx += grid.put(part.0, x: sx, y: 1, role: part.1, maxWidth: grid.width - sx - 1)
        }
    }

    /// The summary's parts for `width` columns: while an error would be cut off, the other parts
    /// (after the first) give way, the least telling first (plain, then warnings, then bad news)
    /// and from the end, so a narrow terminal still shows what is wrong.
    static func fitting(_ parts: [(String, Role)], width: Int) -> [(String, Role)] {
        let giveWay: [Role] = [.dim, .normal, .good, .accent, .warn, .bad]
        func errorCutOff(_ p: [(String, Role)]) -> Bool {
            var end = 0
            for part in p {
                end += DisplayWidth.of(part.0)
                if part.1 == .error && end > width { return true }
                end += 3   // " · "
            }
            return false
        }
        var kept = parts
        while errorCutOff(kept), let cut = giveWay.lazy.compactMap({ role in kept.indices.dropFirst().last { kept[$0].1 == role } }).first {
            kept.remove(at: cut)
        }
        return kept
    }

    /// `redis 0s`, `clickhouse off`, `redis STALE, data 12s old: connection refused`.
    static func storeStates(_ app: AppModel, _ env: ScreenEnv) -> [(String, Role)] {
        var out: [(String, Role)] = []
        for store in [Feed.Store.redis, .clickhouse] + (app.session.has(.keycloak) ? [.keycloak] : []) {
            let label = switch store {
            case .redis: app.session.liveStore
            case .clickhouse: app.session.auditStore ?? "clickhouse"
            case .keycloak: app.session.identityStore ?? "keycloak"
            }
            if store == .clickhouse && app.session.auditStore == nil { out.append(("clickhouse off", .dim)); continue }
            let needed = app.needs.filter { $0.store == store }
            let newest = app.feeds.filter { $0.key.store == store }.compactMap(\.value.lastOK).max()
            let age = newest.map { "\(Format.duration(env.now - $0))" }
            if let bad = needed.first(where: { env.isStale($0) }) {
                let why = env.status(bad).failure?.message
                out.append(("\(label) STALE, " + (age.map { "data \($0) old" } ?? "no data") + (why.map { ": \($0)" } ?? ""), .error))
            } else if needed.isEmpty {
                out.append(("\(label) idle" + (age.map { " \($0)" } ?? ""), .bar))
            } else {
                out.append(("\(label) " + (age ?? "loading…"), .bar))
            }
        }
        return out
    }

    // MARK: Footer

    /// The current screen's hints then the global ones, greyed with `(off)` when disabled; or the
    /// flash line; and the position on the right.
    static func drawFooter(_ app: AppModel, _ env: ScreenEnv, into grid: inout Grid) {
        let y = grid.height - 1
        grid.fill(Rect(x: 0, y: y, width: grid.width, height: 1), role: .bar)
        let position = app.nav.current.position(env).map { $0 + " " } ?? ""
        let room = grid.width - DisplayWidth.of(position) - 1
        if let flash = app.flash {
            grid.put(" " + flash.text, x: 0, y: y, role: flash.failed ? .error : .accent, maxWidth: room)
        } else {
            var x = 1
            let bindings = allBindings(app, env)
            // `? help` always shows: it leads to everything else.
            let help = bindings.first { $0.action == .help }
            let reserve = help.map { DisplayWidth.of($0.keys[0].label) + ($0.hint?.count ?? 0) + 3 } ?? 0
            func hint(_ b: Binding, room: Int) -> Bool {
                guard let hint = b.hint else { return true }
                var keys = b.keys[0].label
                if b.action == .down, let up = bindings.first(where: { $0.action == .up }) { keys += "/" + up.keys[0].label }
                let off = b.disabled != nil
                guard x + DisplayWidth.of(keys) + hint.count + (off ? 6 : 0) + 3 <= room else { return false }
                x += grid.put(keys, x: x, y: y, role: off ? .dim : .accent)
                x += grid.put(" \(hint)\(off ? " (off)" : "")  ", x: x, y: y, role: off ? .dim : .bar)
                return true
            }
            for b in bindings where b.action != .help {
                if !hint(b, room: room - reserve) { break }
            }
            if let help { _ = hint(help, room: room) }
        }
        grid.put(position, x: grid.width - DisplayWidth.of(position), y: y, role: .bar)
    }

    static func allBindings(_ app: AppModel, _ env: ScreenEnv) -> [Binding] {
        app.nav.current.bindings(env) + Bindings.global(app.nav)
    }

    // MARK: Help

    /// The screen's bindings beside the global ones, then command mode, then why what is off is
    /// off. Generated from the same lists that bind the keys.
    static func drawHelp(_ app: AppModel, _ env: ScreenEnv, into grid: inout Grid) {
        let screen = app.nav.current.bindings(env)
        let global = Bindings.global(app.nav)
        let w = grid.width < 100 ? grid.width : min(grid.width - 4, 150)
        let inner = w - 4, colWidth = (inner - 2) / 2
        let commands = Commands.all.map { spec -> (String, String) in
            (":" + spec.name + (spec.argument.map { ($0 == .tenant ? " T" : " NAME") } .map { spec.optional ? " [\($0.dropFirst())]" : $0 } ?? ""), spec.summary)
        }
        let half = (commands.count + 1) / 2
        let off = (screen + global).filter { $0.disabled != nil && $0.hint != nil }
        let offLines = off.flatMap { Wrap.lines("\($0.keyLabel) \($0.description): \($0.disabled!)", width: inner) }
        let rows = max(screen.count, global.count)
        let h = min(grid.height, 4 + 1 + rows + 2 + half + (offLines.isEmpty ? 0 : 2 + offLines.count))
        let box = Box.centered(in: grid, width: w, height: h)
        box.draw(into: &grid, title: "keys: \(app.nav.current.title)", footer: "any key closes")
        let x0 = box.rect.x + 2, x1 = x0 + colWidth + 2, bottom = box.rect.y + h - 1
        var y = box.rect.y + 2
        func line(_ key: String, _ text: String, x: Int, keyWidth: Int, off: Bool) {
            guard y < bottom else { return }
            grid.put(Fit.text(key, keyWidth), x: x, y: y, role: off ? .dim : .accent)
            grid.put(text + (off ? " (off)" : ""), x: x + keyWidth + 1, y: y, role: off ? .dim : .normal, maxWidth: colWidth - keyWidth - 1)
        }
        grid.put(app.nav.current.title.uppercased(), x: x0, y: y, role: .header, maxWidth: colWidth)
        grid.put("EVERY SCREEN", x: x1, y: y, role: .header, maxWidth: colWidth)
        y += 1
        let keyWidth = min(11, (screen + global).map { DisplayWidth.of($0.keyLabel) }.max() ?? 4)
        for i in 0..<rows {
            if i < screen.count { line(screen[i].keyLabel, screen[i].description, x: x0, keyWidth: keyWidth, off: screen[i].disabled != nil) }
            if i < global.count { line(global[i].keyLabel, global[i].description, x: x1, keyWidth: keyWidth, off: global[i].disabled != nil) }
            y += 1
        }
        y += 1
        if y < bottom { grid.put("COMMAND MODE (:, Tab completes, ↑↓ history)", x: x0, y: y, role: .header, maxWidth: inner) }
        y += 1
        for i in 0..<half {
            line(commands[i].0, commands[i].1, x: x0, keyWidth: keyWidth, off: false)
            if i + half < commands.count { line(commands[i + half].0, commands[i + half].1, x: x1, keyWidth: keyWidth, off: false) }
            y += 1
        }
        guard !offLines.isEmpty else { return }
        y += 1
        if y < bottom { grid.put("OFF NOW", x: x0, y: y, role: .header) }
        y += 1
        for l in offLines where y < bottom {
            grid.put(l, x: x0, y: y, role: .dim, maxWidth: inner)
            y += 1
        }
    }

    static func drawTooSmall(_ app: AppModel, into grid: inout Grid) {
        let lines = [
            "terminal too small",
            "\(app.width)x\(app.height), tollgate needs at least \(AppModel.minWidth)x\(AppModel.minHeight)",
            "enlarge the window, or press q to quit",
        ]
        let top = max(0, grid.height / 2 - 1)
        for (i, line) in lines.enumerated() where top + i < grid.height {
            let x = max(0, (grid.width - line.count) / 2)
            grid.put(line, x: x, y: top + i, role: i == 0 ? .warn : .normal, maxWidth: grid.width - x)
        }
    }
}
