import Backends

/// How the tenant detail is laid out and drawn: routes on top, then the budget, the keys, the
/// request sparklines and the latest audit events. The routes get the room they need; the audit
/// pane gets the rest, at least two rows.
enum TenantDetailView {
    struct Layout {
        var routeRows: Int
        var auditRows: Int
        var budgetLines: Int
    }

    static func layout(_ s: TenantDetailScreen, _ area: Rect, _ env: ScreenEnv) -> Layout {
        let budgetLines = s.state?.budget?.value == nil ? 1 : 3
        let identityLines = env.session.has(.keycloak) ? 1 : 0
        let fixed = (1 + budgetLines) + 1 + identityLines + 2 + 1       // budget, keys, identities, sparklines, audit title
        let remaining = max(0, area.height - fixed)
        let routes = max(1, s.shownRoutes.count)
        let routeRows = max(1, min(routes, remaining - 1 - 2))
        return Layout(routeRows: routeRows, auditRows: max(0, remaining - 1 - routeRows), budgetLines: budgetLines)
    }

    static func draw(_ s: TenantDetailScreen, into grid: inout Grid, area: Rect, _ env: ScreenEnv) {
        let l = layout(s, area, env)
        var y = area.y
        let stale = env.isStale(.tenant(s.tenant))
        drawRoutes(s, into: &grid, x: area.x, y: y, width: area.width, rows: l.routeRows, env, dim: stale)
        y += 1 + l.routeRows
        drawBudget(s, into: &grid, x: area.x, y: y, width: area.width, env, dim: stale)
        y += 1 + l.budgetLines
        drawKeys(s, into: &grid, x: area.x, y: y, width: area.width, env)
        y += 1
        if env.session.has(.keycloak) {
            drawIdentity(s, into: &grid, x: area.x, y: y, width: area.width, env)
            y += 1
        }
        drawRates(s, into: &grid, x: area.x, y: y, width: area.width, env)
        y += 2
        drawAudit(s, into: &grid, x: area.x, y: y, width: area.width, rows: l.auditRows, env)
    }

    /// A section's title row: the label, and facts on the right.
    static func title(_ grid: inout Grid, _ label: String, right: String = "", x: Int, y: Int, width: Int) {
        grid.fill(Rect(x: x, y: y, width: width, height: 1), role: .header)
        let used = grid.put(" " + label, x: x, y: y, role: .header)
        if !right.isEmpty {
            let room = width - used - 2
            let text = Fit.text(right, min(room, DisplayWidth.of(right)))
            grid.put(text, x: x + width - DisplayWidth.of(text) - 1, y: y, role: .header, maxWidth: room)
        }
    }

    // MARK: Routes

    enum RouteColumn: String, Sendable { case route, usage, count, denied, reset, remaining, policy, throttle }

    static let routeColumns: [ColumnSpec<RouteColumn>] = [
        ColumnSpec(.route, 16, max: 22), ColumnSpec(.usage, 12, max: 18), ColumnSpec(.count, 11), ColumnSpec(.denied, 6),
        ColumnSpec(.throttle, 14, max: 60), ColumnSpec(.reset, 6, priority: 1), ColumnSpec(.remaining, 6, priority: 2),
        ColumnSpec(.policy, 10, priority: 2),
    ]

