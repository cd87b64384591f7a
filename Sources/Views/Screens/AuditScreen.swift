import Backends

/// A tenant's audit log (`:audit [T]`, `a` from the detail): the newest events, followed live (a
/// row shows within 2 s), paged back in time past the oldest loaded row, filtered (`f`: action or
/// prefix, actor, outcome, time range), searched (`/` highlights, `n`/`N` jump). `p` pauses the
/// follow; Enter opens an event. Each event_id shows once.
public struct AuditScreen: Screen {
    public let tenant: TenantID
    public private(set) var query: AuditQuery
    /// Newest first.
    public private(set) var events: [AuditEvent] = []
    private var ids: Set<String> = []
    public private(set) var loaded = false
    public private(set) var paused = false
    /// Arrived while paused, newest first.
    public private(set) var waiting: [AuditEvent] = []
    public private(set) var table = TableState<String>()
    public private(set) var search: String?
    /// The older page asked for, until it answers.
    public private(set) var pendingPage: AuditQuery?
    /// The oldest event of the query has been loaded.
    public private(set) var reachedStart = false

    public static let pageSize = 200

    public init(_ tenant: TenantID, query: AuditQuery? = nil) {
        self.tenant = tenant
        self.query = query ?? AuditQuery(tenant: tenant, limit: Self.pageSize)
    }

    public var subject: TenantID? { tenant }
    public var title: String { "audit \(tenant)" }
    public var needs: Set<Feed> { [.auditFollow(query)] }

    var selectedIndex: Int? { table.selected.flatMap { id in events.firstIndex { $0.eventID == id } } }

    public func bindings(_ env: ScreenEnv) -> [Binding] {
        let none = selectedIndex == nil ? "no event selected" : nil
        let matchless = search == nil ? "nothing searched: / searches the loaded rows" : nil
        return Bindings.table("event") + [
            Binding([.enter, .char("l")], .open, "every column of the event, its detail as JSON", hint: "open", disabled: none),
            Binding([.char("p")], .pause, paused ? "resume following" : "pause following (new rows wait)", hint: paused ? "resume" : "pause"),
            Binding([.char("f")], .filterForm, "filter by action (or prefix: key.*), actor, outcome, time", hint: "filters"),
            Binding([.char("n")], .nextMatch, "next match of the search", disabled: matchless),
            Binding([.char("N")], .previousMatch, "previous match of the search", disabled: matchless),
        ]
    }

    func visible(_ env: ScreenEnv) -> Int { max(1, env.area.height - 1) }

    public mutating func perform(_ action: Action, _ env: ScreenEnv) -> [ScreenReply] {
        let rows = visible(env), ids = events.map(\.eventID)
        func move(_ delta: Int) -> [ScreenReply] {
            let before = selectedIndex ?? 0
            table.move(by: delta, ids: ids, visible: rows)
            // Past the oldest loaded row: the page before it.
            if delta > 0, before + delta >= ids.count - 1 { return olderPage(env) }
            return []
        }
        switch action {
        case .down: return move(1)
        case .up: return move(-1)
        case .pageDown: return move(max(1, rows - 1))
        case .pageUp: return move(-max(1, rows - 1))
        case .top: table.move(by: -ids.count, ids: ids, visible: rows)
        case .bottom: return move(ids.count)
        case .open:
            if let i = selectedIndex { return [.open(EventScreen(events[i]))] }
        case .pause:
            paused.toggle()
            if !paused { resume(env) }
        case .filterForm: return [.dialog(AuditDialogs.filter(query, now: env.now))]
        case .nextMatch: jump(forward: true, env)
        case .previousMatch: jump(forward: false, env)
        default: break
        }
        return []
    }

    /// Asks for the page before the oldest loaded row, unless it is under way (or failed: then
    /// this asks again), or the start was reached.
    private mutating func olderPage(_ env: ScreenEnv) -> [ScreenReply] {
        guard loaded, !reachedStart, let oldest = events.last else { return [] }
        if let p = pendingPage, env.status(.auditPage(p)).failure == nil { return [] }
        var q = query
        q.olderThan = AuditCursor(oldest)
        q.limit = Self.pageSize
        pendingPage = q
        return [.effect(.readOnce(.auditPage(q)))]
    }

    private mutating func resume(_ env: ScreenEnv) {
        let followingTop = selectedIndex == 0 || events.isEmpty
        for e in waiting.reversed() { insertNewest(e) }
        waiting = []
        if followingTop, let first = events.first { table.selected = first.eventID }
        scrollToSelection(env)
    }

