import Backends

/// One tenant in full: every route against its effective limit with any throttle, the budget as
/// a gauge with its burn and projection, the keys by state, request-rate sparklines and the latest
/// audit events. Opened with Enter on a fleet row or `:tenant T`.
public struct TenantDetailScreen: Screen {
    public let tenant: TenantID
    public var subject: TenantID? { tenant }
    public private(set) var detail: TenantDetail?
    public private(set) var keys: [APIKey]?
    public private(set) var audit: [AuditEvent]?
    public private(set) var usage: UsageReport?
    public private(set) var identity: TenantIdentity?
    /// Budget used over time, as this screen saw it: the recent burn rate.
    private(set) var budgetSamples: [(at: Double, used: Int)] = []
    public private(set) var routes = TableState<Route>()
    public private(set) var routeFilter: String?

    public init(_ tenant: TenantID) { self.tenant = tenant }

    public var title: String { "tenant \(tenant)" }
    public var needs: Set<Feed> { [.tenant(tenant), .keys(tenant), .recentAudit(tenant), .usage(tenant, nil), .identity(tenant)] }

    var state: TenantState? { detail?.state }

    /// The routes shown, in order, after the filter.
    var shownRoutes: [RouteReading] {
        let all = state?.routes ?? []
        guard let f = routeFilter?.lowercased(), !f.isEmpty else { return all }
        let negated = f.hasPrefix("!")
        let needle = negated ? String(f.dropFirst()) : f
        return needle.isEmpty ? all : all.filter { $0.route.rawValue.lowercased().contains(needle) != negated }
    }

    var selectedRoute: Route? { routes.selected.flatMap { r in shownRoutes.contains { $0.route == r } ? r : nil } }

    public func bindings(_ env: ScreenEnv) -> [Binding] {
        let noState = state == nil ? "the tenant has not been read yet" : nil
        let budgetOff = noState ?? (state?.budget?.value == nil ? "\(tenant) has no readable budget this month" : nil)
        return [
            Binding([.down], .down, "next route", hint: "move"),
            Binding([.up], .up, "previous route"),
            Binding([.pageDown, .char(" ")], .pageDown, "page down"),
            Binding([.pageUp], .pageUp, "page up"),
            Binding([.home, .char("g")], .top, "first route"),
            Binding([.end, .char("G")], .bottom, "last route"),
            Binding([.char("t")], .throttle, "throttle a route or all",
                    hint: "throttle", disabled: noState ?? env.refusal(.throttleSet, tenant)),
            Binding([.char("b")], .budget, "raise the budget", hint: "budget",
                    disabled: budgetOff ?? env.refusal(.budgetRaise, tenant)),
            Binding([.char("k")], .keys, "the tenant's API keys", hint: "keys"),
            Binding([.char("a")], .audit, "the tenant's audit log, followed", hint: "audit", disabled: env.unreadable(.audit, tenant)),
            Binding([.char("u")], .usage, "key usage by key and route", hint: "usage", disabled: env.unreadable(.usage, tenant)),
        ]
    }

    public mutating func perform(_ action: Action, _ env: ScreenEnv) -> [ScreenReply] {
        let ids = shownRoutes.map(\.route)
        let visible = max(1, TenantDetailView.layout(self, env.area, env).routeRows)
        switch action {
        case .down: routes.move(by: 1, ids: ids, visible: visible)
        case .up: routes.move(by: -1, ids: ids, visible: visible)
        case .pageDown: routes.move(by: max(1, visible - 1), ids: ids, visible: visible)
        case .pageUp: routes.move(by: -max(1, visible - 1), ids: ids, visible: visible)
        case .top: routes.move(by: -ids.count, ids: ids, visible: visible)
        case .bottom: routes.move(by: ids.count, ids: ids, visible: visible)
        case .throttle:
            if let state { return [.dialog(ActionDialogs.throttle(state, route: selectedRoute, now: env.now))] }
        case .budget:
            if let state { return [.dialog(ActionDialogs.budget(state, now: env.now))] }
        case .keys: return [.open(KeysScreen(tenant))]
        case .audit: return [.open(AuditScreen(tenant))]
        case .usage: return [.open(UsageScreen(tenant))]
        default: break
        }
        return []
    }

