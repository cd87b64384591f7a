import Backends

/// Key usage (`:usage [T] [KEY]`, `u` from the keys screen or the detail): the last hour and day,
/// errors split into 4xx, 429 and 5xx, tokens, latency p50/p95, requests per minute with its scale
/// and time axis, and the same per key and route.
public struct UsageScreen: Screen {
    public let tenant: TenantID
    public let key: KeyID?
    public private(set) var report: UsageReport?
    public private(set) var table = TableState<Int>()

    public init(_ tenant: TenantID, key: KeyID? = nil) {
        self.tenant = tenant
        self.key = key
    }

    public var subject: TenantID? { tenant }
    public var title: String { "usage \(tenant)" + (key.map { " \($0)" } ?? "") }
    public var needs: Set<Feed> { [.usage(tenant, key)] }

    /// Above the per key and route table: totals (3 lines) and a blank, the per-minute header,
    /// requests, errors and the time axis, and a blank.
    static let top = 10

    public func bindings(_ env: ScreenEnv) -> [Binding] {
        Bindings.table("row")
    }

    public mutating func perform(_ action: Action, _ env: ScreenEnv) -> [ScreenReply] {
        let ids = Array((report?.rows ?? []).indices), rows = max(1, env.area.height - Self.top - 1)
        switch action {
        case .down: table.move(by: 1, ids: ids, visible: rows)
        case .up: table.move(by: -1, ids: ids, visible: rows)
        case .pageDown: table.move(by: max(1, rows - 1), ids: ids, visible: rows)
        case .pageUp: table.move(by: -max(1, rows - 1), ids: ids, visible: rows)
        case .top: table.move(by: -ids.count, ids: ids, visible: rows)
        case .bottom: table.move(by: ids.count, ids: ids, visible: rows)
        default: break
        }
        return []
    }

    public mutating func receive(_ feed: Feed, _ data: Loaded, _ env: ScreenEnv) -> [ScreenReply] {
        guard feed == .usage(tenant, key), case .usage(let r, _) = data else { return [] }
        report = r
        if table.selected == nil || !(r.rows.indices.contains(table.selected!)) { table = TableState(selected: r.rows.isEmpty ? nil : 0) }
        return []
    }

    public func summary(_ env: ScreenEnv) -> [(String, Role)] {
        var parts: [(String, Role)] = [(tenant.rawValue, .accent)]
        if let key { parts.append(("key \(key)", .accent)) }
        guard let r = report else {
            let failure = env.status(.usage(tenant, key)).failure
            return parts + [(failure.map { "key_usage: \($0.message)" } ?? "reading key_usage…", failure == nil ? .dim : .error)]
        }
        let h = r.lastHour
        parts.append(("last hour: \(Format.count(h.requests)) requests", .normal))
        parts.append(("\(Format.count(h.clientErrors)) 4xx · \(Format.count(h.denials)) 429 · \(Format.count(h.serverErrors)) 5xx",
                      h.serverErrors > 0 ? .bad : h.denials > 0 ? .warn : .normal))
        return parts
    }

    public func position(_ env: ScreenEnv) -> String? {
        guard let r = report, !r.rows.isEmpty else { return nil }
        return "\((table.selected ?? 0) + 1)/\(r.rows.count)"
    }

    enum Column: Sendable { case name, requests, e4xx, e429, e5xx, tokensIn, tokensOut, p50, p95 }
    static let figures: [ColumnSpec<Column>] = [
        ColumnSpec(.requests, 9), ColumnSpec(.e4xx, 7), ColumnSpec(.e429, 7), ColumnSpec(.e5xx, 7),
        ColumnSpec(.tokensIn, 10, priority: 1), ColumnSpec(.tokensOut, 10, priority: 1), ColumnSpec(.p50, 7), ColumnSpec(.p95, 7),
    ]

    static func title(_ c: Column) -> String {
        switch c {
        case .name: ""
        case .requests: "REQUESTS"
        case .e4xx: "4XX"
        case .e429: "429"
        case .e5xx: "5XX"
        case .tokensIn: "TOKENS IN"
        case .tokensOut: "TOKENS OUT"
        case .p50: "P50 MS"
        case .p95: "P95 MS"
        }
    }

    static func cell(_ c: Column, _ t: UsageTotals) -> (String, Role) {
        switch c {
        case .name: ("", .normal)
        case .requests: (Format.count(t.requests), .normal)
        case .e4xx: (Format.count(t.clientErrors), t.clientErrors > 0 ? .warn : .dim)
        case .e429: (Format.count(t.denials), t.denials > 0 ? .warn : .dim)
        case .e5xx: (Format.count(t.serverErrors), t.serverErrors > 0 ? .bad : .dim)
        case .tokensIn: (Format.count(t.tokensIn), .normal)
        case .tokensOut: (Format.count(t.tokensOut), .normal)
        case .p50: (t.p50.map { String(Int($0.rounded())) } ?? "-", .normal)
        case .p95: (t.p95.map { String(Int($0.rounded())) } ?? "-", (t.p95 ?? 0) >= 1000 ? .warn : .normal)
        }
    }

