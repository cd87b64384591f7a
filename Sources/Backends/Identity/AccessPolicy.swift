/// What an operator may read, the contract's role table (docs/contract.md, "Keycloak").
public enum ReadKind: String, Sendable, CaseIterable {
    /// Tenants, limits, budgets and key states.
    case tenants
    /// Audit events and their detail.
    case audit
    /// Key usage.
    case usage
    /// A tenant's identities in Keycloak: realm or group, users, sessions.
    case sessions

    public var requiredRole: Operator.Role {
        switch self {
        case .tenants: .viewer
        case .audit, .usage, .sessions: .support
        }
    }

    /// How a refusal begins: "audit events need" the support role.
    var need: String {
        switch self {
        case .tenants: "tenant data needs"
        case .audit: "audit events need"
        case .usage: "key usage needs"
        case .sessions: "Keycloak sessions need"
        }
    }
}

/// Who may read what and ask for which action on which tenant: the one answer the console's
/// bindings, its command mode and dialogs, the CLI, the guarded readers and the action layer use.
public struct AccessPolicy: Equatable, Sendable {
    public let op: Operator
    public let readonly: Bool

    public init(op: Operator, readonly: Bool) {
        self.op = op
        self.readonly = readonly
    }

    /// Why `kind` is refused now, or nil. `tenant` nil asks about the kind alone (no tenant is
    /// selected yet); a tenant-scoped operator is then refused only on another tenant.
    public func refusal(_ kind: ActionKind, tenant: TenantID?) -> String? {
        if readonly { return "read-only mode: actions are disabled (--readonly, TOLLGATE_READONLY or the context's config)" }
        if op.role < kind.requiredRole {
            return "\(kind.rawValue) needs the \(kind.requiredRole.rawValue) role; \(op.name) has \(op.role.rawValue)"
        }
        return scopeRefusal(tenant)
    }

    /// Why reading `kind` of `tenant` is refused, or nil; `tenant` nil: of the fleet, which a
    /// tenant-scoped operator reads as their tenant alone.
    public func refusal(_ kind: ReadKind, tenant: TenantID?) -> String? {
        if op.role < kind.requiredRole {
            return "\(kind.need) the \(kind.requiredRole.rawValue) role; \(op.name) has \(op.role.rawValue)"
        }
        return scopeRefusal(tenant)
    }

    /// Whether the operator may see `tenant` at all.
    public func sees(_ tenant: TenantID) -> Bool { op.tenant.map { $0 == tenant } ?? true }

    private func scopeRefusal(_ tenant: TenantID?) -> String? {
        if let scope = op.tenant, let tenant, scope != tenant { return "\(op.name) is confined to tenant \(scope)" }
        return nil
    }
}
