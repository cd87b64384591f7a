import Foundation

/// The readers of one session, every read checked against its policy before it reaches a store:
/// a read the operator's role does not allow, or of a tenant outside their scope, is refused
/// (`denied`, exit 4) and audited with the operator as actor. A tenant-scoped operator reads the
/// fleet as their tenant alone. The console and the CLI get their readers only through this.
public struct ReadGuard: Sendable {
    public let policy: AccessPolicy
    /// Where refusals are audited; nil for the demo gateway, which has nothing to protect.
    let spool: AuditSpool?
    let clock: any Clock

    public init(policy: AccessPolicy, spool: AuditSpool?, clock: any Clock = SystemClock()) {
        self.policy = policy
        self.spool = spool
        self.clock = clock
    }

    /// Throws `.denied` (audited) when `kind` of `tenant` may not be read.
    public func check(_ kind: ReadKind, _ tenant: TenantID?) throws(BackendError) {
        guard let why = policy.refusal(kind, tenant: tenant) else { return }
        if let tenant, let spool {
            let event = AuditEvent.byOperator(policy.op, tenant: tenant, action: "\(kind.rawValue).read", resource: "tenant/\(tenant)",
                                              outcome: "denied", detail: ["refused": why], at: clock.now())
            do throws(AuditSpool.SpoolError) { try spool.append(event) } catch {
                throw .denied("\(why) (and the refusal could not be audited: \(error.description))")
            }
        }
        throw .denied(why)
    }

    public func fleet(_ inner: any FleetReading) -> any FleetReading { GuardedFleet(inner: inner, guard: self) }
    public func tenants(_ inner: any TenantReading) -> any TenantReading { GuardedTenants(inner: inner, guard: self) }
    public func keyWatch(_ inner: any KeyWatching) -> any KeyWatching { GuardedKeyWatch(inner: inner, guard: self) }
    public func audit(_ inner: any AuditReading) -> any AuditReading { GuardedAudit(inner: inner, guard: self) }
    public func usage(_ inner: any UsageReading) -> any UsageReading { GuardedUsage(inner: inner, guard: self) }
    public func identities(_ inner: any IdentityReading) -> any IdentityReading { GuardedIdentities(inner: inner, guard: self) }
}

struct GuardedIdentities: IdentityReading {
    let inner: any IdentityReading
    let `guard`: ReadGuard

    func identity(of tenant: TenantID) async throws(BackendError) -> TenantIdentity {
        try `guard`.check(.sessions, tenant)
        return try await inner.identity(of: tenant)
    }
}

struct GuardedFleet: FleetReading {
    let inner: any FleetReading
    let `guard`: ReadGuard

    func fleet() async throws(BackendError) -> FleetSnapshot {
        try `guard`.check(.tenants, nil)
        return scoped(try await inner.fleet())
    }

    func fleet(slicesOf size: Int, _ body: (FleetSnapshot) throws(BackendError) -> Void) async throws(BackendError) {
        try `guard`.check(.tenants, nil)
        try await inner.fleet(slicesOf: size) { (s: FleetSnapshot) throws(BackendError) in try body(scoped(s)) }
    }

    private func scoped(_ s: FleetSnapshot) -> FleetSnapshot {
        guard let scope = `guard`.policy.op.tenant else { return s }
        // Nothing of another tenant, not even how many broke the contract.
        return FleetSnapshot(tenants: s.tenants.filter { $0.id == scope }, malformedTenantIDs: 0, takenAt: s.takenAt,
                             keyspaceAsOf: s.keyspaceAsOf, keyspaceProblem: s.keyspaceProblem, indexProblem: s.indexProblem)
    }
}

struct GuardedTenants: TenantReading {
    let inner: any TenantReading
    let `guard`: ReadGuard

    func tenant(_ id: TenantID) async throws(BackendError) -> TenantState {
        try `guard`.check(.tenants, id)
        return try await inner.tenant(id)
    }

    func keys(of tenant: TenantID) async throws(BackendError) -> [APIKey] {
        try `guard`.check(.tenants, tenant)
        return try await inner.keys(of: tenant)
    }

    func keyspace(of tenant: TenantID) async throws(BackendError) -> KeyspaceCounts {
        try `guard`.check(.tenants, tenant)
        return try await inner.keyspace(of: tenant)
    }
}

struct GuardedKeyWatch: KeyWatching {
    let inner: any KeyWatching
    let `guard`: ReadGuard

    func expiringKeys(within seconds: Double) async throws(BackendError) -> [ExpiringKey] {
        try `guard`.check(.tenants, nil)
        return try await inner.expiringKeys(within: seconds).filter { `guard`.policy.sees($0.tenant) }
    }
}

struct GuardedAudit: AuditReading {
    let inner: any AuditReading
    let `guard`: ReadGuard

    func audit(_ query: AuditQuery) async throws(BackendError) -> [AuditEvent] {
        try `guard`.check(.audit, query.tenant)
        return try await inner.audit(query)
    }
}

struct GuardedUsage: UsageReading {
    let inner: any UsageReading
    let `guard`: ReadGuard

    func usage(tenant: TenantID, key: KeyID?) async throws(BackendError) -> UsageReport {
        try `guard`.check(.usage, tenant)
        return try await inner.usage(tenant: tenant, key: key)
    }
}
