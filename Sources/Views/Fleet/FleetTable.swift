import Backends

/// The widget state of a fleet table, kept apart from its rows: the columns, how the rows are
/// wanted (sort, filter), the selection by tenant id (so it survives refreshes and re-sorts) and
/// the scroll offset. Rows come as arrangements built off the UI thread; every method here costs
/// the same for 40 tenants as for 100,000.
public struct FleetTable: Sendable {
    public let columns: [(TenantColumn, Int)]
    public private(set) var spec: ArrangeSpec
    /// What is drawn: the newest arrangement that matches `spec`.
    public private(set) var shown: FleetArrangement?
    /// The newest digest received; arranged again when the spec changes.
    public private(set) var latest: FleetDigest?
    public private(set) var selected: TenantID?
    public private(set) var offset = 0

    public init(columns: [(TenantColumn, Int)], spec: ArrangeSpec) {
        self.columns = columns
        self.spec = spec
    }

    /// A new digest: ask for it to be arranged, unless it is not newer than what is held.
    public mutating func receive(_ digest: FleetDigest) -> Effect? {
        guard digest.generation > (latest?.generation ?? 0) else { return nil }
        latest = digest
        return .arrange(digest, spec)
    }

    /// Takes an arrangement made for the current spec and a digest at least as new as the one
    /// shown; keeps the selected tenant, or the row it was on when it went away.
    @discardableResult
    public mutating func accept(_ a: FleetArrangement) -> Bool {
        guard a.spec == spec, a.digest.generation >= (shown?.digest.generation ?? 0) else { return false }
        let previousRow = selectedRow
        shown = a
        if a.count == 0 {
            selected = nil
            offset = 0
        } else if selected.flatMap(a.row(of:)) == nil {
            selected = a.row(at: min(previousRow ?? 0, a.count - 1)).tenant.id
        }
        return true
    }

    /// Sort differently: the arrangement to ask for.
    public mutating func sort(by column: TenantColumn, descending: Bool) -> Effect? {
        spec.sort = column
        spec.descending = descending
        return latest.map { .arrange($0, spec) }
    }

    /// Filter differently (nil: no filter): the arrangement to ask for.
    public mutating func filter(_ filter: TenantFilter?) -> Effect? {
        spec.filter = filter
        return latest.map { .arrange($0, spec) }
    }

    /// `s`: the next of the table's columns, in its first direction.
    public mutating func sortNext() -> Effect? {
        let cols = columns.map(\.0)
        let next = cols[((cols.firstIndex(of: spec.sort) ?? -1) + 1) % cols.count]
        return sort(by: next, descending: next.descendingFirst)
    }

    public mutating func sortReverse() -> Effect? { sort(by: spec.sort, descending: !spec.descending) }

    public var count: Int { shown?.count ?? 0 }
    public var selectedRow: Int? { selected.flatMap { shown?.row(of: $0) } }
    public var selectedTenant: TenantState? { selectedRow.flatMap { shown?.row(at: $0).tenant } }

    /// Moves the selection by `delta` rows (clamped), scrolling so it stays within `visible` rows.
    public mutating func move(by delta: Int, visible: Int) {
        guard let shown, shown.count > 0 else { return }
        let row = max(0, min(shown.count - 1, (selectedRow ?? 0) + delta))
        selected = shown.row(at: row).tenant.id
        scroll(toShow: row, visible: visible)
    }

    public mutating func scroll(toShow row: Int, visible: Int) {
        guard visible > 0 else { offset = 0; return }
        if row < offset { offset = row }
        if row >= offset + visible { offset = row - visible + 1 }
        offset = max(0, min(offset, max(0, count - visible)))
    }

    /// Draws the header and the visible rows; `dim` greys every row (stale data).
    public func draw(into grid: inout Grid, area: Rect, now: Double, dim: Bool) {
        let layout = TenantColumn.layout(columns, width: area.width - 1)
        grid.fill(Rect(x: area.x, y: area.y, width: area.width, height: 1), role: .header)
        var x = area.x + 1
        for (col, w) in layout {
            var title = col.title
            if col == spec.sort {
                // The arrow takes the title's last letter when the column has no room for it.
                if DisplayWidth.of(title) + 1 > w { title = String(title.dropLast()) }
                title += spec.descending ? "▼" : "▲"
            }
            grid.put(Fit.text(title, w, col.align), x: x, y: area.y, role: .header)
            x += w + 1
        }
        let body = Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 1)
        guard let shown else {
            grid.put(latest == nil ? "waiting for the first refresh…" : "sorting…", x: body.x + 2, y: body.y + 1, role: .dim)
            return
        }
        if shown.count == 0 {
            let why = spec.filter.map { "no tenant matches \(SafeText.quoted($0.text))" } ?? "no tenants found"
            grid.put(why, x: body.x + 2, y: body.y + 1, role: .dim)
            return
        }
        let selectedRow = self.selectedRow
        let top = min(offset, max(0, shown.count - 1))
        for i in top..<min(shown.count, top + body.height) {
            let y = body.y + i - top
            let row = shown.row(at: i)
            var x = body.x + 1
            for (col, w) in layout {
                let (text, role) = col.cell(row, width: w, now: now)
                grid.put(Fit.text(text, w, col.align), x: x, y: y, role: dim ? .dim : role)
                x += w + 1
            }
            if i == selectedRow { grid.paint(Rect(x: body.x, y: y, width: body.width, height: 1), role: .selected) }
        }
    }
}