    private mutating func insertNewest(_ e: AuditEvent) {
        guard ids.insert(e.eventID).inserted else { return }
        // Newest first; a late row of an earlier second goes where it belongs.
        let i = events.firstIndex { ($0.ts, $0.tsMs, $0.eventID) < (e.ts, e.tsMs, e.eventID) } ?? events.count
        events.insert(e, at: i)
    }

    private mutating func scrollToSelection(_ env: ScreenEnv) {
        if let i = selectedIndex { table.scroll(toShow: i, count: events.count, visible: visible(env)) }
    }

    public mutating func receive(_ feed: Feed, _ data: Loaded, _ env: ScreenEnv) -> [ScreenReply] {
        switch (feed, data) {
        case (.auditFollow(let q), .auditTail(let list, let initial, _)) where q == query:
            let followingTop = selectedIndex == 0 || events.isEmpty
            if initial && !loaded {
                for e in list where ids.insert(e.eventID).inserted { events.append(e) }
                loaded = true
                reachedStart = list.count < query.limit
            } else if paused {
                for e in list where !ids.contains(e.eventID) && !waiting.contains(where: { $0.eventID == e.eventID }) { waiting.insert(e, at: 0) }
            } else {
                for e in list { insertNewest(e) }
            }
            if followingTop, let first = events.first { table.selected = first.eventID }
            scrollToSelection(env)
        case (.auditPage(let q), .audit(let list, _)) where q == pendingPage:
            pendingPage = nil
            for e in list where ids.insert(e.eventID).inserted { events.append(e) }
            reachedStart = list.count < q.limit
        default: break
        }
        return []
    }

    public mutating func submitted(_ result: FormResult, _ env: ScreenEnv) -> [ScreenReply] {
        guard case .auditQuery(let q) = result, q.tenant == tenant else { return [] }
        self = AuditScreen(tenant, query: q)   // a new query starts afresh; the old follow stops
        return []
    }

    // MARK: Search

    public var filter: String? { search }
    public var textFilter: TextFilter { .search }

    public mutating func setFilter(_ text: String?, _ env: ScreenEnv) -> [ScreenReply] {
        search = text.flatMap { $0.isEmpty ? nil : $0 }
        if search != nil, let i = selectedIndex, !matches(events[i]) { jump(forward: true, env) }
        return []
    }

    func matches(_ e: AuditEvent) -> Bool {
        guard let needle = search?.lowercased() else { return false }
        return [e.action, e.actor, e.actorType, e.resource, e.outcome, e.ip, e.requestID, e.eventID, e.detail].contains { $0.lowercased().contains(needle) }
    }

    private mutating func jump(forward: Bool, _ env: ScreenEnv) {
        guard !events.isEmpty else { return }
        let start = selectedIndex ?? (forward ? -1 : events.count)
        let order = forward ? Array((start + 1)..<events.count) + Array(0...max(0, start)) : Array((0..<max(0, start)).reversed()) + Array((start..<events.count).reversed())
        if let i = order.first(where: { events.indices.contains($0) && matches(events[$0]) }) {
            table.selected = events[i].eventID
            scrollToSelection(env)
        }
    }

    // MARK: Drawing

    public func summary(_ env: ScreenEnv) -> [(String, Role)] {
        var parts: [(String, Role)] = [(tenant.rawValue, .accent)]
        let feed = Feed.auditFollow(query)
        if env.isStale(feed) {
            let since = env.status(feed).lastOK.map { Format.when(Int64($0), now: env.now) } ?? "the start"
            parts.append(("ClickHouse stalled: no answer since \(since)" + (env.status(feed).failure.map { ": \($0.message)" } ?? ""), .error))
        } else if paused {
            parts.append(("PAUSED: \(waiting.count) new rows wait (p resumes)", .warn))
        } else {
            parts.append(("following", .good))
        }
        if loaded {
            parts.append(events.isEmpty ? ("none match", .dim)
                         : reachedStart ? ("all \(events.count) loaded", .normal) : ("\(events.count) loaded, more below", .normal))
        }
        if let f = Self.describe(query) { parts.append((f, .accent)) }
        if search != nil { parts.append(("search \(SafeText.quoted(search!)): \(events.filter(matches).count) matches", .accent)) }
        return parts
    }

