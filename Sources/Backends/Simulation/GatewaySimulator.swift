import Crypto
import Foundation

/// What a run of the simulator achieved so far.
public struct SimulationStats: Sendable, Equatable {
    /// Requests that reached the gateway, and how they ended.
    public var requests = 0
    public var allowed = 0
    /// Over the effective rate limit (HTTP 429, `request.denied`).
    public var denied = 0
    /// At a hard budget (HTTP 402, `budget.exceeded`).
    public var budgetDenied = 0
    /// A secret that does not match, or a key that is revoked, expired or retired (HTTP 401, `auth.failed`).
    public var authFailed = 0
    /// Replies of Redis that were errors (a key of the wrong type, say); the request counts as a 500.
    public var redisErrors = 0
    public var seconds = 0.0

    public init() {}
}

/// Drives gateway-shaped traffic into the real stores, writing exactly what a gateway following
/// the contract writes (docs/contract.md, docs/simulate.md):
/// - per request, `INCR` + `EXPIRE 2*W` on the route's window counter, denied above the effective
///   limit (the policy, or a live throttle on the route or `_all`, whichever is lower);
/// - per allowed request, `HINCRBY used` on the month's budget; a hard budget denies at its
///   effective limit and never goes past it (the last answer is cut to what is left);
/// - `last_used_at` on a key at most once a minute, sessions and cache entries with TTLs;
/// - a `key_usage` row per request, and audit rows (`request.denied`, `budget.exceeded`,
///   `auth.failed`) per tenant, subject and second with the count in `detail`.
///
/// Throttles and keys are read with key tracking, so an operator's throttle or revocation is
/// honoured within a control period (1 s) without polling every key; budgets of the tenants that
/// had traffic are read again each period. One simulator per fleet: two would each keep their own
/// view of a budget's `used` between reads.
public final class GatewaySimulator {
    public let fleet: SimulatedFleet
    private let redis: any RedisCommands
    /// The connection that reads throttles and keys with tracking.
    private let control: any RedisCommands
    private let shipper: RowShipper?
    private let clock: any Clock
    private var rng: SplitMix64
    public private(set) var stats = SimulationStats()

    private struct Budget {
        var limit: Int, used: Int, hard: Bool
        var month: YearMonth
    }
    /// What the gateway checks a presented key against: its digest and, once read back, its meta
    /// (`nil` meta before the first read: as set up, active and never expiring).
    private struct KeyCheck {
        var sha256: [UInt8]
        var meta: RedisGateway.KeyMeta?
        var unreadable = false
        var lastUsedWritten = 0.0

        func usable(at now: Double) -> Bool {
            guard !unreadable else { return false }
            guard let meta else { return true }
            return KeyState.derive(stored: meta.stored, expiresAt: meta.expiresAt, graceUntil: meta.graceUntil, now: now).isUsable
        }
    }
    private enum ControlRef { case throttle(tenant: Int, route: Int), key(tenant: Int, key: Int) }

    /// Per tenant: its budget, its live throttles (the last one is `_all`), its keys.
    private var budgets: [Budget]
    private var throttles: [[Throttle?]]
    private var keys: [[KeyCheck]]
    private var controlKeys: [String: ControlRef] = [:]
    private let counterPrefixes: [[String]]
    private var active = Set<Int>()
    private var nextControl = 0.0
    private var issued = 0.0

    /// Audit rows gathered this second: one per tenant, action and subject.
    private struct AuditKey: Hashable { let tenant: Int, action: String, subject: Int, second: Int64 }
    private var auditCounts: [AuditKey: (count: Int, detail: [String: Any])] = [:]

    public init(fleet: SimulatedFleet, redis: any RedisCommands, control: any RedisCommands, clickhouse: (audit: ClickHouseAudit, usage: ClickHouseUsage)?,
                clock: any Clock = SystemClock(), seed: UInt64) {
        self.fleet = fleet
        self.redis = redis
        self.control = control
        shipper = clickhouse.map { RowShipper(audit: $0.audit, usage: $0.usage) }
        self.clock = clock
        rng = SplitMix64(seed: seed ^ 0x5151_5151)
        let month = YearMonth(containing: fleet.startedAt)
        budgets = fleet.tenants.map { Budget(limit: $0.budgetLimit, used: $0.budgetUsed, hard: $0.hardBudget, month: month) }
        throttles = fleet.tenants.map { [Throttle?](repeating: nil, count: $0.routes.count + 1) }
        counterPrefixes = fleet.tenants.map { t in t.routes.map { KeySchema.counterPrefix(t.id, $0.route) } }
        keys = fleet.tenants.map { $0.keys.map { KeyCheck(sha256: Self.bytes(hex: $0.secret.sha256)) } }
        for (i, t) in fleet.tenants.enumerated() {
            for j in 0...t.routes.count { controlKeys[KeySchema.throttle(t.id, j < t.routes.count ? t.routes[j].route : .all)] = .throttle(tenant: i, route: j) }
            for (k, key) in t.keys.enumerated() { controlKeys[KeySchema.apiKey(t.id, key.id)] = .key(tenant: i, key: k) }
        }
    }

