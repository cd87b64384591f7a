import Backends

/// A fleet snapshot made ready for the console: tenants sorted by id, each with its rates from the
/// counter deltas since the previous snapshot, and the fleet's totals. Built off the UI thread by
/// the fleet feed; immutable and shared (a class), so screens and messages pass it without copies.
/// Everything proportional to the fleet happens here, once per refresh, never per frame or key.
public final class FleetDigest: Sendable {
    public let tenants: [TenantState]
    /// `rates[i]` belongs to `tenants[i]`.
    public let rates: [TenantRates]
    public let totals: FleetTotals
    public let takenAt: Double
    /// Counts 1, 2, 3... per feed: a later digest has a larger number.
    public let generation: Int
    public let malformedTenantIDs: Int
    public let keyspaceAsOf: Double?
    public let keyspaceProblem: String?
    public let indexProblem: String?

    public init(_ snapshot: FleetSnapshot, previous: FleetDigest?) {
        var tenants = snapshot.tenants
        if !tenants.indices.dropFirst().allSatisfy({ tenants[$0 - 1].id < tenants[$0].id }) {
            // Redis answers in id order already; others are sorted here (indices: no state moves).
            let order = tenants.indices.sorted { tenants[$0].id < tenants[$1].id }
            tenants = order.map { tenants[$0] }
        }
        self.tenants = tenants
        takenAt = snapshot.takenAt
        generation = (previous?.generation ?? 0) + 1
        malformedTenantIDs = snapshot.malformedTenantIDs
        keyspaceAsOf = snapshot.keyspaceAsOf
        keyspaceProblem = snapshot.keyspaceProblem
        indexProblem = snapshot.indexProblem

        var totals = FleetTotals()
        totals.tenants = tenants.count
        let requests = tenants.map(\.requests)   // summed over the routes once, not in every comparison
        for (t, r) in zip(tenants, requests) { totals.add(t, requests: r) }
        var rates = [TenantRates](repeating: TenantRates(), count: tenants.count)
        // Previous readings by merge-join on the id order both digests share.
        if let previous, previous.takenAt < snapshot.takenAt {
            var j = 0
            var req = 0.0, denied = 0.0
            for (i, t) in tenants.enumerated() {
                while j < previous.tenants.count && previous.tenants[j].id < t.id { j += 1 }
                guard j < previous.tenants.count, previous.tenants[j].id == t.id else { continue }
                let d = TenantRates.delta(from: previous.tenants[j], at: previous.takenAt, to: t, at: snapshot.takenAt)
                rates[i].requestsPerSecond = d.requests
                rates[i].deniedPerSecond = d.denied
                rates[i].tokensPerSecond = d.tokens
                req += d.requests
                denied += d.denied
            }
            totals.requestsPerSecond = req
            totals.deniedPerSecond = denied
        }
        // Share of the fleet's requests in the current windows, and the rank by it.
        let all = max(1, totals.requests)
        var byRequests = Array(tenants.indices)
        byRequests.sort { requests[$0] != requests[$1] ? requests[$0] > requests[$1] : $0 < $1 }
        for (rank, i) in byRequests.enumerated() {
            rates[i].share = Double(requests[i]) / Double(all)
            rates[i].rank = Int32(rank + 1)
        }
        self.rates = rates
        self.totals = totals
    }

    public var count: Int { tenants.count }
    public func row(_ i: Int) -> FleetRow { FleetRow(tenant: tenants[i], rates: rates[i]) }

    /// Position of `id` in `tenants` (binary search: the UI thread never walks the fleet).
    public func index(of id: TenantID) -> Int? {
        var lo = 0, hi = tenants.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if tenants[mid].id < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < tenants.count && tenants[lo].id == id ? lo : nil
    }