    /// The filters in words, or nil without any.
    static func describe(_ q: AuditQuery) -> String? {
        var f: [String] = []
        if let a = q.action { f.append("action \(a)") }
        if let a = q.actor { f.append("actor \(a)") }
        if let o = q.outcome { f.append("outcome \(o)") }
        if let s = q.since { f.append("since \(CivilDate(epochSeconds: s).iso8601)") }
        if let u = q.before { f.append("until \(CivilDate(epochSeconds: u).iso8601)") }
        return f.isEmpty ? nil : f.joined(separator: ", ")
    }

    public func position(_ env: ScreenEnv) -> String? {
        loaded ? "\(selectedIndex.map { $0 + 1 } ?? 0)/\(events.count)\(reachedStart ? "" : "+")" : nil
    }

    enum Column: Sendable { case time, action, outcome, actor, resource, ip, request, detail }
    static let columns: [ColumnSpec<Column>] = [
        ColumnSpec(.time, 14), ColumnSpec(.action, 16, max: 20), ColumnSpec(.outcome, 7), ColumnSpec(.actor, 18, max: 28),
        ColumnSpec(.resource, 18, max: 32, priority: 1), ColumnSpec(.ip, 15, priority: 2), ColumnSpec(.request, 14, max: 24, priority: 3),
        ColumnSpec(.detail, 10, max: 200, priority: 1),
    ]

    public func draw(into grid: inout Grid, area: Rect, _ env: ScreenEnv) {
        let layout = ColumnSpec.layout(Self.columns, width: area.width - 1)
        grid.fill(Rect(x: area.x, y: area.y, width: area.width, height: 1), role: .header)
        var x = area.x + 1
        for (c, w) in layout {
            let title = switch c {
            case .time: "TIME (UTC)▼"
            case .action: "ACTION"
            case .outcome: "OUTCOME"
            case .actor: "ACTOR"
            case .resource: "RESOURCE"
            case .ip: "IP"
            case .request: "REQUEST ID"
            case .detail: "DETAIL"
            }
            grid.put(Fit.text(title, w), x: x, y: area.y, role: .header)
            x += w + 1
        }
        guard loaded else {
            let failure = env.status(.auditFollow(query)).failure
            grid.put(failure.map { "cannot read the audit log: \($0.message)" } ?? "reading the audit log of \(tenant)…",
                     x: area.x + 2, y: area.y + 2, role: failure == nil ? .dim : .error, maxWidth: area.width - 4)
            return
        }
        if events.isEmpty {
            grid.put(Self.describe(query) == nil ? "no audit events of \(tenant)" : "no audit event of \(tenant) matches the filters (f changes them)",
                     x: area.x + 2, y: area.y + 2, role: .dim)
            return
        }
        let rows = area.height - 1
        let selected = selectedIndex
        for (i, e) in events.enumerated().dropFirst(table.offset).prefix(rows) {
            let y = area.y + 1 + i - table.offset
            let hit = matches(e)
            var x = area.x + 1
            for (c, w) in layout {
                let (text, role) = Self.cell(c, e, now: env.now)
                grid.put(Fit.text(text, w), x: x, y: y, role: hit && role != .warn ? .accent : role)
                x += w + 1
            }
            if i == selected { grid.paint(Rect(x: area.x, y: y, width: area.width, height: 1), role: .selected) }
        }
        let last = table.offset + rows - 1
        if last >= events.count - 1, !reachedStart, events.count <= table.offset + rows, events.count - table.offset < rows {
            let note: String
            if let p = pendingPage, let f = env.status(.auditPage(p)).failure { note = "older rows could not be read: \(f.message) (↓ tries again)" }
            else { note = pendingPage == nil ? "↓ past the last row loads older ones" : "loading older rows…" }
            grid.put(note, x: area.x + 2, y: area.y + 1 + events.count - table.offset, role: .dim, maxWidth: area.width - 4)
        }
    }

