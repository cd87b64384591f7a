import Synchronization

/// The read side of the contract over Redis. Key names are computed from the key schema and the
/// clock, never found by KEYS; SCAN serves only discovery when `gw:tenants` is missing (cached)
/// and the slow per-tenant counts of sessions and cache entries (a step per refresh).
///
/// A refresh of the fleet (docs/redis.md):
/// - hot, every refresh: each tenant's current-window counters (one MGET) and budget (one HMGET),
///   one round trip per 2,000 tenants (`TenantReads.swift`), but for quiet tenants: the server
///   announces every change to the contract's keys (key tracking by prefix, `KeyTracking.swift`),
///   and a tenant none of whose keys changed serves its last state, its windows rolled over
///   unread (a counter nobody wrote does not exist: `ColdBox.state`).
///   Throttles change rarely: they are read again only for the tenants whose throttle keys the
///   server announces as changed (one EXISTS, then the throttles themselves
///   in a second round trip for those that have any), or for all of them when it cannot tell;
/// - cold, once every `coldInterval` seconds per tenant at a phase of its own (four times that
///   while tracking announces their changes, so the re-read is only a guard): meta, limit
///   policies and key metadata, which operators change rarely. They ride in the same two
///   pipelines; only tenants seen for the first time are read in full (`TenantCache.swift`);
/// - one SCAN step of the session and cache counts (`KeyspaceCounter.swift`).
/// `tenant(_:)` (the detail screen, `tenants show`) always reads both tiers fresh, in two round
/// trips, with GET per counter so that a counter of the wrong type is reported as such.
public final class RedisGateway: FleetReading, TenantReading, KeyWatching {
    let redis: any RedisCommands
    private let clock: any Clock
    let coldInterval: Double
    static let trackedColdFactor = 4.0
    let cache = Mutex(Cache())
    let keyspace = KeyspaceCounter()
    static let scanCacheSeconds = 60.0
    static let keyFields = ["state", "expires_at", "grace_until"]
    static let throttleFields = ["limit", "expires_at", "reason", "actor", "set_at"]
    static let budgetFields = ["limit", "used", "soft_pct", "hard", "temp_limit", "temp_expires_at"]
    static let countIndex = RedisCommand(["SCARD", KeySchema.tenantIndex])
    /// Tenants read per pair of pipelines, in full (a first read of 10,000 takes 20) and hot: what
    /// a refresh allocates for commands and replies is bounded by these, not by the fleet's size.
    static let fullReadSlice = 500
    static let hotReadSlice = 2000

    struct Cache {
        var scan: (ids: [String], at: Double)?
        var cold: [TenantID: ColdBox] = [:]
        var index: Index?
        /// Bumped whenever tracking cannot say what changed: throttles read in an older epoch
        /// are read again.
        var trackingEpoch = 0
        /// Whether the last refresh heard what changed (tracking works): cold reads then come
        /// `trackedColdFactor` times less often. `nil` until the first refresh that could hear
        /// (the second asks, and starts tracking): the first read is scheduled as if it works.
        var tracking: Bool?
        /// How many refreshes asked what changed.
        var changesAsked = 0
        /// The session and cache counts in the kept states.
        var keyspace: KeyspaceCounter.Published?
        /// What the last refresh returned, and when each tenant is next looked at.
        var shown: Shown?
        /// How many tenants the last refresh looked at (for tests): all of them, or in the steady
        /// state those due or announced.
        var looked = 0
    }

    /// The discovered tenant ids; between cold intervals only `SCARD gw:tenants` is checked.
    struct Index {
        let ids: [TenantID]
        let malformed: Int
        let members: Int
        let at: Double
        var problem: String? = nil
        /// Bumped when a read of the index finds other ids than the one before.
        var generation = 0
    }

    public init(redis: any RedisCommands, clock: any Clock = SystemClock(), coldInterval: Double = 30) {
        self.redis = redis
        self.clock = clock
        self.coldInterval = coldInterval
    }

    public var label: String { redis.label }


    // MARK: FleetReading

    public func fleet() async throws(BackendError) -> FleetSnapshot {
        try await fleet(rediscover: false)
    }

