import Backends

/// Draws the overview table: column header, rows, selection bar.
public enum OverviewView {
    public static func draw(_ model: OverviewModel, into grid: inout Grid, area: Rect) {
        let layout = OverviewColumn.layout(width: area.width - 1)
        grid.fill(Rect(x: area.x, y: area.y, width: area.width, height: 1), role: .header)
        var x = area.x + 1
        for (col, w) in layout {
            var title = col.title
            if col == model.sortColumn { title += model.descending ? "▼" : "▲" }
            grid.put(Fit.text(title, w, col.align), x: x, y: area.y, role: .header)
            x += w + 1
        }

        let bodyTop = area.y + 1
        let bodyHeight = area.height - 1
        if model.snapshot == nil {
            grid.put("waiting for the first refresh…", x: area.x + 2, y: bodyTop + 1, role: .dim)
            return
        }
        if model.rows.isEmpty {
            grid.put("no tenants found", x: area.x + 2, y: bodyTop + 1, role: .dim)
            return
        }
        let selected = model.selectedIndex
        for (i, tenant) in model.rows.dropFirst(model.table.offset).prefix(bodyHeight).enumerated() {
            let y = bodyTop + i
            var x = area.x + 1
            for (col, w) in layout {
                let (text, role) = col.cell(tenant)
                grid.put(Fit.text(text, w, col.align), x: x, y: y, role: role)
                x += w + 1
            }
            if model.table.offset + i == selected {
                grid.paint(Rect(x: area.x, y: y, width: area.width, height: 1), role: .selected)
            }
        }
    }
}