    static func drawRoutes(_ s: TenantDetailScreen, into grid: inout Grid, x: Int, y: Int, width: Int, rows: Int, _ env: ScreenEnv, dim: Bool) {
        let layout = ColumnSpec.layout(routeColumns, width: width - 1)
        grid.fill(Rect(x: x, y: y, width: width, height: 1), role: .header)
        var cx = x + 1
        for (c, w) in layout {
            let title: String
            switch c {
            case .route: title = "ROUTE"
            case .usage: title = "LOAD"
            case .count: title = "COUNT/LIMIT"
            case .denied: title = "DENIED"
            case .reset: title = "RESET"
            case .remaining: title = "REMAIN"
            case .policy: title = "POLICY"
            case .throttle: title = "THROTTLE"
            }
            grid.put(Fit.text(title, w, c == .route || c == .usage || c == .throttle ? .left : .right), x: cx, y: y, role: .header)
            cx += w + 1
        }
        guard let state = s.state else {
            let why = env.status(.tenant(s.tenant)).failure.map { "cannot read \(s.tenant): \($0.message)" } ?? "reading \(s.tenant)…"
            grid.put(why, x: x + 2, y: y + 1, role: env.status(.tenant(s.tenant)).failure == nil ? .dim : .error, maxWidth: width - 4)
            return
        }
        let shown = s.shownRoutes
        if shown.isEmpty {
            let why = state.routes.isEmpty ? "no routes: {\(s.tenant)}:limits holds no policy" : "no route matches the filter"
            grid.put(why, x: x + 2, y: y + 1, role: .dim)
            return
        }
        let selected = s.routes.selected
        let live = state.throttles.filter { $0.isLive(at: env.now) }
        for (i, r) in shown.dropFirst(s.routes.offset).prefix(rows).enumerated() {
            let ry = y + 1 + i
            var cx = x + 1
            for (c, w) in layout {
                let (text, role) = routeCell(c, r, throttles: live, width: w, env.now)
                let align: Fit.Align = c == .route || c == .usage || c == .throttle ? .left : .right
                grid.put(Fit.text(text, w, align), x: cx, y: ry, role: dim ? .dim : role)
                cx += w + 1
                if c == .route, case .bad(let why) = r.state {   // the rest of the row says what is wrong
                    grid.put("ERR: " + why, x: cx, y: ry, role: .error, maxWidth: x + width - cx - 1)
                    break
                }
            }
            if r.route == selected { grid.paint(Rect(x: x, y: ry, width: width, height: 1), role: .selected) }
        }
    }

    static func routeCell(_ c: RouteColumn, _ r: RouteReading, throttles: [Throttle], width: Int, _ now: Double) -> (String, Role) {
        guard let st = r.state.value else { return c == .route ? (r.route.rawValue, .error) : ("", .error) }
        let u = st.utilisation ?? 0
        let loadRole: Role = u >= 1 ? .bad : u >= FleetTotals.nearShare ? .warn : .good
        switch c {
        case .route: return (r.route.rawValue, .normal)
        case .usage: return (Bar.text(u, width: max(1, width - 6)) + " " + Fit.text(Format.percent(u * 100), 5, .right), loadRole)
        case .count: return ("\(Format.count(st.count))/\(Format.count(st.effectiveLimit))", loadRole)
        case .denied: return (Format.count(st.denied), st.denied > 0 ? .bad : .dim)
        case .reset: return (Format.duration(Double(st.windowStart + Int64(st.policy.window)) - now), .dim)
        case .remaining: return (Format.count(st.remaining), .normal)
        case .policy: return (st.policy.text, .dim)
        case .throttle:
            let applicable = throttles.filter { $0.route == r.route || $0.route == .all }.min { $0.limit < $1.limit }
            guard let th = applicable else { return ("·", .dim) }
            let limiting = th.limit < st.policy.limit
            let on = th.route == .all ? " (all routes)" : ""
            return ("⏷\(Format.count(th.limit)) \(Format.duration(Double(th.expiresAt) - now)) \(th.actor): \(th.reason)\(on)", limiting ? .warn : .dim)
        }
    }

    // MARK: Budget