    private func fleet(rediscover: Bool) async throws(BackendError) -> FleetSnapshot {
        let now = clock.now()
        var index = rediscover ? nil : cache.withLock { $0.index }.flatMap { now - $0.at < coldInterval ? $0 : nil }
        let checkIndex = index != nil
        if index == nil {
            let (ids, malformed, members, problem) = try await discover(now: now)
            var read = Index(ids: ids, malformed: malformed, members: members, at: now, problem: problem)
            index = cache.withLock { c in
                if let old = c.index { read.generation = old.ids == ids ? old.generation : old.generation + 1 }
                c.index = read
                return read
            }
        }
        let ids = index!.ids
        // The slow counts: one SCAN step per refresh. A failed step is reported and retried on
        // the next refresh; the last complete counts stand meanwhile.
        var problem: String?
        do throws(BackendError) { try await keyspace.step(redis, now: now) } catch { problem = error.message }
        let counts = keyspace.published
        // Right before the reads: a reconnection after this point fails the refresh instead of
        // leaving announcements unheard. The first refresh asks too, and so starts tracking before
        // it reads: the states it reads then serve again at the next refresh, instead of all being
        // read a second time (and the fleet held twice while the first ones are still shown).
        let (epoch, announced) = await noteChanges()
        let tracked = cache.withLock { $0.tracking != false }
        let before = cache.withLock { $0.keyspace }
        let recount = counts?.walk != before?.walk
        // In the steady state only the tenants that something is due of, announced for or recounted
        // are looked at (`Shown`); after a change of the index or the tracking epoch, all.
        let recounted = recount ? before.flatMap { old in counts.map { KeyspaceCounter.changed(from: old.counts, to: $0.counts) } } : []
        // Taken out until this refresh succeeds: announcements heard now by a refresh that then
        // fails are in no `visit`, and the next refresh looks at every tenant.
        let taken = cache.withLock { c in defer { c.shown = nil }; return c.shown }
        let shown = recounted == nil ? nil : taken.flatMap { $0.serves(index: index!.generation, epoch: epoch, tracked: tracked) ? $0 : nil }
        let positions = shown?.due(at: now, announced: announced.map { $0 + recounted! }) ?? Array(ids.indices)
        // New tenants are read in full; known ones by the hot read, unless their last state still
        // holds. Sorted out under the lock: a copy of the map kept through the refresh would make
        // storing the re-read boxes copy all of it.
        var new: [Int] = [], known: [(at: Int, box: ColdBox)] = []
        let cachedCount = cache.withLock { c in
            for p in positions {
                if let box = c.cold[ids[p]] { known.append((p, box)) } else { new.append(p) }
            }
            return c.cold.count
        }
        // A quiet tenant's state serves again: nothing it was read from changed.
        var kept: [(at: Int, state: TenantState)] = [], read: [(id: TenantID, box: ColdBox, due: Bool)] = [], readAt: [Int] = []
        for (p, box) in known {
            let due = box.coldDue(at: now, tracked: tracked)
            if !due, var state = box.state(epoch: epoch, at: now) {
                if recount {   // a SCAN walk completed: its counts go into the kept state too
                    let count = counts.map { $0.counts[ids[p]] ?? KeyspaceCounts() }
                    if state.keyspace != count {
                        state.keyspace = count
                        box.recount(state)
                    }
                }
                kept.append((p, state))
            } else {
                read.append((ids[p], box, due))
                readAt.append(p)
            }
        }
        var full: [TenantState] = []
        full.reserveCapacity(new.count)
        for start in stride(from: 0, to: new.count, by: Self.fullReadSlice) {
            let slice = new[start..<min(start + Self.fullReadSlice, new.count)].map { ids[$0] }
            full += try await readFull(slice, now: now, keyspace: counts?.counts, epoch: epoch)
        }
        var hot: [TenantState] = [], checks: [HotReply] = []
        hot.reserveCapacity(read.count)
        var start = 0
        repeat {   // the index check rides in the first slice's pipeline
            let end = min(start + Self.hotReadSlice, read.count)
            let (states, replies) = try await readHot(Array(read[start..<end]), now: now, keyspace: counts?.counts, epoch: epoch,
                                                      prefix: start == 0 && checkIndex ? [Self.countIndex] : [])
            hot += states
            if start == 0 { checks = replies }
            start = end
        } while start < read.count
        cache.withLock { $0.keyspace = counts }
        if checkIndex, checks.first?.integer != Int64(index!.members) {
            return try await fleet(rediscover: true)   // tenants came or went: read the index again
        }
        // Every state at its tenant's position: the id order.
        let tenants: [TenantState]
        if var states = shown?.states {
            for (p, state) in kept { states[p] = state }
            for (p, state) in zip(readAt, hot) { states[p] = state }
            for (p, state) in zip(new, full) { states[p] = state }
            tenants = states
        } else {
            var states = [TenantState?](repeating: nil, count: ids.count)
            for (p, state) in kept { states[p] = state }
            for (p, state) in zip(readAt, hot) { states[p] = state }
            for (p, state) in zip(new, full) { states[p] = state }
            tenants = states.map { $0! }
        }
        cache.withLock { c in
            var visit = shown?.visit ?? [Double](repeating: -.infinity, count: ids.count)
            for p in positions { visit[p] = c.cold[ids[p]]?.nextVisit(tracked: tracked) ?? -.infinity }
            c.looked = positions.count
            c.shown = Shown(states: tenants, ids: ids, visit: visit, index: index!.generation, epoch: epoch, tracked: tracked)
            if cachedCount > ids.count {   // forget deleted tenants
                let live = Set(ids)
                c.cold = c.cold.filter { live.contains($0.key) }
            }
        }
        return FleetSnapshot(tenants: tenants, malformedTenantIDs: index!.malformed, takenAt: now,
                             keyspaceAsOf: counts?.completedAt, keyspaceProblem: problem, indexProblem: index!.problem, inIDOrder: true)
    }

