import Backends

/// A tenant's API keys (`:keys [T]`, `k` from the tenant detail): every key with its derived
/// state, expiry and its warnings, last use, grace, rotation chain and revocation; `c` creates,
/// `r` rotates, `x` revokes, through dialogs over the request builders.
public struct KeysScreen: Screen {
    public let tenant: TenantID
    public private(set) var keys: [APIKey]?
    public private(set) var table = TableState<KeyID>()
    var sort: KeyColumn = .state
    var descending = false
    public private(set) var filter: String?

    static let columns: [KeyColumn] = KeyColumn.allCases

    public init(_ tenant: TenantID, selecting key: KeyID? = nil) {
        self.tenant = tenant
        table = TableState(selected: key)
    }

    public var subject: TenantID? { tenant }
    public var title: String { "keys \(tenant)" }
    public var needs: Set<Feed> { [.keys(tenant)] }

    /// The keys shown, sorted and filtered (a tenant's keys: a few, at most hundreds).
    func rows(now: Double) -> [APIKey] {
        var list = keys ?? []
        if let f = filter?.lowercased(), !f.isEmpty {
            let negated = f.hasPrefix("!"), needle = negated ? String(f.dropFirst()) : f
            if !needle.isEmpty {
                list = list.filter { k in
                    let text = [k.id.rawValue, k.label, k.prefix, k.scopes.joined(separator: ","), k.state(at: now).rawValue].joined(separator: " ").lowercased()
                    return text.contains(needle) != negated
                }
            }
        }
        let (column, desc) = (sort, descending)
        return list.sorted { a, b in
            guard let less = column.less(a, b, now: now) else { return a.id < b.id }
            return desc ? !less : less
        }
    }

    func selected(now: Double) -> APIKey? { table.selected.flatMap { id in keys?.first { $0.id == id } } }

    public func bindings(_ env: ScreenEnv) -> [Binding] {
        let key = selected(now: env.now)
        let none = keys == nil ? "the keys have not been read yet" : key == nil ? "no key selected" : nil
        var rotateOff: String?
        if let key {
            if let p = key.problem { rotateOff = "\(key.id) breaks the contract (\(p)); revoke it instead" }
            else if key.state(at: env.now) != .active { rotateOff = "\(key.id) is \(key.state(at: env.now).rawValue): only an active key can be rotated" }
        }
        let revokeOff = key?.state == .revoked ? "\(key!.id) is already revoked" : nil
        return Bindings.table("key") + [
            Binding([.enter], .open, "every field of the key", hint: "show", disabled: none),
            Binding([.char("s")], .sortNext, "sort by the next column", hint: "sort"),
            Binding([.char("S")], .sortReverse, "reverse the sort order"),
            Binding([.char("c")], .create, "create a key", hint: "create", disabled: keys == nil ? none : env.refusal(.keyCreate, tenant)),
            Binding([.char("r")], .rotate, "rotate the key (grace, then retired)", hint: "rotate",
                    disabled: none ?? env.refusal(.keyRotate, tenant) ?? rotateOff),
            Binding([.char("x")], .revoke, "revoke the key now", hint: "revoke", disabled: none ?? env.refusal(.keyRevoke, tenant) ?? revokeOff),
            Binding([.char("u")], .usage, "the key's usage by route", hint: "usage",
                    disabled: none ?? env.unreadable(.usage, tenant)),
        ]
    }

    func visible(_ env: ScreenEnv) -> Int { max(1, env.area.height - 1) }

    public mutating func perform(_ action: Action, _ env: ScreenEnv) -> [ScreenReply] {
        let ids = rows(now: env.now).map(\.id), rows = visible(env)
        switch action {
        case .down: table.move(by: 1, ids: ids, visible: rows)
        case .up: table.move(by: -1, ids: ids, visible: rows)
        case .pageDown: table.move(by: max(1, rows - 1), ids: ids, visible: rows)
        case .pageUp: table.move(by: -max(1, rows - 1), ids: ids, visible: rows)
        case .top: table.move(by: -ids.count, ids: ids, visible: rows)
        case .bottom: table.move(by: ids.count, ids: ids, visible: rows)
        case .sortNext:
            let all = Self.columns
            sort = all[((all.firstIndex(of: sort) ?? 0) + 1) % all.count]
            descending = sort.descendingFirst
        case .sortReverse: descending.toggle()
        case .open:
            if let k = selected(now: env.now) { return [.notice(KeyDialogs.detail(k, tenant: tenant, now: env.now))] }
        case .create: return [.dialog(KeyDialogs.create(tenant, now: env.now))]
        case .usage:
            if let k = selected(now: env.now) { return [.open(UsageScreen(tenant, key: k.id))] }
        case .rotate:
            if let k = selected(now: env.now) { return [.dialog(KeyDialogs.rotate(k, among: keys ?? [], tenant: tenant, now: env.now))] }
        case .revoke:
            if let k = selected(now: env.now) { return [.dialog(KeyDialogs.revoke(k, tenant: tenant, now: env.now))] }
        default: break
        }
        return []
    }