    static func drawBudget(_ s: TenantDetailScreen, into grid: inout Grid, x: Int, y: Int, width: Int, _ env: ScreenEnv, dim: Bool) {
        let month = YearMonth(containing: Int64(env.now))
        guard let reading = s.state?.budget else {
            title(&grid, "BUDGET \(month)", x: x, y: y, width: width)
            grid.put(s.state == nil ? "" : "no budget for \(month): {\(s.tenant)}:budget:\(month) does not exist", x: x + 2, y: y + 1, role: .dim, maxWidth: width - 4)
            return
        }
        guard case .ok(let b) = reading else {
            title(&grid, "BUDGET \(month)", x: x, y: y, width: width)
            grid.put("ERR: \(reading.problem ?? "")", x: x + 2, y: y + 1, role: .error, maxWidth: width - 4)
            return
        }
        let next = b.budget.month.next.start
        title(&grid, "BUDGET \(b.budget.month)", right: "resets in \(Format.duration(Double(next) - env.now)) (\(Format.when(next, now: env.now)))",
              x: x, y: y, width: width)
        let level: Role = b.level == .exhausted ? .bad : b.level == .soft ? .warn : .good
        let fraction = b.effectiveLimit > 0 ? Double(b.budget.used) / Double(b.effectiveLimit) : 1
        let gaugeWidth = min(40, max(10, width / 3))
        var cx = x + 2
        cx += grid.put(Bar.gauge(fraction, mark: Double(b.budget.softPct) / 100, width: gaugeWidth), x: cx, y: y + 1, role: dim ? .dim : level)
        cx += grid.put(" " + (b.percentUsed.map(Format.percent) ?? "-"), x: cx, y: y + 1, role: dim ? .dim : level)
        grid.put("  \(Format.count(b.budget.used)) of \(Format.count(b.effectiveLimit)) tokens · "
                 + (b.budget.hard ? "hard: blocks at the limit" : "alert-only: never blocks"),
                 x: cx, y: y + 1, role: .normal, maxWidth: x + width - cx - 1)

        var second = "soft threshold \(b.budget.softPct)% (\(Format.count(b.effectiveLimit * b.budget.softPct / 100)))"
        if b.tempRaiseActive, let exp = b.budget.tempExpiresAt {
            second += " · temporary raise to \(Format.count(b.effectiveLimit)) until \(Format.when(exp, now: env.now)) "
                + "(\(Format.duration(Double(exp) - env.now)) left), then \(Format.count(b.budget.limit))"
        } else if let t = b.budget.tempLimit, let exp = b.budget.tempExpiresAt {
            second += " · a raise to \(Format.count(t)) ended \(Format.when(exp, now: env.now))"
        }
        grid.put(second, x: x + 2, y: y + 2, role: b.tempRaiseActive ? .warn : .dim, maxWidth: width - 4)
        let (third, role) = projection(b, recent: s.recentBurn, now: env.now)
        grid.put(third, x: x + 2, y: y + 3, role: role, maxWidth: width - 4)
    }

    /// The burn rate and what it means before the reset, in words.
    static func projection(_ b: BudgetState, recent: (rate: Double, span: Double)?, now: Double) -> (String, Role) {
        let rate = recent?.rate ?? b.burnRate ?? 0
        let basis = recent.map { "last \(Format.duration($0.span))" } ?? "month avg"
        let burn = "burn \(Format.rate(rate)) tok/s (\(basis))"
        let reset = Double(b.budget.month.next.start)
        if b.budget.used >= b.effectiveLimit {
            return (burn + " · exhausted: " + (b.budget.hard ? "requests are refused until the reset or a raise" : "over by \(Format.count(b.budget.used - b.effectiveLimit)), alerting only"), .bad)
        }
        guard rate > 0 else { return (burn + " · at this rate: lasts past the reset", .good) }
        var at = now + Double(b.effectiveLimit - b.budget.used) / rate
        var note = ""
        // A raise that ends first brings the plan's limit back.
        if b.tempRaiseActive, let exp = b.budget.tempExpiresAt, Double(exp) < at {
            let usedThen = Double(b.budget.used) + rate * (Double(exp) - now)
            at = usedThen >= Double(b.budget.limit) ? Double(exp) : Double(exp) + (Double(b.budget.limit) - usedThen) / rate
            note = " (when the raise ends)"
        }
        if at >= reset { return (burn + " · at this rate: lasts past the reset", .good) }
        return (burn + " · at this rate: exhausted in \(Format.duration(at - now))\(note), before the reset", at - now < 86_400 ? .bad : .warn)
    }

    // MARK: Keys

