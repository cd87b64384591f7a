import Backends

/// Every column a fleet table can show, as data: title, width, alignment, how a row becomes a
/// cell and how rows sort by it. A screen picks its columns with a priority each (lower numbers
/// survive narrow terminals).
public enum TenantColumn: String, CaseIterable, Sendable {
    case rank, tenant, tier, status, requests, rate, share, hottest, load, throttle, denied, deniedRate, budget, burn, reset
    case sessions, cache, active, rotating, retired, revoked, expired

    public var title: String {
        switch self {
        case .rank: "#"
        case .tenant: "TENANT"
        case .tier: "TIER"
        case .status: "STATUS"
        case .requests: "REQ/WIN"
        case .rate: "REQ/S"
        case .share: "SHARE"
        case .hottest: "HOTTEST ROUTE"
        case .load: "LOAD"
        case .throttle: "THROTTLE"
        case .denied: "DENIED"
        case .deniedRate: "DENY/S"
        case .budget: "BUDGET"
        case .burn: "TOK/S"
        case .reset: "RESET"
        case .sessions: "SESS"
        case .cache: "CACHE"
        case .active: "ACT"
        case .rotating: "ROT"
        case .retired: "RET"
        case .revoked: "REV"
        case .expired: "EXP"
        }
    }

    /// Minimum width; flexible columns also take a share of any spare room, up to `maxWidth`.
    var width: Int {
        switch self {
        case .rank: 4
        case .tenant: 12
        case .tier: 4
        case .status: 6
        case .requests: 8
        case .rate, .deniedRate, .burn: 6
        case .share: 12
        case .hottest: 14
        case .load: 5
        case .throttle: 8
        case .denied: 6
        case .budget: 6
        case .reset: 6
        case .sessions, .cache: 5
        case .active, .rotating, .retired, .revoked, .expired: 3
        }
    }

    var maxWidth: Int {
        switch self {
        case .tenant: 24
        case .hottest: 22
        case .share: 30
        default: width
        }
    }

    public var align: Fit.Align {
        switch self {
        case .tenant, .tier, .status, .hottest, .throttle, .share: .left
        default: .right
        }
    }

    /// The first sort direction when a table is sorted by this column.
    public var descendingFirst: Bool {
        switch self {
        case .rank, .tenant, .tier, .status, .hottest, .reset: false
        default: true
        }
    }

    /// The text and role of this column's cell. `now` moves countdowns between refreshes.
    public func cell(_ row: FleetRow, width: Int, now: Double) -> (String, Role) {
        let t = row.tenant
        switch self {
        case .rank:
            return (String(row.rates.rank), .dim)
        case .tenant:
            return (t.id.rawValue + (t.hasProblems ? " !" : ""), t.hasProblems ? .error : .normal)
        case .tier:
            switch t.meta.value?.tier {
            case .ok(.enterprise)?: return ("ent", .normal)
            case .ok(.smb)?: return ("smb", .normal)
            default: return ("ERR", .error)
            }
        case .status:
            switch t.meta.value?.status {
            case .ok(.active)?: return ("active", .normal)
            case .ok(.suspended)?: return ("susp", .warn)
            default: return ("ERR", .error)
            }
        case .requests:
            return (Format.count(t.requests), .normal)
        case .rate:
            return row.rates.requestsPerSecond.map { (Format.rate($0), .normal) } ?? ("-", .dim)
        case .share:
            let pct = Format.percent(row.rates.share * 100)
            let bar = Bar.text(row.rates.share, width: max(0, width - 6))
            return (bar + " " + pct, row.rates.share >= 0.25 ? .warn : .normal)
        case .hottest:
            guard let h = t.hottest else { return (t.routes.isEmpty ? "-" : "ERR", t.routes.isEmpty ? .dim : .error) }
            return (h.route.rawValue, h.state.limitingThrottle == nil ? .normal : .warn)
        case .load:
            guard let u = t.hottest?.state.utilisation else { return ("-", .dim) }
            return (Format.percent(u * 100), u >= 1 ? .bad : u >= FleetTotals.nearShare ? .warn : .good)
        case .throttle:
            guard let left = Self.throttleLeft(t, now: now) else { return ("·", .dim) }
            let all = t.throttles.contains { $0.route == .all && $0.isLive(at: now) }
            let limiting = t.routes.contains { $0.state.value?.limitingThrottle != nil }
            return ("⏷" + (all ? "all " : "") + Format.shortDuration(left), limiting ? .warn : .normal)
        case .denied:
            return (Format.count(t.denied), t.denied > 0 ? .bad : .dim)
        case .deniedRate:
            guard let d = row.rates.deniedPerSecond else { return ("-", .dim) }
            return (Format.rate(d), d > 0 ? .bad : .dim)
        case .budget:
            switch t.budget {
            case nil: return ("-", .dim)
            case .bad?: return ("ERR", .error)
            case .ok(let b)?:
                let role: Role = b.level == .exhausted ? .bad : b.level == .soft ? .warn : .good
                return ((b.percentUsed.map(Format.percent) ?? "-") + (b.tempRaiseActive ? "+" : ""), role)
            }
        case .burn:
            guard t.budget?.value != nil else { return ("-", .dim) }
            return row.rates.tokensPerSecond.map { (Format.rate($0), .normal) } ?? ("-", .dim)
        case .reset:
            guard let b = t.budget?.value else { return ("-", .dim) }
            return (Format.duration(b.resetIn(at: now)), .dim)   // a kept state was read earlier
        case .sessions:
            guard let k = t.keyspace else { return ("-", .dim) }   // not counted yet
            return (Format.count(k.sessions), .normal)
        case .cache:
            guard let k = t.keyspace else { return ("-", .dim) }
            return (Format.count(k.cacheEntries), .normal)
        case .active: return Self.keyCell(t.keys[.active], .normal, t.keys.expiringSoon > 0 ? .warn : nil)
        case .rotating: return Self.keyCell(t.keys[.rotating], .normal, nil)
        case .retired: return Self.keyCell(t.keys[.retired], .dim, nil)
        case .revoked: return Self.keyCell(t.keys[.revoked], .dim, nil)
        case .expired: return Self.keyCell(t.keys[.expired], .warn, nil)
        }
    }

