import Backends

/// A live read a screen needs while it is shown. The console starts a read loop for each feed the
/// current screen needs and cancels it when the screen goes (the loop in Console/Live).
public enum Feed: Hashable, Sendable {
    case fleet
    case tenant(TenantID)
    case keys(TenantID)
    case recentAudit(TenantID)
    /// A tenant's usage, or one key's.
    case usage(TenantID, KeyID?)
    /// The audit screen: the newest events that match, then what arrives (follow).
    case auditFollow(AuditQuery)
    /// One page of older events (read once, `Effect.readOnce`).
    case auditPage(AuditQuery)
    /// Keys across the fleet that expire within 7 days or are in grace.
    case expiringKeys
    /// A tenant's realm or group in Keycloak: users and sessions.
    case identity(TenantID)

    public enum Store: String, Sendable { case redis, clickhouse, keycloak }

    /// What the policy must allow for this read, of which tenant (nil: the fleet).
    public var access: (kind: ReadKind, tenant: TenantID?) {
        switch self {
        case .fleet, .expiringKeys: (.tenants, nil)
        case .tenant(let t), .keys(let t): (.tenants, t)
        case .recentAudit(let t): (.audit, t)
        case .identity(let t): (.sessions, t)
        case .usage(let t, _): (.usage, t)
        case .auditFollow(let q), .auditPage(let q): (.audit, q.tenant)
        }
    }

    public var store: Store {
        switch self {
        case .fleet, .tenant, .keys, .expiringKeys: .redis
        case .recentAudit, .usage, .auditFollow, .auditPage: .clickhouse
        case .identity: .keycloak
        }
    }

    /// Seconds between reads, given the console's refresh setting: counters move every second,
    /// key metadata and audit rows more slowly, per-minute usage once a minute is enough.
    public func interval(refresh: Double) -> Double {
        switch self {
        case .fleet, .tenant: refresh
        case .keys, .expiringKeys: max(refresh, 5)
        case .recentAudit: max(refresh, 2)
        case .auditFollow, .auditPage: 1   // a row shows within 2 s
        case .usage, .identity: max(refresh, 30)   // sessions are counted by Keycloak's admin API: no need to ask often
        }
    }
}

/// What a feed answered.
public enum Loaded: Sendable {
    case fleet(FleetDigest)
    case tenant(TenantDetail)
    case keys([APIKey], at: Double)
    case audit([AuditEvent], at: Double)
    case usage(UsageReport, at: Double)
    case identity(TenantIdentity, at: Double)
    case expiring([ExpiringKey], at: Double)
    /// `.auditFollow`: the newest events, newest first (`initial`), then what arrived, oldest first.
    case auditTail([AuditEvent], initial: Bool, at: Double)
}

/// One tenant read fresh, with the console's own request-rate samples of it.
public struct TenantDetail: Sendable {
    public let state: TenantState
    public let takenAt: Double
    public let series: RateSeries

    public init(state: TenantState, takenAt: Double, series: RateSeries) {
        self.state = state
        self.takenAt = takenAt
        self.series = series
    }
}

/// When each feed last answered and last failed: the header's backend states, and whether a
/// screen's data is stale.
public struct FeedStatus: Sendable, Equatable {
    public var lastOK: Double?
    public var failure: (message: String, at: Double)?

    public static func == (a: FeedStatus, b: FeedStatus) -> Bool {
        a.lastOK == b.lastOK && a.failure?.message == b.failure?.message && a.failure?.at == b.failure?.at
    }

    /// The last attempt failed, or the data is much older than the feed's interval.
    public func isStale(now: Double, interval: Double) -> Bool {
        if let f = failure, f.at >= (lastOK ?? -1) { return true }
        guard let ok = lastOK else { return false }   // still loading
        return now - ok > 3 * interval + 2
    }
}

/// What a screen may read while it decides or draws: the clock, the session (who, what is
/// allowed), the latest fleet and the feeds' states. Built fresh by the app for every call.
public struct ScreenEnv: Sendable {
    public let now: Double
    public let session: SessionInfo
    public let fleet: FleetDigest?
    public let feeds: [Feed: FeedStatus]
    /// The screen's area: paging moves by its height.
    public let area: Rect