    /// What ClickHouse has taken so far: rows written, rows waiting, rows dropped, the last error.
    public var rows: RowShipper.Counts { shipper?.counts ?? RowShipper.Counts() }

    /// Writes the fleet.
    public func setUp() async throws(BackendError) {
        let commands = fleet.setupCommands()
        for start in stride(from: 0, to: commands.count, by: 5000) {
            let replies = try await redis.pipeline(Array(commands[start..<min(start + 5000, commands.count)]))
            if let e = replies.lazy.compactMap(\.errorMessage).first { throw .failed("simulate set-up: \(SafeText.clean(e))") }
        }
    }

    /// Runs at `rate` requests a second (plus what the scenarios add) until `stop` says so, in
    /// ticks of 50 ms; `report` is called about every `every` seconds. Falling behind is not
    /// made up beyond one second: the stats tell the rate achieved.
    public func run(every: Double = 5, stop: () -> Bool, report: (SimulationStats, RowShipper.Counts) -> Void) async throws(BackendError) {
        // What operators may change under the run, read with tracking first.
        try await readControl(all: true, now: clock.now())
        let start = clock.now()
        var nextReport = start + every
        var tick = 0
        while !stop() {
            let now = clock.now()
            let due = fleet.rate * (now - start) - issued
            let n = Int(min(due, fleet.rate))
            issued += due > fleet.rate ? due - fleet.rate + Double(n) : Double(n)
            try await step(now: now, base: n, dt: 0.05)
            if now >= nextControl { try await readControl(all: false, now: now) }
            stats.seconds = clock.now() - start
            if clock.now() >= nextReport {
                report(stats, rows)
                nextReport += every
            }
            tick += 1
            let wait = start + Double(tick) * 0.05 - clock.now()
            if wait > 0 { try? await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
        }
        flushAudit(upTo: .max)
        await shipper?.finish()
        stats.seconds = clock.now() - start
    }

    // MARK: - One tick

    private struct Request {
        let tenant: Int, route: Int, key: Int, node: Int
        let badSecret: Bool
        let tokensIn: UInt32, tokensOut: UInt32, latency: UInt32
    }

    private func step(now: Double, base: Int, dt: Double) async throws(BackendError) {
        var requests: [Request] = []
        requests.reserveCapacity(base + 64)
        for _ in 0..<base { requests.append(draw(tenant: fleet.drawTenant(unit(rng.next())), bad: unit(rng.next()) < 0.002)) }
        if fleet.scenarios.contains(.noisyNeighbour) {
            let index = fleet.index(rank: Scenario.noisyRank)
            let extra = (Scenario.noisyFactor(at: now, startedAt: fleet.startedAt) - 1) * fleet.rate * fleet.tenants[index].share * dt
            for _ in 0..<poisson(extra) { requests.append(draw(tenant: index, bad: false)) }
        }
        if fleet.scenarios.contains(.authStorm) {
            let index = fleet.index(rank: Scenario.stormRank)
            for _ in 0..<poisson(Scenario.stormRate(fleet) * dt) { requests.append(draw(tenant: index, bad: true)) }
        }
        guard !requests.isEmpty else { return }

        // Authentication: the presented secret's digest against the stored one, then the key's state.
        var authenticated: [Int] = []
        var counting: [RedisCommand] = []
        counting.reserveCapacity(requests.count * 2)
        for (i, r) in requests.enumerated() {
            let t = fleet.tenants[r.tenant]
            let time = nodeTime(now, r.node)
            var presented = Array(t.keys[r.key].secret.plaintext.utf8)
            if r.badSecret { presented[presented.count - 1] ^= 1 }
            let state = keys[r.tenant][r.key]
            guard Self.digestMatches(presented, state.sha256), state.usable(at: time) else {
                stats.authFailed += 1
                countAudit(r, action: "auth.failed", subject: r.key, time: time) {
                    ["reason": r.badSecret ? "secret does not match" : "key is not usable (revoked, expired or retired)",
                     "key_id": t.keys[r.key].id.rawValue, "user_agent": r.badSecret ? "python-requests/2.31 \u{1B}[2J" : "openai-python/1.40"]
                }
                record(r, status: 401, time: time, tokens: false)
                continue
            }
            let route = t.routes[r.route]
            // KeySchema.counter, from its prefix made once.
            let key = counterPrefixes[r.tenant][r.route] + String(route.policy.windowStart(at: time))
            counting.append(RedisCommand(["INCR", key]))
            counting.append(RedisCommand(["EXPIRE", key, String(2 * route.policy.window)]))
            authenticated.append(i)
        }

        let counts = try await redis.pipeline(counting) { reply -> Int64? in reply.kind == .integer ? reply.integer : nil }
        var spending: [RedisCommand] = []
        var spenders: [Int] = []
        for (j, i) in authenticated.enumerated() {
            let r = requests[i]
            let t = fleet.tenants[r.tenant]
            let time = nodeTime(now, r.node)
            active.insert(r.tenant)
            guard let count = counts[2 * j] else {
                stats.redisErrors += 1
                record(r, status: 500, time: time, tokens: false)
                continue
            }
            let route = t.routes[r.route]
            let effective = effectiveLimit(r.tenant, r.route, at: time)
            if count > Int64(effective) {
                stats.denied += 1
                countAudit(r, action: "request.denied", subject: r.route, time: time) {
                    ["route": route.route.rawValue, "limit": effective, "window": route.policy.window, "node": "gw-\(r.node + 1)"]
                }
                record(r, status: 429, time: time, tokens: false)
                continue
            }
            var tokens = Int(r.tokensIn + r.tokensOut)
            var b = budgets[r.tenant]
            if b.hard {
                let left = b.limit - b.used
                if left <= 0 {
                    stats.budgetDenied += 1
                    countAudit(r, action: "budget.exceeded", subject: 0, time: time) { ["limit": b.limit, "used": b.used, "month": b.month.description] }
                    record(r, status: 402, time: time, tokens: false)
                    continue
                }
                tokens = min(tokens, left)   // the answer is cut at what the budget has left
            }
            b.used += tokens
            budgets[r.tenant] = b
            stats.allowed += 1
            spending.append(RedisCommand(["HINCRBY", KeySchema.budget(t.id, month: b.month), "used", String(tokens)]))
            spenders.append(r.tenant)
            if time - keys[r.tenant][r.key].lastUsedWritten >= 60 {
                keys[r.tenant][r.key].lastUsedWritten = time
                spending.append(RedisCommand(["HSET", KeySchema.apiKey(t.id, t.keys[r.key].id), "last_used_at", String(Int64(time))]))
                spenders.append(-1)
            }
            let roll = unit(rng.next())
            if roll < 0.002 {
                spending.append(RedisCommand(["SET", "{\(t.id)}:session:\(String(rng.next(), radix: 36))", "{\"user\":\"u\(rng.next() % 5000)\"}", "EX", "900"]))
                spenders.append(-1)
            } else if roll < 0.03 {
                spending.append(RedisCommand(["SET", "{\(t.id)}:cache:\(String(rng.next() % 100_000, radix: 36))", "cached answer", "EX", "120"]))
                spenders.append(-1)
            }
            let status: UInt16 = roll > 0.997 ? 502 : roll > 0.99 ? 400 : 200
            record(r, status: status, time: time, tokens: true, spent: tokens)
        }
        stats.requests += requests.count
        if !spending.isEmpty {
            let replies = try await redis.pipeline(spending) { reply -> Int64? in reply.kind == .integer ? reply.integer : nil }
            for (j, tenant) in spenders.enumerated() where tenant >= 0 {
                if let used = replies[j] { budgets[tenant].used = Int(used) } else { stats.redisErrors += 1 }
            }
        }
        flushAudit(upTo: Int64(now) - 1)
        shipper?.ship()
    }

    private func draw(tenant: Int, bad: Bool) -> Request {
        let t = fleet.tenants[tenant]
        let route = SimulatedFleet.search(t.routeCDF, unit(rng.next()))
        let node = Int(rng.next() % UInt64(Scenario.gatewayNodes))
        // Log-normal-ish sizes and latencies: most small, a long tail.
        let u = unit(rng.next()), v = unit(rng.next())
        let tokensIn = UInt32(50 + 900 * u * u), tokensOut = UInt32(20 + 500 * v * v * v)
        let latency = UInt32(40 + 200 * Double(tokensOut) / 200 + 2000 * pow(unit(rng.next()), 8))
        return Request(tenant: tenant, route: route, key: Int(rng.next() % UInt64(t.keys.count)), node: node, badSecret: bad,
                       tokensIn: tokensIn, tokensOut: tokensOut, latency: latency)
    }

    private func nodeTime(_ now: Double, _ node: Int) -> Double {
        fleet.scenarios.contains(.clockAhead) && node == Scenario.gatewayNodes - 1 ? now + Double(Scenario.clockOffset) : now
    }

    private func effectiveLimit(_ tenant: Int, _ route: Int, at time: Double) -> Int {
        var limit = fleet.tenants[tenant].routes[route].policy.limit
        for th in [throttles[tenant][route], throttles[tenant].last ?? nil] {
            if let th, th.isLive(at: time) { limit = min(limit, th.limit) }
        }
        return limit
    }

    private func poisson(_ mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean > 30 { return max(0, Int((mean + sqrt(mean) * gaussian()).rounded())) }
        let l = exp(-mean)
        var k = 0, p = 1.0
        repeat { k += 1; p *= unit(rng.next()) } while p > l
        return k - 1
    }

    private func gaussian() -> Double { sqrt(-2 * log(max(unit(rng.next()), 1e-12))) * cos(2 * .pi * unit(rng.next())) }

    /// The gateway's check: the presented secret's SHA-256 against the stored hex digest, in
    /// constant time.
    static func digestMatches(_ secret: [UInt8], _ stored: [UInt8]) -> Bool {
        guard stored.count == 32 else { return false }
        var diff: UInt8 = 0
        for (i, b) in SHA256.hash(data: secret).enumerated() { diff |= b ^ stored[i] }
        return diff == 0
    }

    /// 64 hex digits as 32 bytes; empty for anything else.
    static func bytes(hex: String) -> [UInt8] {
        let h = Array(hex.utf8)
        guard h.count == 64 else { return [] }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        for i in stride(from: 0, to: 64, by: 2) {
            guard let a = nibble(h[i]), let b = nibble(h[i + 1]) else { return [] }
            out.append(a << 4 | b)
        }
        return out
    }

    // MARK: - Rows for ClickHouse

    private func record(_ r: Request, status: UInt16, time: Double, tokens: Bool, spent: Int? = nil) {
        guard let shipper else { return }
        let t = fleet.tenants[r.tenant]
        let out = spent.map { max(0, min(Int(r.tokensOut), $0 - Int(r.tokensIn))) } ?? Int(r.tokensOut)
        shipper.add(KeyUsageRecord(tenant: t.id, ts: Int64(time), key: t.keys[r.key].id, route: t.routes[r.route].route, status: status,
                                   tokensIn: tokens ? r.tokensIn : 0, tokensOut: tokens ? UInt32(out) : 0,
                                   latencyMs: tokens ? r.latency : 2 + r.latency % 20))
    }

    private func countAudit(_ r: Request, action: String, subject: Int, time: Double, detail: () -> [String: Any]) {
        guard shipper != nil else { return }
        let k = AuditKey(tenant: r.tenant, action: action, subject: subject, second: Int64(time))
        if let seen = auditCounts[k] { auditCounts[k] = (seen.count + 1, seen.detail) } else { auditCounts[k] = (1, detail()) }
    }

    /// Turns the counts of the seconds before `second` into audit rows.
    private func flushAudit(upTo second: Int64) {
        guard let shipper, !auditCounts.isEmpty else { return }
        var events: [AuditEvent] = []
        for (k, v) in auditCounts where k.second <= second {
            let t = fleet.tenants[k.tenant]
            var detail = v.detail
            detail["count"] = v.count
            let json = (try? JSONSerialization.data(withJSONObject: detail, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            let (actor, type, resource) = switch k.action {
            case "auth.failed": (t.keys[k.subject].id.rawValue, "apikey", "apikey/\(t.keys[k.subject].id)")
            case "request.denied": ("gateway", "system", "route/\(t.routes[k.subject].route)")
            default: ("gateway", "system", "budget/\(budgets[k.tenant].month)")
            }
            let outcome = k.action == "auth.failed" ? "error" : "denied"
            events.append(AuditEvent(tenant: t.id, ts: k.second, tsMs: UInt16(rng.next() % 1000), eventID: UUID().uuidString.lowercased(),
                                     actor: actor, actorType: type, action: k.action, resource: resource, outcome: outcome,
                                     ip: "203.0.113.\(1 + stableHash(0, [t.id.rawValue]) % 254)", requestID: String(rng.next(), radix: 16), detail: json))
            auditCounts[k] = nil
        }
        shipper.add(events)
    }

    // MARK: - What operators change under the simulation

    /// Reads throttles and keys again (all of them, or those Redis said changed), and the budgets
    /// of the tenants that had traffic since the last time; starts a new month's budgets.
    private func readControl(all: Bool, now: Double) async throws(BackendError) {
        nextControl = now + 1
        var refs: [ControlRef] = []
        if all {
            _ = try await control.changedKeys(.keysRead)   // starts tracking
            refs = Array(controlKeys.values)
        } else {
            switch try await control.changedKeys(.keysRead) {
            case .unknown: refs = Array(controlKeys.values)
            case .keys(let changed): refs = changed.compactMap { controlKeys[$0] }
            }
        }
        if !refs.isEmpty {
            let commands = refs.map { ref -> RedisCommand in
                switch ref {
                case .throttle(let i, let j):
                    let t = fleet.tenants[i]
                    return RedisCommand(["HMGET", KeySchema.throttle(t.id, j < t.routes.count ? t.routes[j].route : .all),
                                         "limit", "expires_at", "reason", "actor", "set_at"])
                case .key(let i, let k):
                    return RedisCommand(["HMGET", KeySchema.apiKey(fleet.tenants[i].id, fleet.tenants[i].keys[k].id),
                                         "sha256", "state", "expires_at", "grace_until"])
                }
            }
            let replies = try await control.pipeline(commands)
            for (ref, reply) in zip(refs, replies) { apply(ref, reply) }
        }

        let month = YearMonth(containing: Int64(now))
        if month != budgets.first?.month { try await startMonth(month) }
        let tenants = all ? Array(fleet.tenants.indices) : Array(active)
        active.removeAll(keepingCapacity: true)
        guard !tenants.isEmpty else { return }
        let replies = try await redis.pipeline(tenants.map {
            RedisCommand(["HMGET", KeySchema.budget(fleet.tenants[$0].id, month: month), "limit", "used", "hard", "temp_limit", "temp_expires_at"])
        })
        for (i, reply) in zip(tenants, replies) {
            guard let f = reply.array, f.count == 5 else { continue }
            func int(_ v: RedisValue) -> Int? { v.string.flatMap { Int($0) } }
            let temp = int(f[3]).flatMap { l in int(f[4]).map { now < Double($0) ? l : nil } ?? nil }
            budgets[i].limit = temp ?? int(f[0]) ?? budgets[i].limit
            budgets[i].used = int(f[1]) ?? budgets[i].used
            budgets[i].hard = f[2].string == "1"
        }
    }

    private func apply(_ ref: ControlRef, _ reply: RedisValue) {
        switch ref {
        case .throttle(let i, let j):
            let t = fleet.tenants[i]
            let route = j < t.routes.count ? t.routes[j].route : Route.all
            if case .ok(let th) = RedisParse.throttle(reply, route: route, key: "") { throttles[i][j] = th }
        case .key(let i, let k):
            guard let f = reply.array, f.count == 4 else { return }
            keys[i][k].sha256 = Self.bytes(hex: f[0].string ?? "")
            keys[i][k].meta = RedisParse.keyMeta(fleet.tenants[i].keys[k].id, .array(Array(f[1...])))
            keys[i][k].unreadable = keys[i][k].meta == nil   // deleted, or a state the contract does not know
        }
    }

    /// The first second of a month: every tenant's budget for it, `used` from 0.
    private func startMonth(_ month: YearMonth) async throws(BackendError) {
        var commands: [[String]] = []
        for (i, t) in fleet.tenants.enumerated() {
            let key = KeySchema.budget(t.id, month: month)
            commands.append(["HSETNX", key, "used", "0"])
            commands.append(["HSET", key, "limit", String(t.budgetLimit), "soft_pct", "80", "hard", budgets[i].hard ? "1" : "0"])
            budgets[i] = Budget(limit: t.budgetLimit, used: 0, hard: budgets[i].hard, month: month)
        }
        _ = try await redis.pipeline(commands)
    }
}