    static func drawKeys(_ s: TenantDetailScreen, into grid: inout Grid, x: Int, y: Int, width: Int, _ env: ScreenEnv) {
        grid.fill(Rect(x: x, y: y, width: width, height: 1), role: .normal)
        var cx = x + grid.put(Fit.text(" KEYS", 9), x: x, y: y, role: .header)
        cx += 1
        var counts = s.state?.keys ?? KeyCounts()
        if let keys = s.keys {
            counts = KeyCounts()
            for k in keys { counts.add(k, now: env.now) }
        }
        let parts = KeyState.allCases.filter { counts[$0] > 0 }.map { "\(counts[$0]) \($0.rawValue)" }
        cx += grid.put(parts.isEmpty ? "no keys" : parts.joined(separator: " · "), x: cx, y: y, role: .normal, maxWidth: x + width - cx)
        guard let keys = s.keys else { return }
        let expiring = keys.filter { $0.state(at: env.now).isUsable && $0.expiresAt > 0 }.min { $0.expiresAt < $1.expiresAt }
        if let k = expiring {
            let left = Double(k.expiresAt) - env.now
            let warn = KeyWarning(left)
            cx += grid.put(" · next expiry \(k.id) in \(Format.duration(left)) \(warn?.mark ?? "")", x: cx, y: y, role: warn?.role ?? .dim,
                           maxWidth: x + width - cx - 1)
            grid.put(" " + SafeText.quoted(k.label, limit: 24), x: cx, y: y, role: .dim, maxWidth: x + width - cx - 1)
        }
    }

    // MARK: Rates

    static func drawRates(_ s: TenantDetailScreen, into grid: inout Grid, x: Int, y: Int, width: Int, _ env: ScreenEnv) {
        let label = 9
        grid.put(Fit.text(" REQ/S", label), x: x, y: y, role: .header)
        let series = s.detail?.series ?? .empty
        let room = max(10, width - label - 34)
        if series.sampledSpan == nil {
            grid.put("sampled by the console as it reads; the first samples come with the next refreshes", x: x + label + 1, y: y, role: .dim, maxWidth: width - label - 2)
        } else {
            // From the first sample on: before it, the console was not watching.
            let first = series.values.firstIndex { $0 != nil } ?? series.values.count
            let shown = series.suffix(min(room, series.values.count - first))
            let values = shown.values.compactMap { $0 }
            let spark = Sparkline.series(shown.values)
            var cx = x + label + 1
            cx += grid.put(spark, x: cx, y: y, role: .accent)
            let span = min(Double(shown.values.count) * shown.step, series.sampledSpan ?? 0)
            grid.put(" max \(Format.rate(values.max() ?? 0)) now \(Format.rate(values.last ?? 0)) · last \(Format.duration(span)), \(Int(shown.step)) s steps",
                     x: cx, y: y, role: .dim, maxWidth: x + width - cx - 1)
        }
        grid.put(Fit.text(" PER MIN", label), x: x, y: y + 1, role: .header)
        let feed = Feed.usage(s.tenant, nil)
        if let why = env.unreadable(.usage, s.tenant) {
            grid.put(why, x: x + label + 1, y: y + 1, role: .dim, maxWidth: width - label - 2)
            return
        }
        if let failure = env.status(feed).failure, env.isStale(feed) {
            grid.put("ClickHouse: \(failure.message)", x: x + label + 1, y: y + 1, role: .error, maxWidth: width - label - 2)
            return
        }
        guard let usage = s.usage else {
            grid.put("reading key_usage…", x: x + label + 1, y: y + 1, role: .dim)
            return
        }
        let perMinute = usage.perMinute.map(\.requests).suffix(max(10, width - label - 34))
        var cx = x + label + 1
        cx += grid.put(Sparkline.text(Array(perMinute)), x: cx, y: y + 1, role: .accent)
        grid.put(" max \(Format.count(perMinute.max() ?? 0))/min · last \(perMinute.count)m · \(Format.count(usage.lastHour.requests)) in the hour, "
                 + "\(Format.count(usage.lastHour.denials)) denied", x: cx, y: y + 1, role: .dim, maxWidth: x + width - cx - 1)
    }

    // MARK: Identity

