import Backends

/// A screen that lists the fleet: the overview (every tenant, busiest first) and the noisy
/// neighbours (tenants ranked by their share of the fleet's requests). One table, two column sets.
public struct FleetScreen: Screen {
    public enum Kind: Sendable {
        case overview, noisy
    }

    public let kind: Kind
    public private(set) var table: FleetTable

    public init(_ kind: Kind) {
        self.kind = kind
        switch kind {
        case .overview:
            table = FleetTable(columns: [
                (.tenant, 0), (.status, 1), (.requests, 0), (.hottest, 1), (.load, 0), (.throttle, 0), (.denied, 0), (.budget, 0),
                (.reset, 2), (.sessions, 4), (.cache, 5), (.active, 2), (.rotating, 3), (.retired, 5), (.revoked, 5), (.expired, 3),
                (.tier, 4),
            ], spec: ArrangeSpec(sort: .requests, descending: true))
        case .noisy:
            table = FleetTable(columns: [
                (.rank, 0), (.tenant, 0), (.share, 0), (.requests, 1), (.rate, 0), (.denied, 1), (.deniedRate, 0), (.burn, 0),
                (.throttle, 0), (.sessions, 2), (.cache, 2), (.hottest, 3),
            ], spec: ArrangeSpec(sort: .share, descending: true))
        }
    }

    public static let overview = FleetScreen(.overview)

    public var title: String { kind == .overview ? "overview" : "noisy neighbours" }
    public var needs: Set<Feed> { [.fleet] }

    public func bindings(_ env: ScreenEnv) -> [Binding] {
        let selected = table.selectedTenant?.id
        let none = selected == nil ? "no tenant selected" : nil
        return Bindings.table("tenant") + [
            Binding([.enter, .char("l")], .open, "open the tenant", hint: "open", disabled: none),
            Binding([.char("s")], .sortNext, "sort by the next column", hint: "sort"),
            Binding([.char("S")], .sortReverse, "reverse the sort order"),
            Binding([.char("t")], .throttle, "throttle the tenant", hint: "throttle",
                    disabled: none ?? env.refusal(.throttleSet, selected)),
        ]
    }

    /// Rows in the table's body at the current size.
    func visible(_ env: ScreenEnv) -> Int { max(1, env.area.height - 1) }

    public mutating func perform(_ action: Action, _ env: ScreenEnv) -> [ScreenReply] {
        let rows = visible(env)
        switch action {
        case .down: table.move(by: 1, visible: rows)
        case .up: table.move(by: -1, visible: rows)
        case .pageDown: table.move(by: max(1, rows - 1), visible: rows)
        case .pageUp: table.move(by: -max(1, rows - 1), visible: rows)
        case .top: table.move(by: -table.count, visible: rows)
        case .bottom: table.move(by: table.count, visible: rows)
        case .sortNext: return table.sortNext().map { [.effect($0)] } ?? []
        case .sortReverse: return table.sortReverse().map { [.effect($0)] } ?? []
        case .open:
            if let t = table.selectedTenant { return [.open(TenantDetailScreen(t.id))] }
        case .throttle:
            if let t = table.selectedTenant { return [.dialog(ActionDialogs.throttle(t, route: nil, now: env.now))] }
        default: break
        }
        return []
    }

    public mutating func appear(_ env: ScreenEnv) -> [ScreenReply] {
        env.fleet.flatMap { table.receive($0) }.map { [.effect($0)] } ?? []
    }

    public mutating func receive(_ feed: Feed, _ data: Loaded, _ env: ScreenEnv) -> [ScreenReply] {
        guard case .fleet(let digest) = data else { return [] }
        return table.receive(digest).map { [.effect($0)] } ?? []
    }

    public mutating func receive(_ arrangement: FleetArrangement, _ env: ScreenEnv) {
        if table.accept(arrangement), let row = table.selectedRow { table.scroll(toShow: row, visible: visible(env)) }
    }

    public var filter: String? { table.spec.filter?.text }
    public var textFilter: TextFilter { .filter }

    public mutating func setFilter(_ text: String?, _ env: ScreenEnv) -> [ScreenReply] {
        let f = text.flatMap(TenantFilter.init)
        guard f != table.spec.filter else { return [] }
        return table.filter(f).map { [.effect($0)] } ?? []
    }

    public func summary(_ env: ScreenEnv) -> [(String, Role)] {
        guard let d = table.shown?.digest ?? table.latest else { return [("waiting for the first refresh…", .dim)] }
        let t = d.totals
        var parts: [(String, Role)] = []
        if let f = table.spec.filter {
            parts.append(("filter \(SafeText.quoted(f.text)): \(Format.count(table.count)) of \(Format.count(t.tenants)) tenants", .accent))
        } else {
            parts.append(("\(Format.count(t.tenants)) tenants", .normal))
        }
        parts.append((t.requestsPerSecond.map { "\(Format.rate($0)) req/s" } ?? "– req/s", .normal))
        parts.append((t.deniedPerSecond.map { "\(Format.rate($0)) denied/s" } ?? "– denied/s", (t.deniedPerSecond ?? 0) > 0 ? .bad : .normal))
        parts.append(("\(t.nearLimit) at ≥80%", t.nearLimit > 0 ? .warn : .normal))
        parts.append(("\(t.expiringKeys) keys expire ≤7d", t.expiringKeys > 0 ? .warn : .normal))
        if t.outOfBudget > 0 { parts.append(("\(t.outOfBudget) out of budget", .bad)) }
        if t.throttled > 0 { parts.append(("\(t.throttled) throttled", .warn)) }
        if t.problems > 0 { parts.append(("\(t.problems) with bad values", .error)) }
        if d.malformedTenantIDs > 0 { parts.append(("\(d.malformedTenantIDs) malformed ids skipped", .error)) }
        if d.indexProblem != nil { parts.append(("gw:tenants is not a set: found by SCAN", .error)) }
        if d.keyspaceProblem != nil {
            parts.append(("SESS/CACHE counts failing", .error))
        } else if d.keyspaceAsOf == nil {
            parts.append(("SESS/CACHE counting", .dim))   // the first SCAN walk has not completed
        }
        return parts
    }

    public func position(_ env: ScreenEnv) -> String? {
        guard table.shown != nil else { return nil }
        return "\(table.selectedRow.map { $0 + 1 } ?? 0)/\(table.count)"
    }

    public func draw(into grid: inout Grid, area: Rect, _ env: ScreenEnv) {
        table.draw(into: &grid, area: area, now: env.now, dim: env.isStale(.fleet))
    }
}