    /// A row of figures after a name column of `nameWidth`.
    func drawFigures(_ grid: inout Grid, _ name: String, _ t: UsageTotals?, x: Int, y: Int, nameWidth: Int, layout: [(Column, Int)], header: Bool) {
        grid.put(Fit.text(name, nameWidth), x: x, y: y, role: header ? .header : .normal)
        var cx = x + nameWidth + 1
        for (c, w) in layout {
            let (text, role) = header ? (Self.title(c), Role.header) : t.map { Self.cell(c, $0) } ?? ("", .normal)
            grid.put(Fit.text(text, w, .right), x: cx, y: y, role: role)
            cx += w + 1
        }
    }

    public func draw(into grid: inout Grid, area: Rect, _ env: ScreenEnv) {
        guard let r = report else {
            let failure = env.status(.usage(tenant, key)).failure
            let text = env.unreadable(.usage, tenant) ?? failure.map { "cannot read key_usage: \($0.message)" } ?? "reading key_usage…"
            grid.put(text, x: area.x + 2, y: area.y + 1, role: failure == nil ? .dim : .error, maxWidth: area.width - 4)
            return
        }
        let dim = env.isStale(.usage(tenant, key))
        // The figures first, leaving a key and route room; the name column takes what they leave.
        let layout = ColumnSpec.layout(Self.figures, width: area.width - 30)
        let nameWidth = min(44, area.width - 2 - layout.reduce(0) { $0 + $1.1 + 1 })
        var y = area.y
        grid.fill(Rect(x: area.x, y: y, width: area.width, height: 1), role: .header)
        drawFigures(&grid, " TOTALS", nil, x: area.x, y: y, nameWidth: nameWidth, layout: layout, header: true)
        drawFigures(&grid, " last hour", r.lastHour, x: area.x, y: y + 1, nameWidth: nameWidth, layout: layout, header: false)
        drawFigures(&grid, " last day", r.lastDay, x: area.x, y: y + 2, nameWidth: nameWidth, layout: layout, header: false)
        y += 4

        // Per minute: requests and errors, each with its own scale, over one time axis.
        grid.fill(Rect(x: area.x, y: y, width: area.width, height: 1), role: .header)
        grid.put(" PER MINUTE, LAST HOUR: REQUESTS (above) AND ERRORS", x: area.x, y: y, role: .header, maxWidth: area.width - 1)
        func series(_ values: [Int], _ noun: String, _ unit: String, y: Int, role: Role) {
            let top = values.max() ?? 0
            grid.put(Sparkline.text(values), x: area.x + 2, y: y, role: dim ? .dim : role)
            let scale = top == 0 ? "no \(noun)" : "█ = \(Format.count(top)) \(unit)"
            grid.put(scale, x: area.x + 3 + values.count, y: y, role: top == 0 ? .dim : role, maxWidth: max(0, area.width - 4 - values.count))
        }
        series(r.perMinute.map(\.requests), "requests", "req/min", y: y + 1, role: .accent)
        series(r.perMinute.map(\.errors), "errors", "err/min", y: y + 2, role: .warn)
        func hm(_ t: Int64) -> String { String(CivilDate(epochSeconds: t).iso8601.dropFirst(11).prefix(5)) }
        grid.put("└ " + hm(r.seriesStart), x: area.x + 2, y: y + 3, role: .dim)
        grid.put(hm(r.seriesStart + 30 * 60), x: area.x + 2 + 28, y: y + 3, role: .dim)
        grid.put(hm(r.seriesStart + 59 * 60) + " UTC ┘", x: area.x + 2 + 59 - 4, y: y + 3, role: .dim)
        y += 5

        grid.fill(Rect(x: area.x, y: y, width: area.width, height: 1), role: .header)
        drawFigures(&grid, " BY KEY AND ROUTE, LAST DAY", nil, x: area.x, y: y, nameWidth: nameWidth, layout: layout, header: true)
        y += 1
        if r.rows.isEmpty {
            grid.put("no requests in the last day", x: area.x + 2, y: y, role: .dim)
            return
        }
        for (i, row) in r.rows.enumerated().dropFirst(table.offset).prefix(max(0, area.y + area.height - y)) {
            let ry = y + i - table.offset
            let name = key == nil ? " \(row.key) \(row.route)" : " \(row.route)"
            drawFigures(&grid, name, row.lastDay, x: area.x, y: ry, nameWidth: nameWidth, layout: layout, header: false)
            if i == table.selected { grid.paint(Rect(x: area.x, y: ry, width: area.width, height: 1), role: .selected) }
        }
    }
}