    /// Every tenant read in full, a slice at a time, and nothing of it kept (one-shot commands).
    public func fleet(slicesOf size: Int, _ body: (FleetSnapshot) throws(BackendError) -> Void) async throws(BackendError) {
        let now = clock.now()
        let (ids, malformed, _, problem) = try await discover(now: now)
        // One step of the session and cache counts, as a refresh takes: a small keyspace completes.
        var countProblem: String?
        do throws(BackendError) { try await keyspace.step(redis, now: now) } catch { countProblem = error.message }
        let counts = keyspace.published
        var start = 0
        repeat {
            let end = min(start + max(1, size), ids.count)
            let states = try await readFull(Array(ids[start..<end]), now: now, keyspace: counts?.counts, epoch: 0, keep: false)
            try body(FleetSnapshot(tenants: states, malformedTenantIDs: malformed, takenAt: now, keyspaceAsOf: counts?.completedAt,
                                   keyspaceProblem: countProblem, indexProblem: problem))
            start = end
        } while start < ids.count
    }

    /// Drops what is known of the tenants whose keys changed (of all of them when tracking cannot
    /// tell), and returns the epoch this refresh's readings belong to and the tenants whose keys
    /// were announced as changed (`nil`: any may have).
    private func noteChanges() async -> (epoch: Int, announced: [TenantID]?) {
        let changes = (try? await redis.changedKeys(.prefixes(KeySchema.trackedPrefixes))) ?? .unknown
        return cache.withLock { c in
            var announced: [TenantID]?
            switch changes {
            case .unknown:
                c.trackingEpoch += 1
                c.tracking = c.changesAsked == 0 ? nil : false   // the first ask starts tracking
            case .keys(let keys):
                c.tracking = true
                announced = []
                for k in keys {
                    guard let (t, kind) = KeySchema.announced(k) else { continue }
                    c.cold[t]?.forget(kind)
                    announced?.append(t)
                }
            }
            c.changesAsked += 1
            return (c.trackingEpoch, announced)
        }
    }

