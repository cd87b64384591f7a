/// What the console knows about tenants at one instant, as read from a backend.

/// A value read from a store that may break the contract. A broken value is shown as a marked
/// error in its cell, never as a number.
public enum Reading<Value: Sendable>: Sendable {
    case ok(Value)
    case bad(String)

    public var value: Value? { if case .ok(let v) = self { v } else { nil } }
    public var problem: String? { if case .bad(let p) = self { p } else { nil } }

    public func map<T>(_ f: (Value) -> T) -> Reading<T> {
        switch self {
        case .ok(let v): .ok(f(v))
        case .bad(let p): .bad(p)
        }
    }
}

extension Reading: Equatable where Value: Equatable {}

public enum Tier: String, Sendable, CaseIterable { case enterprise, smb }
public enum TenantStatus: String, Sendable, CaseIterable { case active, suspended }

/// `{T}:meta`. Immutable, and a class: a tenant's state on every refresh shares the one read
/// with its cold data instead of copying its strings (docs/benchmarks.md).
public final class TenantMeta: Equatable, Sendable {
    public let name: String
    public let tier: Reading<Tier>
    public let status: Reading<TenantStatus>
    public let realm: String
    public let group: String
    public let createdAt: Int64?

    public init(name: String, tier: Reading<Tier>, status: Reading<TenantStatus>, realm: String, group: String, createdAt: Int64?) {
        self.name = name
        self.tier = tier
        self.status = status
        self.realm = realm
        self.group = group
        self.createdAt = createdAt
    }

    public static func == (a: TenantMeta, b: TenantMeta) -> Bool {
        a === b || (a.name == b.name && a.tier == b.tier && a.status == b.status && a.realm == b.realm && a.group == b.group
            && a.createdAt == b.createdAt)
    }
}

/// One route of one tenant in the current window.
public struct RouteReading: Equatable, Sendable {
    public let route: Route
    public let state: Reading<WindowState>

    public init(route: Route, state: Reading<WindowState>) {
        self.route = route
        self.state = state
    }
}

/// One tenant at one instant: everything the overview and the detail screen show.
///
/// A value, stored behind one reference and copied on write: a fleet's arrays of states are
/// copied, merged and dropped every refresh, and a copy then costs one retain instead of one per
/// string and array inside.
public struct TenantState: Equatable, Sendable {
    /// Mutated only while uniquely referenced (`update`), so sharing it across threads is safe.
    private final class Storage: @unchecked Sendable {
        let id: TenantID
        var meta: Reading<TenantMeta>
        var routes: [RouteReading]
        var throttles: [Throttle]
        var budget: Reading<BudgetState>?
        var keys: KeyCounts
        var skippedEntries: Int
        var keyspace: KeyspaceCounts?
        let readAt: Double

        init(id: TenantID, meta: Reading<TenantMeta>, routes: [RouteReading], throttles: [Throttle], budget: Reading<BudgetState>?,
             keys: KeyCounts, skippedEntries: Int, keyspace: KeyspaceCounts?, readAt: Double) {
            self.id = id
            self.meta = meta
            self.routes = routes
            self.throttles = throttles
            self.budget = budget
            self.keys = keys
            self.skippedEntries = skippedEntries
            self.keyspace = keyspace
            self.readAt = readAt
        }

        func copy() -> Storage {
            Storage(id: id, meta: meta, routes: routes, throttles: throttles, budget: budget, keys: keys, skippedEntries: skippedEntries,
                    keyspace: keyspace, readAt: readAt)
        }
    }
    private var storage: Storage

    public init(id: TenantID, meta: Reading<TenantMeta>, routes: [RouteReading], throttles: [Throttle],
                budget: Reading<BudgetState>?, keys: KeyCounts, skippedEntries: Int = 0, keyspace: KeyspaceCounts? = nil, readAt: Double) {
        storage = Storage(id: id, meta: meta, routes: routes, throttles: throttles, budget: budget, keys: keys, skippedEntries: skippedEntries,
                          keyspace: keyspace, readAt: readAt)
    }

    private mutating func update(_ change: (Storage) -> Void) {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        change(storage)
    }

