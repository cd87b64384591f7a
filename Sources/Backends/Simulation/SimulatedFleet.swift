import Foundation

/// The fleet `tollgate simulate` sets up: tenants, their routes and policies, budgets and keys,
/// a pure function of (seed, size, rate, scenarios), except the keys' secrets, which come from the
/// system's CSPRNG and live only in this value's memory.
///
/// Traffic is Zipf-distributed across tenants (s = 1.1, rank independent of the id) and across a
/// tenant's routes; each policy is sized from the traffic it expects, 0.5x to 3x of it, so a share
/// of routes deny at the usual rate and more do in a burst.
public struct SimulatedFleet: Sendable {
    public struct RoutePlan: Sendable {
        public let route: Route
        public let policy: LimitPolicy
        /// The share of the tenant's requests that go to this route.
        public let share: Double
    }

    public struct KeyPlan: Sendable {
        public let id: KeyID
        public let secret: APIKeySecret
        public let expiresAt: Int64
    }

    public struct TenantPlan: Sendable {
        public let id: TenantID
        public let name: String
        public let tier: Tier
        /// The tenant's share of the fleet's requests (its Zipf weight).
        public let share: Double
        public let routes: [RoutePlan]
        public let keys: [KeyPlan]
        public let budgetLimit: Int
        public let budgetUsed: Int
        public let hardBudget: Bool
        /// Cumulative route shares, to draw a route.
        let routeCDF: [Double]
    }

    /// Ids of simulated tenants start with this; `simulate` refuses a Redis that holds others.
    public static let idPrefix = "sim-"
    /// Mean tokens of a request (in + out), to size budgets.
    static let meanTokens = 700.0

    public let tenants: [TenantPlan]
    public let scenarios: Set<Scenario>
    public let rate: Double
    public let startedAt: Int64
    /// Tenants by Zipf rank (0 = the busiest), which scenarios pick their subjects from.
    let byRank: [Int]
    /// Cumulative tenant shares in rank order, to draw a tenant.
    let rankCDF: [Double]

    public init(seed: UInt64, tenants count: Int, rate: Double, scenarios: Set<Scenario>, now: Int64) {
        precondition(count >= 1)
        self.scenarios = scenarios
        self.rate = rate
        startedAt = now
        var rng = SplitMix64(seed: seed)
        var order = Array(0..<count)
        order.shuffle(using: &rng)              // rank is independent of the id
        byRank = order
        let weights = (0..<count).map { 1 / pow(Double($0 + 1), 1.1) }
        let total = weights.reduce(0, +)
        var cumulative = 0.0
        rankCDF = weights.map { cumulative += $0 / total; return cumulative }
        var shareOf = [Double](repeating: 0, count: count)
        for (rank, index) in order.enumerated() { shareOf[index] = weights[rank] / total }

        let digits = max(4, String(count).count)
        let month = YearMonth(containing: now)
        let monthSeconds = Double(month.next.start - month.start)
        let elapsed = Double(now - month.start) / monthSeconds
        tenants = (0..<count).map { i in
            var r = SplitMix64(seed: stableHash(seed, ["tenant"], [Int64(i)]))
            let number = String(i + 1)
            let id = try! TenantID(Self.idPrefix + String(repeating: "0", count: digits - number.count) + number)
            let name = Self.names[Int(r.next() % UInt64(Self.names.count))] + " " + Self.suffixes[Int(r.next() % UInt64(Self.suffixes.count))] + " \(i + 1)"
            let rps = rate * shareOf[i]
            let routeCount = 3 + Int(r.next() % 6)
            let routeWeights = (0..<routeCount).map { 1 / Double($0 + 1) }
            let routeTotal = routeWeights.reduce(0, +)
            let routes = (0..<routeCount).map { j -> RoutePlan in
                let share = routeWeights[j] / routeTotal
                let window = j % 3 == 2 ? 10 : 60
                let expected = rps * share * Double(window)
                let factor = 0.5 + 2.5 * unit(r.next())
                let limit = max(5, Int((expected * factor).rounded()))
                return RoutePlan(route: try! Route(Self.routes[j]), policy: try! LimitPolicy(limit: limit, window: window), share: share)
            }
            var c = 0.0
            let routeCDF = routes.map { c += $0.share; return c }
            let keys = (0..<(2 + Int(r.next() % 4))).map { k -> KeyPlan in
                let keyID = try! KeyID("k_" + Self.base32(stableHash(seed, [id.rawValue, "key"], [Int64(k)])))
                let expires: Int64 = r.next() % 4 == 0 ? now + 30 * 86_400 + Int64(r.next() % (330 * 86_400)) : 0
                return KeyPlan(id: keyID, secret: APIKeySecret(tenant: id, key: keyID), expiresAt: expires)
            }
            let monthTokens = rps * Self.meanTokens * monthSeconds
            let limit = max(100_000, Int(monthTokens * (0.8 + 2.2 * unit(r.next())) / 1000) * 1000)
            let hard = r.next() % 5 < 3
            var used = Int(monthTokens * elapsed * (0.6 + 0.7 * unit(r.next())))
            if hard { used = min(used, limit * 98 / 100) }
            return TenantPlan(id: id, name: name, tier: r.next() % 5 == 0 ? .enterprise : .smb, share: shareOf[i], routes: routes, keys: keys,
                              budgetLimit: limit, budgetUsed: used, hardBudget: hard, routeCDF: routeCDF)
        }
    }

