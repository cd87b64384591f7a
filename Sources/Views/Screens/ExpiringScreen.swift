import Backends

/// Keys across the fleet that need someone soon (`:expiring`): usable keys expiring within 7 days
/// and keys in their rotation grace, soonest first. Enter opens the tenant's keys on that key.
public struct ExpiringScreen: Screen {
    public private(set) var keys: [ExpiringKey]?
    public private(set) var table = TableState<Int>()
    public private(set) var filter: String?

    public init() {}

    public var title: String { "expiring keys" }
    public var needs: Set<Feed> { [.expiringKeys] }

    enum Column: Sendable { case due, tenant, key, state, when }
    static let columns: [ColumnSpec<Column>] = [
        ColumnSpec(.due, 16), ColumnSpec(.tenant, 16, max: 30), ColumnSpec(.key, 12, max: 16), ColumnSpec(.state, 8), ColumnSpec(.when, 20, max: 32, priority: 1),
    ]

    func rows() -> [ExpiringKey] {
        guard let keys else { return [] }
        guard let f = filter?.lowercased(), !f.isEmpty else { return keys }
        let negated = f.hasPrefix("!"), needle = negated ? String(f.dropFirst()) : f
        return needle.isEmpty ? keys : keys.filter { ($0.tenant.rawValue + " " + $0.key.rawValue).lowercased().contains(needle) != negated }
    }

    public func bindings(_ env: ScreenEnv) -> [Binding] {
        Bindings.table("key") + [
            Binding([.enter, .char("l")], .open, "the tenant's keys, on this one", hint: "open",
                    disabled: table.selected.flatMap { rows().indices.contains($0) ? $0 : nil } == nil ? "no key selected" : nil),
        ]
    }

    public mutating func perform(_ action: Action, _ env: ScreenEnv) -> [ScreenReply] {
        let ids = Array(rows().indices), visible = max(1, env.area.height - 1)
        switch action {
        case .down: table.move(by: 1, ids: ids, visible: visible)
        case .up: table.move(by: -1, ids: ids, visible: visible)
        case .pageDown: table.move(by: max(1, visible - 1), ids: ids, visible: visible)
        case .pageUp: table.move(by: -max(1, visible - 1), ids: ids, visible: visible)
        case .top: table.move(by: -ids.count, ids: ids, visible: visible)
        case .bottom: table.move(by: ids.count, ids: ids, visible: visible)
        case .open:
            let list = rows()
            if let i = table.selected, list.indices.contains(i) { return [.open(KeysScreen(list[i].tenant, selecting: list[i].key))] }
        default: break
        }
        return []
    }

    public mutating func receive(_ feed: Feed, _ data: Loaded, _ env: ScreenEnv) -> [ScreenReply] {
        guard case .expiring(let list, _) = data else { return [] }
        let selected = table.selected.flatMap { i in rows().indices.contains(i) ? rows()[i] : nil }
        keys = list
        let now = rows()
        let index = selected.flatMap { s in now.firstIndex { $0.tenant == s.tenant && $0.key == s.key } } ?? min(table.selected ?? 0, max(0, now.count - 1))
        table = TableState(selected: now.isEmpty ? nil : index)
        table.scroll(toShow: index, count: now.count, visible: max(1, env.area.height - 1))
        return []
    }

    public var textFilter: TextFilter { .filter }

    public mutating func setFilter(_ text: String?, _ env: ScreenEnv) -> [ScreenReply] {
        filter = text.flatMap { $0.isEmpty ? nil : $0 }
        table = TableState(selected: rows().isEmpty ? nil : 0)
        return []
    }

    public func summary(_ env: ScreenEnv) -> [(String, Role)] {
        guard let keys else { return [("reading the fleet's keys…", .dim)] }
        let grace = keys.filter { $0.state == .rotating }.count
        var parts: [(String, Role)] = [("\(keys.count - grace) keys expire within 7 days", keys.count - grace > 0 ? .warn : .normal),
                                       ("\(grace) in grace", grace > 0 ? .warn : .normal)]
        let day = keys.filter { Double($0.due) - env.now <= 86_400 }.count
        if day > 0 { parts.append(("\(day) within a day", .bad)) }
        if let f = filter { parts.append(("filter \(SafeText.quoted(f))", .accent)) }
        return parts
    }

    public func position(_ env: ScreenEnv) -> String? {
        keys.map { _ in "\((table.selected ?? -1) + 1)/\(rows().count)" }
    }

    public func draw(into grid: inout Grid, area: Rect, _ env: ScreenEnv) {
        let layout = ColumnSpec.layout(Self.columns, width: area.width - 1)
        grid.fill(Rect(x: area.x, y: area.y, width: area.width, height: 1), role: .header)
        var x = area.x + 1
        for (c, w) in layout {
            let title = switch c { case .due: "DUE▲"; case .tenant: "TENANT"; case .key: "KEY"; case .state: "STATE"; case .when: "WHEN (UTC)" }
            grid.put(Fit.text(title, w), x: x, y: area.y, role: .header)
            x += w + 1
        }
        guard keys != nil else {
            grid.put("reading the fleet's keys…", x: area.x + 2, y: area.y + 2, role: .dim)
            return
        }
        let list = rows()
        if list.isEmpty { grid.put("no key expires within 7 days, and none is in grace", x: area.x + 2, y: area.y + 2, role: .dim); return }
        for (i, k) in list.enumerated().dropFirst(table.offset).prefix(area.height - 1) {
            let y = area.y + 1 + i - table.offset
            let left = Double(k.due) - env.now
            let warn = KeyWarning(left)
            var x = area.x + 1
            for (c, w) in layout {
                let (text, role): (String, Role) = switch c {
                case .due: ((k.state == .rotating ? "grace " : "") + Format.duration(left) + (warn.map { " " + $0.mark } ?? ""), warn?.role ?? .warn)
                case .tenant: (k.tenant.rawValue, .normal)
                case .key: (k.key.rawValue, .normal)
                case .state: (k.state.rawValue, k.state == .rotating ? .warn : .good)
                case .when: ((k.state == .rotating ? "grace ends " : "expires ") + Format.when(k.due, now: env.now), .dim)
                }
                grid.put(Fit.text(text, w), x: x, y: y, role: role)
                x += w + 1
            }
            if i == table.selected { grid.paint(Rect(x: area.x, y: y, width: area.width, height: 1), role: .selected) }
        }
    }
}