    /// `IDENTITY realm tenant-acme (Acme) · enabled · 212 users · 96 active sessions (gateway-web 80, gateway-cli 16)`.
    static func drawIdentity(_ s: TenantDetailScreen, into grid: inout Grid, x: Int, y: Int, width: Int, _ env: ScreenEnv) {
        let label = 9
        grid.put(Fit.text(" IDENTITY", label), x: x, y: y, role: .header)
        let feed = Feed.identity(s.tenant), cx = x + label + 1, room = width - label - 2
        if let why = env.session.policy.refusal(.sessions, tenant: s.tenant) {
            grid.put(why, x: cx, y: y, role: .dim, maxWidth: room)
            return
        }
        if let failure = env.status(feed).failure, env.isStale(feed) {
            grid.put("Keycloak: \(failure.message)", x: cx, y: y, role: .error, maxWidth: room)
            return
        }
        guard let i = s.identity else {
            grid.put("reading Keycloak…", x: cx, y: y, role: .dim)
            return
        }
        var parts: [String]
        switch i.home {
        case .realm(let realm, let enabled, let name):
            parts = ["realm \(realm)" + (name == realm ? "" : " (\(name))"), enabled ? "enabled" : "DISABLED", "\(Format.count(i.users)) user\(i.users == 1 ? "" : "s")"]
        case .group(let realm, let path):
            parts = ["group \(path) in realm \(realm)", "\(Format.count(i.users)) member\(i.users == 1 ? "" : "s")"]
        }
        let clients = i.sessions.count > 1 ? " (" + i.sessions.map { "\($0.client) \(Format.count($0.active))" }.joined(separator: ", ") + ")" : ""
        parts.append("\(Format.count(i.activeSessions)) active session\(i.activeSessions == 1 ? "" : "s")" + clients)
        let disabled = { if case .realm(_, false, _) = i.home { true } else { false } }()
        grid.put(parts.joined(separator: " · "), x: cx, y: y, role: disabled ? .bad : .normal, maxWidth: room)
    }

    // MARK: Audit

    static func drawAudit(_ s: TenantDetailScreen, into grid: inout Grid, x: Int, y: Int, width: Int, rows: Int, _ env: ScreenEnv) {
        let feed = Feed.recentAudit(s.tenant)
        let age = env.status(feed).lastOK.map { "read \(Format.duration(env.now - $0)) ago" } ?? ""
        title(&grid, "LATEST AUDIT EVENTS", right: env.session.auditStore.map { "\($0) · \(age)" } ?? "", x: x, y: y, width: width)
        guard rows > 0 else { return }
        if let why = env.unreadable(.audit, s.tenant) {
            grid.put(why, x: x + 2, y: y + 1, role: .dim, maxWidth: width - 4)
            return
        }
        if let failure = env.status(feed).failure, env.isStale(feed) {
            grid.put("stalled since \(Format.when(Int64(failure.at), now: env.now)): \(failure.message)", x: x + 2, y: y + 1, role: .error, maxWidth: width - 4)
            if s.audit == nil { return }
        }
        guard let events = s.audit else {
            grid.put("reading the audit log…", x: x + 2, y: y + 1, role: .dim)
            return
        }
        if events.isEmpty { grid.put("no audit events for \(s.tenant) in the last 7 days", x: x + 2, y: y + 1, role: .dim); return }
        let stalled = env.isStale(feed) ? 1 : 0
        for (i, e) in events.prefix(rows - stalled).enumerated() {
            let ry = y + 1 + stalled + i
            let time = CivilDate(epochSeconds: e.ts)
            func p(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let stamp = e.ts > Int64(env.now) + 5 ? "future" : "\(p(time.hour)):\(p(time.minute)):\(p(time.second))"
            var cx = x + 2
            cx += grid.put(Fit.text(stamp, 9), x: cx, y: ry, role: .dim)
            cx += grid.put(Fit.text(e.action, 17), x: cx, y: ry, role: .normal)
            let outcomeRole: Role = e.outcome == "success" ? .good : e.outcome == "denied" ? .warn : .bad
            cx += grid.put(Fit.text(e.outcome, 8), x: cx, y: ry, role: outcomeRole)
            cx += grid.put(Fit.text("\(e.actorType):\(e.actor)", 24), x: cx, y: ry, role: .normal)
            grid.put(e.resource, x: cx, y: ry, role: .dim, maxWidth: x + width - cx - 1)
        }
    }
}
