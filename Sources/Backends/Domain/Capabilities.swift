/// Backends sit behind small capability protocols; a context's factory hands out the ones its
/// stores support (docs/architecture.md). Every read and action is scoped to one tenant, or is an
/// explicit fleet-wide aggregate (`FleetReading`).

/// Why a backend call failed. The CLI maps each case to its exit code.
public enum BackendError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The store did not answer, refused the connection or timed out (exit 5).
    case unavailable(String)
    /// The request was sent, or may have been, but no reply came: a timeout or a dropped
    /// connection after it went out. Reads treat it as unavailable (exit 5); an action reads back
    /// whether it applied (`RedisActions`).
    case replyLost(String)
    /// The tenant or key does not exist (exit 1).
    case notFound(String)
    /// A concurrent change won, or the object is not in a state that allows the action (exit 3).
    case conflict(String)
    /// The operator may not do this (exit 4).
    case denied(String)
    /// The store answered with something that breaks the contract or an error (exit 1).
    case failed(String)

    public var description: String {
        switch self {
        case .unavailable(let m): "backend unavailable: \(m)"
        case .replyLost(let m): "backend unavailable: \(m) (the request had gone out: no reply came)"
        case .notFound(let m): "not found: \(m)"
        case .conflict(let m): "conflict: \(m)"
        case .denied(let m): "permission denied: \(m)"
        case .failed(let m): "backend error: \(m)"
        }
    }
}

/// The live state of every tenant, for the overview.
public protocol FleetReading: Sendable {
    func fleet() async throws(BackendError) -> FleetSnapshot
    /// The fleet once, in id order, in snapshots of at most `size` tenants, each handed to `body`
    /// before the next is read and kept nowhere: a caller that writes each out holds one at a time
    /// (`tenants list --json`). All share one `takenAt` and the fleet's counts and problems.
    func fleet(slicesOf size: Int, _ body: (FleetSnapshot) throws(BackendError) -> Void) async throws(BackendError)
}

extension FleetReading {
    /// A store of a few tenants reads them at once.
    public func fleet(slicesOf size: Int, _ body: (FleetSnapshot) throws(BackendError) -> Void) async throws(BackendError) {
        try body(try await fleet())
    }
}

/// Keys across the fleet that need someone soon: usable keys that expire within a horizon, and
/// keys in their rotation grace. Soonest first.
public protocol KeyWatching: Sendable {
    func expiringKeys(within seconds: Double) async throws(BackendError) -> [ExpiringKey]
}

public struct ExpiringKey: Equatable, Sendable {
    public let tenant: TenantID
    public let key: KeyID
    public let state: KeyState
    /// 0: never.
    public let expiresAt: Int64
    public let graceUntil: Int64?

    public init(tenant: TenantID, key: KeyID, state: KeyState, expiresAt: Int64, graceUntil: Int64?) {
        self.tenant = tenant
        self.key = key
        self.state = state
        self.expiresAt = expiresAt
        self.graceUntil = graceUntil
    }

    /// When it stops working: the end of its grace, else its expiry.
    public var due: Int64 {
        if state == .rotating, let g = graceUntil { return expiresAt > 0 ? min(g, expiresAt) : g }
        return expiresAt
    }

    /// Whether a key needs listing: in grace, or usable and expiring within `seconds` of `now`.
    public static func isDue(state: KeyState, expiresAt: Int64, now: Double, within seconds: Double) -> Bool {
        state == .rotating || (state.isUsable && expiresAt > 0 && Double(expiresAt) - now <= seconds)
    }
}

/// One tenant in full, for the detail screen and `tenants show`.
public protocol TenantReading: Sendable {
    func tenant(_ id: TenantID) async throws(BackendError) -> TenantState
    func keys(of tenant: TenantID) async throws(BackendError) -> [APIKey]
    /// A fresh, exact count of one tenant's sessions and cache entries. Slow on a large keyspace
    /// (a whole SCAN walk): the overview gets these counts incrementally instead.
    func keyspace(of tenant: TenantID) async throws(BackendError) -> KeyspaceCounts
}

/// Recent audit events of one tenant, newest first.
public protocol AuditReading: Sendable {
    func audit(_ query: AuditQuery) async throws(BackendError) -> [AuditEvent]
}

/// Throttle set and clear on a route or `_all`.
public protocol ThrottleActing: Sendable {
    func setThrottle(_ tenant: TenantID, _ throttle: Throttle) async throws(BackendError)
    func clearThrottle(_ tenant: TenantID, route: Route) async throws(BackendError)
}

/// A temporary budget raise for the current month.
public protocol BudgetActing: Sendable {
    func raiseBudget(_ tenant: TenantID, to limit: Int, until expiresAt: Int64) async throws(BackendError)
}
