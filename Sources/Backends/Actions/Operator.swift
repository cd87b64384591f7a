/// Who acts, and what they may do (docs/contract.md, "Keycloak"). Until Keycloak sign-in lands
/// the identity is `local:$USER` with a role from config or TOLLGATE_ROLE, marked unauthenticated.
public struct Operator: Equatable, Sendable {
    public enum Role: String, Sendable, CaseIterable, Comparable {
        case viewer, support, `operator`, admin
        public static func < (a: Role, b: Role) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    }

    public let name: String
    public let role: Role
    /// A token with a `tenant_id` claim confines the operator to that tenant.
    public let tenant: TenantID?
    public let authenticated: Bool

    public init(name: String, role: Role, tenant: TenantID? = nil, authenticated: Bool) {
        self.name = name
        self.role = role
        self.tenant = tenant
        self.authenticated = authenticated
    }
}

/// An operator action, as the TUI's dialogs and the CLI both ask for it.
public enum ActionRequest: Equatable, Sendable {
    case throttleSet(TenantID, Route, limit: Int, duration: Int64, reason: String)
    case throttleClear(TenantID, Route)
    case budgetRaise(TenantID, limit: Int, duration: Int64, reason: String)

    public var tenant: TenantID {
        switch self {
        case .throttleSet(let t, _, _, _, _), .throttleClear(let t, _), .budgetRaise(let t, _, _, _): t
        }
    }

    /// The contract's action names, as written to the audit log.
    public var name: String {
        switch self {
        case .throttleSet: "throttle.set"
        case .throttleClear: "throttle.clear"
        case .budgetRaise: "budget.raise"
        }
    }

    public var resource: String {
        switch self {
        case .throttleSet(_, let r, _, _, _), .throttleClear(_, let r): "route/\(r)"
        case .budgetRaise: "budget/current"
        }
    }

    /// The least role that may ask for it.
    public var requiredRole: Operator.Role { .operator }
}

/// Before/after values of a change, for the audit row's detail.
public struct ActionOutcome: Equatable, Sendable {
    public let before: [String: String]
    public let after: [String: String]
    public init(before: [String: String], after: [String: String]) {
        self.before = before
        self.after = after
    }
}

/// What actually changes the gateway's state: one implementation per store.
public protocol GatewayWriting: Sendable {
    func apply(_ request: ActionRequest, by op: Operator, now: Int64) async throws(BackendError) -> ActionOutcome
}