    /// The tenant at Zipf rank `rank` (0 = the busiest), or the quietest when the fleet is smaller.
    public func tenant(rank: Int) -> TenantPlan { tenants[index(rank: rank)] }

    /// Its index in `tenants`.
    func index(rank: Int) -> Int { byRank[min(rank, byRank.count - 1)] }

    /// The commands that write the fleet as the gateway keeps it, scenarios included.
    public func setupCommands() -> [[String]] {
        var seed = ContractSeed(now: startedAt)
        let expiring = scenarios.contains(.keysExpiring) ? Scenario.expiringKeys(in: self) : [:]
        let runsOut = scenarios.contains(.budgetRunsOut) ? Scenario.budgetSubject(in: self).id : nil
        for t in tenants {
            seed.tenant(t.id, tier: t.tier)
            var meta = ["HSET", KeySchema.meta(t.id), "name", t.name]
            meta += t.tier == .enterprise ? ["realm", "tenant-\(t.id)"] : ["realm", "smb", "group", "/tenants/\(t.id)"]
            seed.commands.append(meta)
            for r in t.routes { seed.route(t.id, r.route, policy: r.policy, count: nil) }
            var used = t.budgetUsed
            var hard = t.hardBudget
            if t.id == runsOut {
                // About three minutes of the tenant's tokens left, and a hard limit.
                used = max(0, t.budgetLimit - Int(rate * t.share * Self.meanTokens * 180))
                hard = true
            }
            seed.budget(t.id, limit: t.budgetLimit, used: used, extra: ["soft_pct", "80", "hard", hard ? "1" : "0"])
            for (i, k) in t.keys.enumerated() {
                let expires = i == 0 ? expiring[t.id] ?? k.expiresAt : k.expiresAt
                seed.key(t.id, k.id, state: .active, expiresAt: expires, secret: k.secret)
                seed.commands.append(["HSET", KeySchema.apiKey(t.id, k.id), "label", "\(t.name) key \(i + 1)", "created_by", "simulate"])
            }
        }
        return seed.commands
    }

    /// Draws a tenant (an index into `tenants`) by its share.
    func drawTenant(_ u: Double) -> Int { byRank[Self.search(rankCDF, u)] }

    static func search(_ cdf: [Double], _ u: Double) -> Int {
        var lo = 0, hi = cdf.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cdf[mid] < u { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    static func base32(_ h: UInt64) -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        return String((0..<8).map { alphabet[Int(h >> (5 * UInt64($0)) & 31)] })
    }

    static let routes = ["chat.completions", "embeddings", "responses", "agents.run", "tools.call", "images.generate", "audio.transcribe", "moderations"]
    static let names = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Aperture",
                        "Vandelay", "Wonka", "Gringotts", "Monarch", "Oscorp", "Pied Piper", "Massive Dynamic", "Nakatomi", "Dunder"]
    static let suffixes = ["Labs", "Analytics", "Health", "Logistics", "Robotics", "Capital", "Media", "Foods", "Energy", "Systems"]
}