    public init(now: Double, session: SessionInfo, fleet: FleetDigest?, feeds: [Feed: FeedStatus], area: Rect) {
        self.now = now
        self.session = session
        self.fleet = fleet
        self.feeds = feeds
        self.area = area
    }

    public func status(_ feed: Feed) -> FeedStatus { feeds[feed] ?? FeedStatus() }
    public func isStale(_ feed: Feed) -> Bool { status(feed).isStale(now: now, interval: feed.interval(refresh: session.refresh)) }
    /// Why `kind` is refused on `tenant` now, or nil: the same policy the action layer applies.
    public func refusal(_ kind: ActionKind, _ tenant: TenantID?) -> String? { session.policy.refusal(kind, tenant: tenant) }
    /// Why the audit log or key usage of `tenant` cannot be read here: no ClickHouse, or the
    /// policy (a viewer reads neither); nil when it can.
    public func unreadable(_ kind: ReadKind, _ tenant: TenantID) -> String? {
        if session.auditStore == nil { return "\(kind == .usage ? "key usage needs" : "audit events need") ClickHouse: pass --clickhouse URL or set TOLLGATE_CLICKHOUSE_URL" }
        return session.policy.refusal(kind, tenant: tenant)
    }
}

/// What a screen asks of the app after a key or new data.
public enum ScreenReply: Sendable {
    case effect(Effect)
    case open(any Screen)
    case dialog(FormDialog)
    case notice(Notice)
}

/// What `/` does on a screen.
public enum TextFilter: Sendable {
    /// The screen has no table.
    case none
    /// The rows that do not match are hidden (`!` negates).
    case filter
    /// The matches are highlighted and `n`/`N` jump between them; nothing is hidden.
    case search
}

/// One screen of the console: its state, its bindings, the live data it needs, how it draws.
/// Pure: a screen never does I/O; it asks for it with replies.
public protocol Screen: Sendable {
    /// Shown in the header, e.g. `tenant acme`.
    var title: String { get }
    var needs: Set<Feed> { get }
    func bindings(_ env: ScreenEnv) -> [Binding]
    mutating func perform(_ action: Action, _ env: ScreenEnv) -> [ScreenReply]
    mutating func receive(_ feed: Feed, _ data: Loaded, _ env: ScreenEnv) -> [ScreenReply]
    /// A fleet table's rows, arranged off the UI thread. Screens without one ignore it.
    mutating func receive(_ arrangement: FleetArrangement, _ env: ScreenEnv)
    /// The screen becomes the current one (opened, or reached again through history).
    mutating func appear(_ env: ScreenEnv) -> [ScreenReply]
    /// The text typed after `/`: nil means none.
    var filter: String? { get }
    /// What `/` does here: hide the rows that do not match, highlight the matches, or nothing.
    var textFilter: TextFilter { get }
    mutating func setFilter(_ text: String?, _ env: ScreenEnv) -> [ScreenReply]
    /// The header's second line: what this screen is about, in a few facts.
    func summary(_ env: ScreenEnv) -> [(String, Role)]
    /// The footer's right corner, e.g. `12/40`.
    func position(_ env: ScreenEnv) -> String?
    /// The tenant the screen is about, if one: `:keys` with no tenant means this one.
    var subject: TenantID? { get }
    /// What a form the screen opened gave back, other than an action (an audit filter).
    mutating func submitted(_ result: FormResult, _ env: ScreenEnv) -> [ScreenReply]
    func draw(into grid: inout Grid, area: Rect, _ env: ScreenEnv)
}

extension Screen {
    public mutating func receive(_ arrangement: FleetArrangement, _ env: ScreenEnv) {}
    public mutating func appear(_ env: ScreenEnv) -> [ScreenReply] { [] }
    public var filter: String? { nil }
    public var textFilter: TextFilter { .none }
    public mutating func setFilter(_ text: String?, _ env: ScreenEnv) -> [ScreenReply] { [] }
    public func position(_ env: ScreenEnv) -> String? { nil }
    public var subject: TenantID? { nil }
    public mutating func submitted(_ result: FormResult, _ env: ScreenEnv) -> [ScreenReply] { [] }
}
