/// A table's columns fitted to a width: columns are dropped from the highest priority number down
/// until the rest fit, then the spare room goes to the columns that can grow, in order.
public struct ColumnSpec<ID: Hashable & Sendable>: Sendable {
    public let id: ID
    public let width: Int
    public let maxWidth: Int
    /// 0 never drops; higher numbers drop first.
    public let priority: Int

    public init(_ id: ID, _ width: Int, max maxWidth: Int? = nil, priority: Int = 0) {
        self.id = id
        self.width = width
        self.maxWidth = maxWidth ?? width
        self.priority = priority
    }

    /// Columns that fit `width` (one space between two), with their widths.
    public static func layout(_ specs: [ColumnSpec<ID>], width: Int) -> [(ID, Int)] {
        var cols = specs
        func needed(_ c: [ColumnSpec<ID>]) -> Int { c.reduce(0) { $0 + $1.width } + max(0, c.count - 1) }
        while needed(cols) > width, let drop = cols.filter({ $0.priority > 0 }).max(by: { $0.priority < $1.priority }) {
            cols.removeAll { $0.id == drop.id }
        }
        var spare = max(0, width - needed(cols))
        return cols.map { c in
            let share = min(spare, c.maxWidth - c.width)
            spare -= share
            return (c.id, c.width + share)
        }
    }
}
