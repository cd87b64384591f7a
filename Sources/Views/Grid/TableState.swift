/// Widget state of a scrolling list, kept apart from the rows it shows: the selection is an id,
/// so it survives refreshes and re-sorts; the offset follows the selection.
public struct TableState<ID: Hashable & Sendable>: Equatable, Sendable {
    public var selected: ID?
    public var offset: Int = 0

    public init(selected: ID? = nil) { self.selected = selected }

    /// Index of the selection in `ids`, re-anchoring to the nearest valid row when the selected
    /// id disappeared (or to the first row when nothing was selected).
    public mutating func reconcile(ids: [ID], previousIndex: Int?) -> Int? {
        guard !ids.isEmpty else { selected = nil; offset = 0; return nil }
        if let s = selected, let i = ids.firstIndex(of: s) { return i }
        let i = min(previousIndex ?? 0, ids.count - 1)
        selected = ids[i]
        return i
    }

    /// Moves the selection by `delta` rows (clamped) and scrolls so it stays inside `visible` rows.
    public mutating func move(by delta: Int, ids: [ID], visible: Int) {
        guard !ids.isEmpty else { return }
        let current = selected.flatMap { ids.firstIndex(of: $0) } ?? 0
        let next = max(0, min(ids.count - 1, current + delta))
        selected = ids[next]
        scroll(toShow: next, count: ids.count, visible: visible)
    }

    public mutating func scroll(toShow index: Int, count: Int, visible: Int) {
        guard visible > 0 else { offset = 0; return }
        if index < offset { offset = index }
        if index >= offset + visible { offset = index - visible + 1 }
        offset = max(0, min(offset, max(0, count - visible)))
    }
}
