import Backends

/// The overview's columns as data: title, width, alignment, priority (lower numbers survive narrow
/// terminals), how a tenant becomes a cell, and how it sorts.
public enum OverviewColumn: String, CaseIterable, Sendable {
    case tenant, tier, status, requests, hottest, load, denied, budget, reset, sessions, cache, active, rotating, retired, revoked, expired

    public var title: String {
        switch self {
        case .tenant: "TENANT"
        case .tier: "TIER"
        case .status: "STATUS"
        case .requests: "REQ/WIN"
        case .hottest: "HOTTEST ROUTE"
        case .load: "LOAD"
        case .denied: "DENIED"
        case .budget: "BUDGET"
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

    /// Minimum width; `tenant` and `hottest` also take any spare room.
    var width: Int {
        switch self {
        case .tenant: 12
        case .tier: 4
        case .status: 6
        case .requests: 8
        case .hottest: 14
        case .load: 5
        case .denied: 6
        case .budget: 6
        case .reset: 6
        case .sessions, .cache: 5
        case .active, .rotating, .retired, .revoked, .expired: 3
        }
    }

    var flexible: Bool { self == .tenant || self == .hottest }
    public var align: Fit.Align { self == .tenant || self == .tier || self == .status || self == .hottest ? .left : .right }

    /// Columns are dropped from the highest number down until the rest fit.
    var priority: Int {
        switch self {
        case .tenant, .requests, .load, .denied, .budget: 0
        case .hottest, .status: 1
        case .reset, .active: 2
        case .expired, .rotating: 3
        case .tier, .sessions: 4
        case .revoked, .retired, .cache: 5
        }
    }

    /// The text and role of this column's cell for a tenant.
    public func cell(_ t: TenantState) -> (String, Role) {
        switch self {
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
        case .hottest:
            guard let h = t.hottest else { return (t.routes.isEmpty ? "-" : "ERR", t.routes.isEmpty ? .dim : .error) }
            guard let th = h.state.limitingThrottle else { return (h.route.rawValue, .normal) }
            // Held down by a throttle: say for how much longer.
            return (h.route.rawValue + " ⏷" + Format.duration(Double(th.expiresAt) - h.state.now), .warn)
        case .load:
            guard let u = t.hottest?.state.utilisation else { return ("-", .dim) }
            return (Format.percent(u * 100), u >= 1 ? .bad : u >= 0.8 ? .warn : .good)
        case .denied:
            return (Format.count(t.denied), t.denied > 0 ? .bad : .dim)
        case .budget:
            switch t.budget {
            case nil: return ("-", .dim)
            case .bad?: return ("ERR", .error)
            case .ok(let b)?:
                let role: Role = b.level == .exhausted ? .bad : b.level == .soft ? .warn : .good
                return ((b.percentUsed.map(Format.percent) ?? "-") + (b.tempRaiseActive ? "+" : ""), role)
            }
        case .reset:
            guard let b = t.budget?.value else { return ("-", .dim) }
            return (Format.duration(b.resetIn), .dim)
        case .sessions:
            guard let k = t.keyspace else { return ("-", .dim) }   // not counted yet
            return (Format.count(k.sessions), .normal)
        case .cache:
            guard let k = t.keyspace else { return ("-", .dim) }
            return (Format.count(k.cacheEntries), .normal)
        case .active: return keyCell(t.keys[.active], .normal, t.keys.expiringSoon > 0 ? .warn : nil)
        case .rotating: return keyCell(t.keys[.rotating], .normal, nil)
        case .retired: return keyCell(t.keys[.retired], .dim, nil)
        case .revoked: return keyCell(t.keys[.revoked], .dim, nil)
        case .expired: return keyCell(t.keys[.expired], .warn, nil)
        }
    }

    private func keyCell(_ n: Int, _ role: Role, _ override: Role?) -> (String, Role) {
        n == 0 ? ("·", .dim) : (String(n), override ?? role)
    }

    /// Sort order of two tenants by this column; ties fall back to the tenant id.
    func less(_ a: TenantState, _ b: TenantState) -> Bool? {
        func cmp<T: Comparable>(_ x: T, _ y: T) -> Bool? { x == y ? nil : x < y }
        switch self {
        case .tenant: return cmp(a.id, b.id)
        case .tier: return cmp(cell(a).0, cell(b).0)
        case .status: return cmp(cell(a).0, cell(b).0)
        case .requests: return cmp(a.requests, b.requests)
        case .hottest: return cmp(a.hottest?.route.rawValue ?? "", b.hottest?.route.rawValue ?? "")
        case .load: return cmp(a.hottest?.state.utilisation ?? -1, b.hottest?.state.utilisation ?? -1)
        case .denied: return cmp(a.denied, b.denied)
        case .budget: return cmp(a.budget?.value?.percentUsed ?? -1, b.budget?.value?.percentUsed ?? -1)
        case .reset: return cmp(a.budget?.value?.resetIn ?? .infinity, b.budget?.value?.resetIn ?? .infinity)
        case .sessions: return cmp(a.keyspace?.sessions ?? -1, b.keyspace?.sessions ?? -1)
        case .cache: return cmp(a.keyspace?.cacheEntries ?? -1, b.keyspace?.cacheEntries ?? -1)
        case .active: return cmp(a.keys[.active], b.keys[.active])
        case .rotating: return cmp(a.keys[.rotating], b.keys[.rotating])
        case .retired: return cmp(a.keys[.retired], b.keys[.retired])
        case .revoked: return cmp(a.keys[.revoked], b.keys[.revoked])
        case .expired: return cmp(a.keys[.expired], b.keys[.expired])
        }
    }

    /// Columns that fit `width`, with their widths (flexible ones share the spare room).
    public static func layout(width: Int) -> [(OverviewColumn, Int)] {
        var cols = allCases
        func needed(_ c: [OverviewColumn]) -> Int { c.reduce(0) { $0 + $1.width } + max(0, c.count - 1) }
        while needed(cols) > width, let drop = cols.filter({ $0.priority > 0 }).max(by: { $0.priority < $1.priority }) {
            cols.removeAll { $0 == drop }
        }
        var spare = max(0, width - needed(cols))
        let flex = cols.filter(\.flexible)
        return cols.map { c in
            guard c.flexible, !flex.isEmpty else { return (c, c.width) }
            let share = min(spare, max(0, (c == .tenant ? 24 : 22) - c.width))
            spare -= share
            return (c, c.width + share)
        }
    }
}