    /// Up to `limit` tenant ids that start with `prefix`, in id order (command-mode completion).
    public func ids(startingWith prefix: String, limit: Int) -> [TenantID] {
        var lo = 0, hi = tenants.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if tenants[mid].id.rawValue < prefix { lo = mid + 1 } else { hi = mid }
        }
        var out: [TenantID] = []
        while lo < tenants.count, out.count < limit, tenants[lo].id.rawValue.hasPrefix(prefix) {
            out.append(tenants[lo].id)
            lo += 1
        }
        return out
    }
}

/// One row of a fleet table: a tenant and its rates.
public struct FleetRow: Sendable {
    public let tenant: TenantState
    public let rates: TenantRates
}

/// What the header says about the whole fleet.
public struct FleetTotals: Sendable, Equatable {
    public var tenants = 0
    /// Requests in the current windows, summed over every tenant's routes.
    public var requests = 0
    /// From counter deltas between two snapshots; nil after the first one.
    public var requestsPerSecond: Double?
    public var deniedPerSecond: Double?
    /// Tenants denying requests in their current windows.
    public var denying = 0
    /// Tenants at 80% or more of a route's effective limit or of their budget.
    public var nearLimit = 0
    public var outOfBudget = 0
    /// Tenants with a live throttle.
    public var throttled = 0
    /// Usable keys that expire within 7 days.
    public var expiringKeys = 0
    /// Tenants with values that break the contract.
    public var problems = 0

    public static let nearShare = 0.8

    mutating func add(_ t: TenantState, requests r: Int) {
        requests += r
        if t.denied > 0 { denying += 1 }
        let budget = t.budget?.value
        if (t.hottest?.state.utilisation ?? 0) >= Self.nearShare || (budget?.percentUsed ?? 0) >= Self.nearShare * 100 { nearLimit += 1 }
        if budget?.level == .exhausted { outOfBudget += 1 }
        if !t.throttles.isEmpty { throttled += 1 }
        expiringKeys += t.keys.expiringSoon
        if t.hasProblems { problems += 1 }
    }
}

/// A tenant's rates between two readings.
public struct TenantRates: Sendable, Equatable {
    /// Requests and denials per second from counter deltas; nil without an earlier reading.
    public var requestsPerSecond: Double?
    public var deniedPerSecond: Double?
    /// Budget tokens used per second; nil without an earlier reading in the same month.
    public var tokensPerSecond: Double?
    /// Share of the fleet's requests in the current windows, 0...1.
    public var share = 0.0
    /// 1 for the tenant with the most requests in its current windows.
    public var rank: Int32 = 0

    public init() {}

    /// Requests and denials per second between two readings of one tenant. Within one window a
    /// route's rate is the counter's growth over the time between the readings. When the window
    /// rolled over between them, what happened at the end of the old window was not seen: the new
    /// window's count over the time since it started stands in for it. Routes without a readable
    /// counter in either reading count for nothing.
    public static func delta(from a: TenantState, at t0: Double, to b: TenantState, at t1: Double) -> (requests: Double, denied: Double, tokens: Double?) {
        let dt = t1 - t0
        guard dt > 0 else { return (0, 0, nil) }
        var requests = 0.0, denied = 0.0
        let earlier = a.routes
        for (i, r) in b.routes.enumerated() {
            guard let now = r.state.value else { continue }
            // Both are in route order: the same position first, a search only when routes changed.
            let match = i < earlier.count && earlier[i].route == r.route ? earlier[i] : earlier.first { $0.route == r.route }
            let before = match?.state.value
            if let before, before.windowStart == now.windowStart {
                requests += Double(max(0, now.count - before.count)) / dt
                denied += Double(max(0, now.denied - before.denied)) / dt
            } else {
                let since = max(1, min(dt, t1 - Double(now.windowStart)))
                requests += Double(now.count) / since
                denied += Double(now.denied) / since
            }
        }
        var tokens: Double?
        if let x = a.budget?.value?.budget, let y = b.budget?.value?.budget, x.month == y.month {
            tokens = Double(max(0, y.used - x.used)) / dt
        }
        return (requests, denied, tokens)
    }
}
