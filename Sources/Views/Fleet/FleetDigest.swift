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
    /// `summaries[i]` belongs to `tenants[i]`: kept for the next digest.
    let summaries: [Summary]

    public init(_ snapshot: FleetSnapshot, previous: FleetDigest?) {
        var tenants = snapshot.tenants
        if !snapshot.inIDOrder && !tenants.indices.dropFirst().allSatisfy({ tenants[$0 - 1].id < tenants[$0].id }) {
            // Redis answers in id order already and says so; others are sorted here (indices: no state moves).
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

        // Per tenant, what the totals and the rank need. A tenant whose reading was served again
        // (a quiet one: the same `readAt`) keeps its summary and has not moved; the others are
        // summed from their routes and their rates come from counter deltas. Previous readings
        // are found by merge-join on the id order both digests share; states are read in place
        // (buffer pointers), never copied.
        var summaries = [Summary](repeating: Summary(), count: tenants.count)
        var rates = [TenantRates](repeating: TenantRates(), count: tenants.count)
        var req = 0.0, denied = 0.0
        // Whether every tenant is where it was, with the requests it had: then so are the ranks.
        var ranksHold = true
        let before = previous.flatMap { $0.takenAt < snapshot.takenAt ? $0 : nil }
        let earlier = before?.tenants ?? []
        let earlierSummaries = before?.summaries ?? []
        tenants.withUnsafeBufferPointer { now in
            earlier.withUnsafeBufferPointer { then in
                var j = 0
                for i in 0..<now.count {
                    // Most tenants, most refreshes: the next earlier state is this one, served again.
                    var seen = j < then.count && now[i].isSameReading(as: then[j])
                    if !seen {
                        let id = now[i].id
                        while j < then.count && then[j].id < id { j += 1 }
                        seen = j < then.count && then[j].id == id
                    }
                    if seen && then[j].isSameReading(as: now[i]) {
                        if j != i { ranksHold = false }
                        summaries[i] = earlierSummaries[j]
                        rates[i].requestsPerSecond = 0
                        rates[i].deniedPerSecond = 0
                        rates[i].tokensPerSecond = earlierSummaries[j].budgeted ? 0 : nil
                        j += 1
                        continue
                    }
                    summaries[i] = Summary(now[i])
                    if !seen || j != i || earlierSummaries[j].requests != summaries[i].requests { ranksHold = false }
                    guard seen, let before else { continue }
                    let d = TenantRates.delta(from: then[j], at: before.takenAt, to: now[i], at: snapshot.takenAt)
                    rates[i].requestsPerSecond = d.requests
                    rates[i].deniedPerSecond = d.denied
                    rates[i].tokensPerSecond = d.tokens
                    req += d.requests
                    denied += d.denied
                }
            }
        }
        var totals = FleetTotals()
        totals.tenants = tenants.count
        for s in summaries { totals.add(s) }
        if before != nil {
            totals.requestsPerSecond = req
            totals.deniedPerSecond = denied
        }
        // Share of the fleet's requests in the current windows, and the rank by it: sorted again
        // only when a tenant came, went or has other requests than before.
        if ranksHold, let before, before.tenants.count == tenants.count {
            for i in rates.indices {
                rates[i].share = before.rates[i].share
                rates[i].rank = before.rates[i].rank
            }
        } else {
            let all = max(1, totals.requests)
            var byRequests = Array(tenants.indices)
            byRequests.sort { summaries[$0].requests != summaries[$1].requests ? summaries[$0].requests > summaries[$1].requests : $0 < $1 }
            for (rank, i) in byRequests.enumerated() {
                rates[i].share = Double(summaries[i].requests) / Double(all)
                rates[i].rank = Int32(rank + 1)
            }
        }
        self.rates = rates
        self.summaries = summaries
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

    mutating func add(_ s: FleetDigest.Summary) {
        requests += s.requests
        if s.denying { denying += 1 }
        if s.nearLimit { nearLimit += 1 }
        if s.outOfBudget { outOfBudget += 1 }
        if s.throttled { throttled += 1 }
        expiringKeys += s.expiringKeys
        if s.problems { problems += 1 }
    }
}

extension FleetDigest {
    /// What one tenant adds to the totals and the rank: derived once per reading.
    struct Summary: Sendable {
        var requests = 0
        var expiringKeys = 0
        var denying = false, nearLimit = false, outOfBudget = false, throttled = false, problems = false
        /// A budget of the month was read.
        var budgeted = false

        init() {}

        init(_ t: TenantState) {
            requests = t.requests
            denying = t.denied > 0
            let budget = t.budget?.value
            budgeted = budget != nil
            nearLimit = (t.hottest?.state.utilisation ?? 0) >= FleetTotals.nearShare || (budget?.percentUsed ?? 0) >= FleetTotals.nearShare * 100
            outOfBudget = budget?.level == .exhausted
            throttled = !t.throttles.isEmpty
            expiringKeys = t.keys.expiringSoon
            problems = t.hasProblems
        }
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