    static func cell(_ c: Column, _ e: AuditEvent, now: Double) -> (String, Role) {
        switch c {
        case .time:
            let t = CivilDate(epochSeconds: e.ts)
            func p(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let today = CivilDate(epochSeconds: Int64(now))
            let day = (t.year, t.month, t.day) == (today.year, today.month, today.day) ? "" : "\(p(t.month))-\(p(t.day)) "
            let time = day + "\(p(t.hour)):\(p(t.minute)):\(p(t.second))"
            return e.isAhead(of: now) ? ("ahead " + time, .warn) : (time, .dim)
        case .action: return (e.action, .normal)
        case .outcome: return (e.outcome, e.outcome == "success" ? .good : e.outcome == "denied" ? .warn : .bad)
        case .actor: return ("\(e.actorType):\(e.actor)", .normal)
        case .resource: return (e.resource, .dim)
        case .ip: return (e.ip.isEmpty ? "·" : e.ip, .dim)
        case .request: return (e.requestID.isEmpty ? "·" : e.requestID, .dim)
        case .detail: return (e.detail, .dim)
        }
    }
}

/// One audit event: every column, and its detail as indented JSON; everything sanitised when drawn.
public struct EventScreen: Screen {
    public let event: AuditEvent
    public private(set) var offset = 0

    public init(_ event: AuditEvent) { self.event = event }

    public var subject: TenantID? { event.tenant }
    public var title: String { "event \(event.eventID.prefix(8))" }
    public var needs: Set<Feed> { [] }

    /// The lines at `width`: the fields, then the detail, wrapped.
    func lines(width: Int, now: Double) -> [(String, Role)] {
        let ms = String(event.tsMs)
        let time = CivilDate(epochSeconds: event.ts).iso8601.dropLast() + "." + String(repeating: "0", count: 3 - ms.count) + ms + "Z"
        var out: [(String, Role)] = [
            ("event_id    \(event.eventID)", .normal), ("tenant_id   \(event.tenant)", .normal),
            ("ts          \(time)" + (event.isAhead(of: now) ? "   (dated ahead of this clock: a gateway's clock runs fast)" : ""),
             event.isAhead(of: now) ? .warn : .normal),
            ("actor       \(event.actor)", .normal), ("actor_type  \(event.actorType)", .normal), ("action      \(event.action)", .normal),
            ("resource    \(event.resource)", .normal), ("outcome     \(event.outcome)", event.outcome == "success" ? .good : .warn),
            ("ip          \(event.ip)", .normal), ("request_id  \(event.requestID)", .normal), ("", .normal), ("detail", .header),
        ]
        for line in event.prettyDetail.split(separator: "\n", omittingEmptySubsequences: false) {
            let text = SafeText.clean(String(line))
            let chars = Array(text)
            if chars.isEmpty { out.append(("", .normal)); continue }
            for start in stride(from: 0, to: chars.count, by: max(1, width - 4)) {
                out.append(("  " + String(chars[start..<min(chars.count, start + width - 4)]), .accent))
            }
        }
        return out
    }

    public func bindings(_ env: ScreenEnv) -> [Binding] {
        [Binding([.char("j"), .down], .down, "scroll down", hint: "scroll"), Binding([.char("k"), .up], .up, "scroll up"),
         Binding([.pageDown, .char(" ")], .pageDown, "page down"), Binding([.pageUp], .pageUp, "page up"),
         Binding([.char("g"), .home], .top, "the first line"), Binding([.char("G"), .end], .bottom, "the last line")]
    }

    public mutating func perform(_ action: Action, _ env: ScreenEnv) -> [ScreenReply] {
        let total = lines(width: env.area.width, now: env.now).count, page = max(1, env.area.height - 1)
        let delta: Int
        switch action {
        case .down: delta = 1
        case .up: delta = -1
        case .pageDown: delta = page
        case .pageUp: delta = -page
        case .top: delta = -total
        case .bottom: delta = total
        default: return []
        }
        offset = max(0, min(max(0, total - env.area.height), offset + delta))
        return []
    }

    public mutating func receive(_ feed: Feed, _ data: Loaded, _ env: ScreenEnv) -> [ScreenReply] { [] }

    public func summary(_ env: ScreenEnv) -> [(String, Role)] {
        [(event.tenant.rawValue, .accent), (event.action, .normal), (event.outcome, event.outcome == "success" ? .good : .warn),
         (Format.when(event.ts, now: env.now), .dim)]
    }

    public func position(_ env: ScreenEnv) -> String? {
        let total = lines(width: env.area.width, now: env.now).count
        return "line \(min(total, offset + 1))/\(total)"
    }

    public func draw(into grid: inout Grid, area: Rect, _ env: ScreenEnv) {
        for (i, line) in lines(width: area.width, now: env.now).dropFirst(offset).prefix(area.height).enumerated() {
            grid.put(line.0, x: area.x + 1, y: area.y + i, role: line.1, maxWidth: area.width - 2)
        }
    }
}