    public var id: TenantID { storage.id }
    public var meta: Reading<TenantMeta> {
        get { storage.meta }
        set { update { $0.meta = newValue } }
    }
    public var routes: [RouteReading] {
        get { storage.routes }
        set { update { $0.routes = newValue } }
    }
    public var throttles: [Throttle] {
        get { storage.throttles }
        set { update { $0.throttles = newValue } }
    }
    /// `nil` when the tenant has no budget for the current month.
    public var budget: Reading<BudgetState>? {
        get { storage.budget }
        set { update { $0.budget = newValue } }
    }
    public var keys: KeyCounts {
        get { storage.keys }
        set { update { $0.keys = newValue } }
    }
    /// Key ids, key hashes or route names that broke the contract: skipped, and counted here.
    public var skippedEntries: Int {
        get { storage.skippedEntries }
        set { update { $0.skippedEntries = newValue } }
    }
    /// Sessions and cache entries, from the last complete count; `nil` until one completed.
    public var keyspace: KeyspaceCounts? {
        get { storage.keyspace }
        set { update { $0.keyspace = newValue } }
    }
    /// When the counters, budget and throttles were read. A source that serves a state again,
    /// unchanged, keeps this: two states of a tenant with the same `readAt` are one reading.
    public var readAt: Double { storage.readAt }

    /// Whether `other` is this very reading, served again: the same stored value (a check of one
    /// reference), or the same tenant read at the same instant.
    public func isSameReading(as other: TenantState) -> Bool {
        storage === other.storage || (readAt == other.readAt && id == other.id)
    }

    public static func == (a: TenantState, b: TenantState) -> Bool {
        a.storage === b.storage
            || (a.id == b.id && a.meta == b.meta && a.routes == b.routes && a.throttles == b.throttles && a.budget == b.budget && a.keys == b.keys
                && a.skippedEntries == b.skippedEntries && a.keyspace == b.keyspace && a.readAt == b.readAt)
    }

    /// Requests across all routes in their current windows (routes with readable counters).
    public var requests: Int { routes.reduce(0) { $0 + ($1.state.value?.count ?? 0) } }
    public var denied: Int { routes.reduce(0) { $0 + ($1.state.value?.denied ?? 0) } }

    /// The route closest to (or furthest past) its effective limit.
    public var hottest: (route: Route, state: WindowState)? {
        var best: (Route, WindowState)?
        for r in routes {
            guard let s = r.state.value, let u = s.utilisation else { continue }
            if best == nil || u > best!.1.utilisation! { best = (r.route, s) }
        }
        return best
    }

    /// Whether any value of this tenant broke the contract.
    public var hasProblems: Bool {
        meta.problem != nil || routes.contains { $0.state.problem != nil } || budget?.problem != nil || skippedEntries > 0
    }
}

/// The fleet at one instant.
public struct FleetSnapshot: Equatable, Sendable {
    public let tenants: [TenantState]
    /// Tenant ids found in the index or by SCAN that broke the contract's pattern.
    public let malformedTenantIDs: Int
    public let takenAt: Double
    /// When the count behind the tenants' `keyspace` completed; `nil` before the first one.
    public let keyspaceAsOf: Double?
    /// Why the last step of that count failed, if it did.
    public let keyspaceProblem: String?
    /// Why `gw:tenants` could not be read (a value of another type): the tenants were then found
    /// by SCAN, and this says so.
    public let indexProblem: String?
    /// The producer keeps `tenants` in id order (the Redis reader does), so a consumer that needs
    /// that order need not check it: a walk of every tenant's id per refresh.
    public let inIDOrder: Bool

    public init(tenants: [TenantState], malformedTenantIDs: Int, takenAt: Double, keyspaceAsOf: Double? = nil, keyspaceProblem: String? = nil,
                indexProblem: String? = nil, inIDOrder: Bool = false) {
        self.indexProblem = indexProblem
        self.inIDOrder = inIDOrder
        self.tenants = tenants
        self.malformedTenantIDs = malformedTenantIDs
        self.takenAt = takenAt
        self.keyspaceAsOf = keyspaceAsOf
        self.keyspaceProblem = keyspaceProblem
    }
}

/// A tenant's end-user sessions (`{T}:session:*`) and response-cache entries (`{T}:cache:*`):
/// counted by a SCAN that walks the keyspace a step per refresh, so they lag by up to one walk.
public struct KeyspaceCounts: Equatable, Sendable {
    public var sessions: Int
    public var cacheEntries: Int

    public init(sessions: Int = 0, cacheEntries: Int = 0) {
        self.sessions = sessions
        self.cacheEntries = cacheEntries
    }
}
