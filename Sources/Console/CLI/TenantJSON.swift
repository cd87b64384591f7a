import Backends
import Views

/// The machine form of `tenants list/show`. Field names are the contract's; times are epoch
/// seconds; a value that broke the contract is `null` with its reason in `error`.
/// `tenants list --json`: one document, `{"index_error":…,…,"taken_at":…,"tenants":[…]}`, keys
/// sorted, written a slice of tenants at a time as they are read, so its memory does not grow
/// with the fleet. A read that fails half-way leaves the document unfinished, and the exit code
/// and stderr say why.
struct FleetJSON: Encodable {
    let taken_at: Double
    let malformed_tenant_ids: Int
    /// When the incremental count of sessions and cache entries last completed (null: not yet).
    let keyspace_counted_at: Double?
    let keyspace_error: String?
    let index_error: String?
    init(_ f: FleetSnapshot) {
        taken_at = f.takenAt
        malformed_tenant_ids = f.malformedTenantIDs
        keyspace_counted_at = f.keyspaceAsOf
        keyspace_error = f.keyspaceProblem
        index_error = f.indexProblem
    }

    static let slice = 500

    static func stream(_ fleet: any FleetReading) async throws {
        var opened = false
        try await fleet.fleet(slicesOf: slice) { (s: FleetSnapshot) throws(BackendError) in
            var out = ""
            do {
                if !opened {
                    // "tenants" sorts after every other key (and taken_at is always there): the
                    // fleet's fields, then the list.
                    out = String(try Output.text(FleetJSON(s)).dropLast()) + ",\"tenants\":["
                }
                for (i, t) in s.tenants.enumerated() {
                    if opened || i > 0 { out += "," }
                    out += try Output.text(TenantJSON(t))
                }
            } catch {
                throw .failed("encoding the fleet as JSON: \(error)")
            }
            opened = true
            Output.write(out)
        }
        Output.write("]}\n")
    }
}

struct TenantJSON: Encodable {
    struct Meta: Encodable { let name: String; let tier: String?; let status: String?; let realm: String; let group: String; let created_at: Int64? }
    struct RouteJSON: Encodable {
        let route: String
        let error: String?
        let limit: Int?, window: Int?, count: Int?, effective_limit: Int?, remaining: Int?, denied: Int?
        let reset_in: Double?, window_start: Int64?
        let throttle: ThrottleJSON?
    }
    struct ThrottleJSON: Encodable { let route: String; let limit: Int; let reason: String; let actor: String; let set_at: Int64; let expires_at: Int64; let expires_in: Double }
    struct BudgetJSON: Encodable {
        let error: String?
        let month: String?, limit: Int?, effective_limit: Int?, used: Int?, percent_used: Double?, soft_pct: Int?, hard: Bool?
        let level: String?, temp_limit: Int?, temp_expires_at: Int64?, reset_in: Double?, burn_per_second: Double?, projected_exhaustion: Double?
    }

    let tenant_id: String
    let meta: Meta?
    let meta_error: String?
    let requests: Int
    let denied: Int
    let routes: [RouteJSON]
    let throttles: [ThrottleJSON]
    let budget: BudgetJSON?
    let keys: [String: Int]
    let keys_expiring_soon: Int
    let skipped_entries: Int
    let sessions: Int?
    let cache_entries: Int?