    /// Seconds left of the longest live throttle, or nil.
    static func throttleLeft(_ t: TenantState, now: Double) -> Double? {
        t.throttles.lazy.filter { $0.isLive(at: now) }.map { Double($0.expiresAt) - now }.max()
    }

    private static func keyCell(_ n: Int, _ role: Role, _ override: Role?) -> (String, Role) {
        n == 0 ? ("·", .dim) : (String(n), override ?? role)
    }

    var sortsAsText: Bool { self == .tenant || self == .tier || self == .status || self == .hottest }

    /// The sort key of a numeric column (`nil` for the text columns); missing values sort lowest.
    func number(_ t: TenantState, _ rates: TenantRates, now: Double) -> Double? {
        switch self {
        case .tenant, .tier, .status, .hottest: return nil
        case .rank: return Double(rates.rank)
        case .requests: return Double(t.requests)
        case .rate: return rates.requestsPerSecond ?? -1
        case .share: return rates.share
        case .load: return t.hottest?.state.utilisation ?? -1
        case .throttle: return Self.throttleLeft(t, now: now) ?? -1
        case .denied: return Double(t.denied)
        case .deniedRate: return rates.deniedPerSecond ?? -1
        case .budget: return t.budget?.value?.percentUsed ?? -1
        case .burn: return rates.tokensPerSecond ?? -1
        case .reset: return t.budget?.value?.resetIn(at: now) ?? .infinity
        case .sessions: return Double(t.keyspace?.sessions ?? -1)
        case .cache: return Double(t.keyspace?.cacheEntries ?? -1)
        case .active: return Double(t.keys[.active])
        case .rotating: return Double(t.keys[.rotating])
        case .retired: return Double(t.keys[.retired])
        case .revoked: return Double(t.keys[.revoked])
        case .expired: return Double(t.keys[.expired])
        }
    }

    /// The sort key of a text column.
    func text(_ row: FleetRow) -> String {
        switch self {
        case .hottest: row.tenant.hottest?.route.rawValue ?? ""
        case .tier, .status: cell(row, width: width, now: 0).0
        default: row.tenant.id.rawValue
        }
    }

    /// Columns of `columns` (each with its priority) that fit `width`, with their widths.
    public static func layout(_ columns: [(TenantColumn, Int)], width: Int) -> [(TenantColumn, Int)] {
        ColumnSpec.layout(columns.map { ColumnSpec($0.0, $0.0.width, max: $0.0.maxWidth, priority: $0.1) }, width: width)
    }
}