    public mutating func receive(_ feed: Feed, _ data: Loaded, _ env: ScreenEnv) -> [ScreenReply] {
        guard needs.contains(feed) else { return [] }
        switch data {
        case .tenant(let d) where d.state.id == tenant:
            detail = d
            noteBudget(d)
            _ = routes.reconcile(ids: shownRoutes.map(\.route), previousIndex: nil)
        case .keys(let k, _): keys = k
        case .audit(let events, _): audit = events
        case .usage(let report, _) where report.tenant == tenant: usage = report
        case .identity(let i, _): identity = i
        default: break
        }
        return []
    }

    private mutating func noteBudget(_ d: TenantDetail) {
        guard let b = d.state.budget?.value?.budget else { budgetSamples = []; return }
        if let first = budgetSamples.first, YearMonth(containing: Int64(first.at)) != b.month { budgetSamples = [] }
        budgetSamples.append((d.takenAt, b.used))
        budgetSamples.removeAll { d.takenAt - $0.at > Self.burnWindow }
    }


    /// The recent burn rate is measured over this much of what the screen saw.
    static let burnWindow = 300.0

    /// Tokens per second over the recent samples, and over how long; nil until 20 s were seen.
    var recentBurn: (rate: Double, span: Double)? {
        guard let first = budgetSamples.first, let last = budgetSamples.last, last.at - first.at >= 20 else { return nil }
        return (Double(max(0, last.used - first.used)) / (last.at - first.at), last.at - first.at)
    }

    public var filter: String? { routeFilter }
    public var textFilter: TextFilter { .filter }

    public mutating func setFilter(_ text: String?, _ env: ScreenEnv) -> [ScreenReply] {
        routeFilter = text.flatMap { $0.isEmpty ? nil : $0 }
        _ = routes.reconcile(ids: shownRoutes.map(\.route), previousIndex: nil)
        return []
    }

    public func summary(_ env: ScreenEnv) -> [(String, Role)] {
        guard let state else {
            return [(env.status(.tenant(tenant)).failure.map { "\(tenant): \($0.message)" } ?? "reading \(tenant)…", .dim)]
        }
        var parts: [(String, Role)] = [(tenant.rawValue, .accent)]
        switch state.meta {
        case .bad(let why): parts.append(("meta: \(why)", .error))
        case .ok(let m):
            parts.append((m.name, .normal))
            switch m.tier {
            case .ok(.enterprise): parts.append(("enterprise · realm \(m.realm.isEmpty ? "tenant-\(tenant)" : m.realm)", .normal))
            case .ok(.smb): parts.append(("smb · group \(m.group.isEmpty ? "/tenants/\(tenant)" : m.group) in realm \(m.realm.isEmpty ? "smb" : m.realm)", .normal))
            case .bad(let why): parts.append(("tier: \(why)", .error))
            }
            switch m.status {
            case .ok(let s): parts.append((s.rawValue, s == .active ? .good : .warn))
            case .bad(let why): parts.append(("status: \(why)", .error))
            }
            if let c = m.createdAt { parts.append(("since \(CivilDate(epochSeconds: c).iso8601.prefix(10))", .dim)) }
        }
        parts.append(("\(Format.count(state.requests)) req/win", .normal))
        if let rate = detail?.series.values.last(where: { $0 != nil }) ?? nil { parts.append(("\(Format.rate(rate)) req/s", .normal)) }
        parts.append(("\(Format.count(state.denied)) denied", state.denied > 0 ? .bad : .normal))
        if state.skippedEntries > 0 { parts.append(("\(state.skippedEntries) entries break the contract", .error)) }
        if let f = routeFilter { parts.append(("routes filtered by \(SafeText.quoted(f))", .accent)) }
        return parts
    }

    public func position(_ env: ScreenEnv) -> String? {
        let ids = shownRoutes.map(\.route)
        guard !ids.isEmpty else { return nil }
        return "route \(routes.selected.flatMap { ids.firstIndex(of: $0) }.map { $0 + 1 } ?? 0)/\(ids.count)"
    }

    public func draw(into grid: inout Grid, area: Rect, _ env: ScreenEnv) {
        TenantDetailView.draw(self, into: &grid, area: area, env)
    }
}