    init(_ t: TenantState) {
        tenant_id = t.id.rawValue
        let now = t.routes.compactMap { $0.state.value?.now }.first ?? t.budget?.value?.now ?? 0
        if case .ok(let m) = t.meta {
            meta = Meta(name: m.name, tier: m.tier.value?.rawValue, status: m.status.value?.rawValue, realm: m.realm, group: m.group, created_at: m.createdAt)
            meta_error = m.tier.problem ?? m.status.problem
        } else {
            meta = nil
            meta_error = t.meta.problem
        }
        requests = t.requests
        denied = t.denied
        func throttleJSON(_ th: Throttle) -> ThrottleJSON {
            ThrottleJSON(route: th.route.rawValue, limit: th.limit, reason: th.reason, actor: th.actor, set_at: th.setAt,
                         expires_at: th.expiresAt, expires_in: max(0, Double(th.expiresAt) - now))
        }
        routes = t.routes.map { r in
            switch r.state {
            case .bad(let why):
                return RouteJSON(route: r.route.rawValue, error: why, limit: nil, window: nil, count: nil, effective_limit: nil,
                                 remaining: nil, denied: nil, reset_in: nil, window_start: nil, throttle: nil)
            case .ok(let s):
                return RouteJSON(route: r.route.rawValue, error: nil, limit: s.policy.limit, window: s.policy.window, count: s.count,
                                 effective_limit: s.effectiveLimit, remaining: s.remaining, denied: s.denied, reset_in: s.resetIn,
                                 window_start: s.windowStart, throttle: s.limitingThrottle.map(throttleJSON))
            }
        }
        throttles = t.throttles.map(throttleJSON)
        switch t.budget {
        case nil: budget = nil
        case .bad(let why)?:
            budget = BudgetJSON(error: why, month: nil, limit: nil, effective_limit: nil, used: nil, percent_used: nil, soft_pct: nil,
                                hard: nil, level: nil, temp_limit: nil, temp_expires_at: nil, reset_in: nil, burn_per_second: nil, projected_exhaustion: nil)
        case .ok(let b)?:
            budget = BudgetJSON(error: nil, month: b.budget.month.description, limit: b.budget.limit, effective_limit: b.effectiveLimit,
                                used: b.budget.used, percent_used: b.percentUsed, soft_pct: b.budget.softPct, hard: b.budget.hard,
                                level: b.level.rawValue, temp_limit: b.budget.tempLimit, temp_expires_at: b.budget.tempExpiresAt,
                                reset_in: b.resetIn, burn_per_second: b.burnRate, projected_exhaustion: b.projectedExhaustion)
        }
        keys = Dictionary(uniqueKeysWithValues: KeyState.allCases.map { ($0.rawValue, t.keys[$0]) })
        keys_expiring_soon = t.keys.expiringSoon
        skipped_entries = t.skippedEntries
        sessions = t.keyspace?.sessions
        cache_entries = t.keyspace?.cacheEntries
    }
}

/// The human form of `tenants show`.
enum TenantText {
    static func lines(_ t: TenantState) -> [String] {
        var out: [String] = []
        switch t.meta {
        case .ok(let m):
            out.append("tenant  \(t.id)  \(SafeText.clean(m.name))")
            out.append("tier    \(m.tier.value?.rawValue ?? "ERR: " + (m.tier.problem ?? ""))   status \(m.status.value?.rawValue ?? "ERR: " + (m.status.problem ?? ""))")
            out.append("realm   \(SafeText.clean(m.realm))   group \(SafeText.clean(m.group))")
        case .bad(let why):
            out.append("tenant  \(t.id)  (meta ERR: \(SafeText.clean(why)))")
        }
        out.append("")
        let header = ["ROUTE", "COUNT", "LIMIT", "EFFECTIVE", "REMAINING", "DENIED", "RESET", "THROTTLE"]
        let widths = [24, 9, 12, 9, 9, 8, 7, 30]
        func row(_ cells: [String]) -> String {
            zip(cells, widths).enumerated().map { i, p in Fit.text(p.0, p.1, i == 0 || i == 7 ? .left : .right) }.joined(separator: " ").trimmingTrailingSpaces
        }
        out.append(row(header))
        for r in t.routes {
            switch r.state {
            case .bad(let why):
                out.append(Fit.text(r.route.rawValue, 24) + " ERR: " + SafeText.clean(why))
            case .ok(let s):
                let throttle = s.limitingThrottle.map { "\($0.limit) for \(Format.duration(Double($0.expiresAt) - s.now)) (\($0.route))" } ?? "-"
                out.append(row([r.route.rawValue, String(s.count), s.policy.text, String(s.effectiveLimit), String(s.remaining),
                                String(s.denied), Format.duration(s.resetIn), throttle]))
            }
        }
        out.append("")
        switch t.budget {
        case nil: out.append("budget  none this month")
        case .bad(let why)?: out.append("budget  ERR: \(SafeText.clean(why))")
        case .ok(let b)?:
            let pct = b.percentUsed.map(Format.percent) ?? "-"
            let raise = b.tempRaiseActive ? " (temporary raise to \(b.effectiveLimit) until \(CivilDate(epochSeconds: b.budget.tempExpiresAt ?? 0).iso8601))" : ""
            out.append("budget  \(b.budget.month)  \(b.budget.used) of \(b.effectiveLimit) tokens (\(pct), \(b.level.rawValue))\(raise)")
            let projection = b.projectedExhaustion.map { "runs out \(CivilDate(epochSeconds: Int64($0)).iso8601)" } ?? "lasts until the reset"
            out.append("        resets in \(Format.duration(b.resetIn)); \(projection)")
        }
        let counts = KeyState.allCases.map { "\($0.rawValue) \(t.keys[$0])" }.joined(separator: ", ")
        out.append("keys    \(counts)" + (t.keys.expiringSoon > 0 ? "; \(t.keys.expiringSoon) expiring within 7 days" : ""))
        if t.skippedEntries > 0 { out.append("        \(t.skippedEntries) entries broke the contract and were skipped") }
        if let k = t.keyspace { out.append("keyspace  sessions \(k.sessions), cache entries \(k.cacheEntries)") }
        return out
    }
}
