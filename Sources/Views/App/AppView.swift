import Backends

/// Draws the whole console into a grid. Pure: the same model always gives the same grid.
public enum AppView {
    public static func render(_ app: AppModel) -> Grid {
        var grid = Grid(width: app.width, height: app.height)
        if app.tooSmall {
            drawTooSmall(app, into: &grid)
            return grid
        }
        drawHeader(app, into: &grid)
        OverviewView.draw(app.overview, into: &grid, area: Rect(x: 0, y: 1, width: app.width, height: app.height - 2))
        drawFooter(app, into: &grid)
        if app.showHelp { drawHelp(Bindings.overview, into: &grid) }
        app.dialog?.draw(into: &grid)
        return grid
    }

    static func drawHeader(_ app: AppModel, into grid: inout Grid) {
        grid.fill(Rect(x: 0, y: 0, width: grid.width, height: 1), role: .bar)
        // The right side (freshness) matters most on call: it is placed first, the rest is clipped.
        let right: String
        let rightRole: Role
        if let err = app.lastError {
            let age = app.dataAge.map { "data \(Format.duration($0)) old" } ?? "no data"
            right = "STALE (\(age)): \(err.message) "
            rightRole = .error
        } else if let age = app.dataAge {
            right = "updated \(Format.duration(age)) ago "
            rightRole = .bar
        } else {
            right = "loading… "
            rightRole = .bar
        }
        let rightWidth = min(DisplayWidth.of(SafeText.clean(right)), grid.width / 2)
        let rightX = grid.width - rightWidth
        grid.put(Fit.text(right, rightWidth), x: rightX, y: 0, role: rightRole, maxWidth: rightWidth)

        let x = grid.put(" tollgate ", x: 0, y: 0, role: .title)
        var parts = [app.source] + app.badges
        if let s = app.overview.snapshot {
            parts.append("\(s.tenants.count) tenants")
            let denying = s.tenants.filter { $0.denied > 0 }.count
            if denying > 0 { parts.append("\(denying) denying") }
            let exhausted = s.tenants.filter { $0.budget?.value?.level == .exhausted }.count
            if exhausted > 0 { parts.append("\(exhausted) out of budget") }
            if s.malformedTenantIDs > 0 { parts.append("\(s.malformedTenantIDs) malformed ids skipped") }
            if s.keyspaceProblem != nil {
                parts.append("SESS/CACHE counts failing")
            } else if s.keyspaceAsOf == nil {
                parts.append("SESS/CACHE counting")   // the first SCAN walk has not completed
            }
        }
        let room = max(0, rightX - x - 1)
        grid.put(Fit.text(" " + parts.joined(separator: " · "), room), x: x, y: 0, role: .bar, maxWidth: room)
    }

    static func drawFooter(_ app: AppModel, into grid: inout Grid) {
        let y = grid.height - 1
        grid.fill(Rect(x: 0, y: y, width: grid.width, height: 1), role: .bar)
        let count = app.overview.rows.count
        let position = app.overview.selectedIndex.map { "\($0 + 1)/\(count) " } ?? "0/\(count) "
        let room = grid.width - position.count - 1
        var x = 1
        if let flash = app.flash {
            grid.put(" " + flash.text, x: 0, y: y, role: flash.failed ? .error : .accent, maxWidth: room)
        } else {
            for b in Bindings.overview {
                guard let hint = b.hint else { continue }
                let keys = b.action == .down ? "j/k" : b.keys[0].label
                let refused = b.action == .throttle && app.actionsRefused != nil
                if x + keys.count + hint.count + (refused ? 6 : 0) + 1 > room { break }
                x += grid.put(keys, x: x, y: y, role: refused ? .dim : .accent)
                x += grid.put(" \(hint)\(refused ? " (off)" : "")  ", x: x, y: y, role: refused ? .dim : .bar)
            }
        }
        grid.put(position, x: grid.width - position.count, y: y, role: .bar)
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
            grid.put(line, x: x, y: top + i, role: i == 0 ? .warn : .normal)
        }
    }

    static func drawHelp(_ bindings: [Binding], into grid: inout Grid) {
        let keyWidth = bindings.map { DisplayWidth.of($0.keyLabel) }.max() ?? 4
        let descWidth = bindings.map { $0.description.count }.max() ?? 10
        let w = min(grid.width - 4, keyWidth + descWidth + 7)
        let h = min(grid.height - 2, bindings.count + 4)
        let x0 = (grid.width - w) / 2, y0 = (grid.height - h) / 2
        grid.fill(Rect(x: x0, y: y0, width: w, height: h), role: .normal)
        grid.put("─" + String(repeating: "─", count: max(0, w - 2)) + "─", x: x0, y: y0, role: .accent)
        grid.put(" help: overview ", x: x0 + 2, y: y0, role: .title)
        for (i, b) in bindings.enumerated() where i + 2 < h - 1 {
            grid.put(Fit.text(b.keyLabel, keyWidth, .right), x: x0 + 2, y: y0 + 2 + i, role: .accent)
            grid.put(b.description, x: x0 + 4 + keyWidth, y: y0 + 2 + i, role: .normal, maxWidth: w - keyWidth - 6)
        }
        grid.put(String(repeating: "─", count: w), x: x0, y: y0 + h - 1, role: .accent)
        grid.put(" any key closes ", x: x0 + 2, y: y0 + h - 1, role: .dim)
    }
}