    public mutating func receive(_ feed: Feed, _ data: Loaded, _ env: ScreenEnv) -> [ScreenReply] {
        guard feed == .keys(tenant), case .keys(let k, _) = data else { return [] }
        let previous = table.selected.flatMap { id in rows(now: env.now).firstIndex { $0.id == id } }
        keys = k
        let ids = rows(now: env.now).map(\.id)
        if let i = table.reconcile(ids: ids, previousIndex: previous) { table.scroll(toShow: i, count: ids.count, visible: visible(env)) }
        return []
    }

    public var textFilter: TextFilter { .filter }

    public mutating func setFilter(_ text: String?, _ env: ScreenEnv) -> [ScreenReply] {
        filter = text.flatMap { $0.isEmpty ? nil : $0 }
        _ = table.reconcile(ids: rows(now: env.now).map(\.id), previousIndex: nil)
        return []
    }

    public func summary(_ env: ScreenEnv) -> [(String, Role)] {
        guard let keys else {
            return [(env.status(.keys(tenant)).failure.map { "keys of \(tenant): \($0.message)" } ?? "reading the keys of \(tenant)…", .dim)]
        }
        var counts = KeyCounts()
        for k in keys where k.problem == nil { counts.add(k, now: env.now) }
        var parts: [(String, Role)] = [(tenant.rawValue, .accent), ("\(keys.count) keys", .normal)]
        for s in KeyState.allCases where counts[s] > 0 { parts.append(("\(counts[s]) \(s.rawValue)", s == .expired ? .bad : s == .rotating ? .warn : .normal)) }
        if counts.expiringSoon > 0 { parts.append(("\(counts.expiringSoon) expire ≤7d", .warn)) }
        let broken = keys.filter { $0.problem != nil }.count
        if broken > 0 { parts.append(("\(broken) break the contract", .error)) }
        if let f = filter { parts.append(("filter \(SafeText.quoted(f))", .accent)) }
        return parts
    }

    public func position(_ env: ScreenEnv) -> String? {
        let ids = rows(now: env.now).map(\.id)
        return "\(table.selected.flatMap { ids.firstIndex(of: $0) }.map { $0 + 1 } ?? 0)/\(ids.count)"
    }

    public func draw(into grid: inout Grid, area: Rect, _ env: ScreenEnv) {
        let layout = ColumnSpec.layout(Self.columns.map(\.spec), width: area.width - 1)
        grid.fill(Rect(x: area.x, y: area.y, width: area.width, height: 1), role: .header)
        var x = area.x + 1
        for (c, w) in layout {
            var title = c.title
            if c == sort { title = (DisplayWidth.of(title) + 1 > w ? String(title.dropLast()) : title) + (descending ? "▼" : "▲") }
            grid.put(Fit.text(title, w), x: x, y: area.y, role: .header)
            x += w + 1
        }
        guard keys != nil else {
            let failure = env.status(.keys(tenant)).failure
            grid.put(failure.map { "cannot read the keys of \(tenant): \($0.message)" } ?? "reading the keys of \(tenant)…",
                     x: area.x + 2, y: area.y + 2, role: failure == nil ? .dim : .error, maxWidth: area.width - 4)
            return
        }
        let shown = rows(now: env.now)
        if shown.isEmpty {
            grid.put(filter == nil ? "\(tenant) has no API keys: c creates one" : "no key matches the filter", x: area.x + 2, y: area.y + 2, role: .dim)
            return
        }
        let stale = env.isStale(.keys(tenant))
        for (i, k) in shown.dropFirst(table.offset).prefix(area.height - 1).enumerated() {
            let y = area.y + 1 + i
            var x = area.x + 1
            for (c, w) in layout {
                let (text, role) = c.cell(k, now: env.now)
                grid.put(Fit.text(text, w), x: x, y: y, role: stale ? .dim : role)
                x += w + 1
            }
            if k.id == table.selected { grid.paint(Rect(x: area.x, y: y, width: area.width, height: 1), role: .selected) }
        }
    }
}
