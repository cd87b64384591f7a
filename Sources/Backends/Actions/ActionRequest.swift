/// What kind of action an operator asks for: the contract's action names, and the least role
/// that may ask for each (docs/contract.md, "Keycloak"). Asking whether an action is allowed needs
/// only the kind and the tenant, never a made-up request.
public enum ActionKind: String, Sendable, CaseIterable {
    case throttleSet = "throttle.set"
    case throttleClear = "throttle.clear"
    case budgetRaise = "budget.raise"
    case keyCreate = "key.create"
    case keyRotate = "key.rotate"
    case keyRevoke = "key.revoke"

    public var requiredRole: Operator.Role {
        switch self {
        case .keyCreate, .keyRotate, .keyRevoke: .admin
        case .throttleSet, .throttleClear, .budgetRaise: .operator
        }
    }
}

/// An operator action, as the console's dialogs and the CLI both ask for it. Built from what a
/// person typed by the validating builders in `RequestBuilders.swift`.
public enum ActionRequest: Equatable, Sendable {
    case throttleSet(TenantID, Route, limit: Int, duration: Int64, reason: String)
    case throttleClear(TenantID, Route)
    case budgetRaise(TenantID, limit: Int, duration: Int64, reason: String)
    case keyCreate(TenantID, label: String, scopes: [String], expiresIn: Int64)
    /// `grace` 0 revokes the old key at once.
    case keyRotate(TenantID, KeyID, grace: Int64)
    case keyRevoke(TenantID, KeyID, reason: String)

    public var kind: ActionKind {
        switch self {
        case .throttleSet: .throttleSet
        case .throttleClear: .throttleClear
        case .budgetRaise: .budgetRaise
        case .keyCreate: .keyCreate
        case .keyRotate: .keyRotate
        case .keyRevoke: .keyRevoke
        }
    }

    public var tenant: TenantID {
        switch self {
        case .throttleSet(let t, _, _, _, _), .throttleClear(let t, _), .budgetRaise(let t, _, _, _), .keyCreate(let t, _, _, _),
             .keyRotate(let t, _, _), .keyRevoke(let t, _, _): t
        }
    }

    /// The contract's action name, as written to the audit log.
    public var name: String { kind.rawValue }

    public var resource: String {
        switch self {
        case .throttleSet(_, let r, _, _, _), .throttleClear(_, let r): "route/\(r)"
        case .budgetRaise: "budget/current"
        case .keyCreate: "apikey/new"
        case .keyRotate(_, let k, _), .keyRevoke(_, let k, _): "apikey/\(k)"
        }
    }

    /// What the operator asked for, for the audit row's detail (never a secret).
    public var parameters: [String: any Sendable]? {
        switch self {
        case .throttleSet(_, _, let limit, let duration, let reason), .budgetRaise(_, let limit, let duration, let reason):
            ["limit": limit, "for_seconds": duration, "reason": reason]
        case .throttleClear: nil
        case .keyCreate(_, let label, let scopes, let expiresIn):
            ["label": label, "scopes": scopes.joined(separator: ","), "expires_in_seconds": expiresIn]
        case .keyRotate(_, _, let grace): ["grace_seconds": grace]
        case .keyRevoke(_, _, let reason): ["reason": reason]
        }
    }

    /// The least role that may ask for it.
    public var requiredRole: Operator.Role { kind.requiredRole }
}

/// Before/after values of a change, for the audit row's detail.
public struct ActionOutcome: Sendable {
    public let before: [String: String]
    public let after: [String: String]
    /// The new key of a create or rotate, and its secret: shown once, never audited or stored.
    public let newKey: KeyID?
    public let secret: APIKeySecret?

    public init(before: [String: String], after: [String: String], newKey: KeyID? = nil, secret: APIKeySecret? = nil) {
        self.before = before
        self.after = after
        self.newKey = newKey
        self.secret = secret
    }
}

/// What actually changes the gateway's state: one implementation per store.
public protocol GatewayWriting: Sendable {
    func apply(_ request: ActionRequest, by op: Operator, now: Int64) async throws(BackendError) -> ActionOutcome
}