    /// Tenant ids from `gw:tenants`, or from a cached SCAN of `{*}:meta` when the index is empty,
    /// missing or not a set (which is reported). Ids that break the contract are skipped and counted.
    func discover(now: Double) async throws(BackendError) -> (ids: [TenantID], malformed: Int, members: Int, problem: String?) {
        let index = try await redis.pipeline([["SMEMBERS", KeySchema.tenantIndex]])[0]
        var problem: String?
        if case .error(let e) = index { problem = "\(KeySchema.tenantIndex) cannot be read as a set (\(SafeText.clean(e))): tenants found by SCAN" }
        var raw = index.array?.compactMap(\.string) ?? []
        let members = raw.count
        if raw.isEmpty {
            if let cached = cache.withLock({ $0.scan }), now - cached.at < Self.scanCacheSeconds {
                raw = cached.ids
            } else {
                raw = try await redis.scanKeys(matching: KeySchema.metaScanPattern).compactMap(KeySchema.tenantPart(ofMetaKey:))
                let found = raw
                cache.withLock { $0.scan = (found, now) }
            }
        }
        var ids: [TenantID] = []
        var malformed = 0
        for r in Set(raw) {
            if let id = try? TenantID(r) { ids.append(id) } else { malformed += 1 }
        }
        return (ids.sorted(), malformed, members, problem)
    }

    // MARK: KeyWatching

    /// From the key metadata kept with each tenant's cold data, after a refresh (which re-reads an
    /// even share of the fleet's cold data): no read per key.
    public func expiringKeys(within seconds: Double) async throws(BackendError) -> [ExpiringKey] {
        let snapshot = try await fleet()
        let now = snapshot.takenAt
        let boxes = cache.withLock { c in snapshot.tenants.compactMap { t in c.cold[t.id].map { (t.id, $0) } } }
        var out: [ExpiringKey] = []
        for (t, box) in boxes {
            for k in box.value.keys {
                let state = KeyState.derive(stored: k.stored, expiresAt: k.expiresAt, graceUntil: k.graceUntil, now: now)
                guard ExpiringKey.isDue(state: state, expiresAt: k.expiresAt, now: now, within: seconds) else { continue }
                out.append(ExpiringKey(tenant: t, key: k.id, state: state, expiresAt: k.expiresAt, graceUntil: k.graceUntil))
            }
        }
        return out.sorted { ($0.due, $0.tenant, $0.key) < ($1.due, $1.tenant, $1.key) }
    }

    // MARK: TenantReading

    public func tenant(_ id: TenantID) async throws(BackendError) -> TenantState {
        let now = clock.now()
        let epoch = cache.withLock { $0.trackingEpoch }
        guard let state = try await readFull([id], now: now, keyspace: keyspace.published?.counts, epoch: epoch).first else { throw .notFound("tenant \(id)") }
        if case .bad = state.meta, state.routes.isEmpty, state.budget == nil, state.keys.total == 0 {
            let exists = try await redis.pipeline([["EXISTS", KeySchema.meta(id)]])[0]
            if exists == .integer(0) { throw .notFound("tenant \(id): no \(KeySchema.meta(id)) in Redis") }
        }
        return state
    }

    /// One SCAN walk over the tenant's session and cache keys.
    public func keyspace(of tenant: TenantID) async throws(BackendError) -> KeyspaceCounts {
        var counts: [TenantID: KeyspaceCounts] = [:]
        KeyspaceCounter.tally(try await redis.scanKeys(matching: KeySchema.keyspacePattern(tenant)), into: &counts)
        return counts[tenant] ?? KeyspaceCounts()
    }

    public func keys(of tenant: TenantID) async throws(BackendError) -> [APIKey] {
        let index = try await redis.pipeline([["SMEMBERS", KeySchema.apiKeys(tenant)]])[0]
        if let e = index.errorMessage { throw .failed("\(KeySchema.apiKeys(tenant)): \(SafeText.clean(e))") }
        let ids = (index.array?.compactMap(\.string) ?? []).compactMap { try? KeyID($0) }.sorted()
        let hashes = try await redis.pipeline(ids.map { ["HGETALL", KeySchema.apiKey(tenant, $0)] })
        return zip(ids, hashes).compactMap { id, h in h.hash.flatMap { RedisParse.apiKey(id, $0) } }
    }
}
