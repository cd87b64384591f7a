import Backends

/// The tenant overview: the latest fleet snapshot, sorted rows, and the table's widget state.
public struct OverviewModel: Sendable {
    public private(set) var snapshot: FleetSnapshot?
    public private(set) var rows: [TenantState] = []
    public var sortColumn: OverviewColumn = .requests
    public var descending = true
    public private(set) var table = TableState<TenantID>()
    /// Rows the table showed when last drawn; paging moves by this much.
    public var visibleRows = 10

    public init() {}

    public mutating func apply(_ snapshot: FleetSnapshot) {
        let previous = table.selected.flatMap { id in rows.firstIndex { $0.id == id } }
        self.snapshot = snapshot
        resort(previousIndex: previous)
    }

    public mutating func sort(by column: OverviewColumn, descending: Bool) {
        sortColumn = column
        self.descending = descending
        resort(previousIndex: nil)
    }

    /// `s`: the next column, in the order the columns are shown.
    public mutating func sortNext() {
        let all = OverviewColumn.allCases
        let next = all[(all.firstIndex(of: sortColumn)! + 1) % all.count]
        sort(by: next, descending: next != .tenant && next != .tier && next != .status && next != .hottest)
    }

    /// `S`: reverse the order.
    public mutating func sortReverse() { sort(by: sortColumn, descending: !descending) }

    public mutating func move(by delta: Int) { table.move(by: delta, ids: rows.map(\.id), visible: visibleRows) }
    public mutating func page(by pages: Int) { move(by: pages * max(1, visibleRows - 1)) }
    public mutating func home() { move(by: -rows.count) }
    public mutating func end() { move(by: rows.count) }

    public var selectedIndex: Int? { table.selected.flatMap { id in rows.firstIndex { $0.id == id } } }
    public var selectedTenant: TenantState? { selectedIndex.map { rows[$0] } }

    private mutating func resort(previousIndex: Int?) {
        let column = sortColumn, desc = descending
        rows = (snapshot?.tenants ?? []).sorted { a, b in
            guard let less = column.less(a, b) else { return a.id < b.id }
            return desc ? !less : less
        }
        let ids = rows.map(\.id)
        if let i = table.reconcile(ids: ids, previousIndex: previousIndex) {
            table.scroll(toShow: i, count: ids.count, visible: visibleRows)
        }
    }
}
