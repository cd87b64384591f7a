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
    /// Signs a tenant's users out in Keycloak (`ActionLayer.logoutSessions`).
    case sessionsLogout = "sessions.logout"

    public var requiredRole: Operator.Role {
        switch self {
        case .keyCreate, .keyRotate, .keyRevoke: .admin
        case .throttleSet, .throttleClear, .budgetRaise, .sessionsLogout: .operator
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
    /// `grace` 0 revokes the old key at once. `expiresIn`: the new key's expiry from now (0:
    /// never); nil keeps the old key's.
    case keyRotate(TenantID, KeyID, grace: Int64, expiresIn: Int64? = nil)
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
             .keyRotate(let t, _, _, _), .keyRevoke(let t, _, _): t
        }
    }

    /// The contract's action name, as written to the audit log.
    public var name: String { kind.rawValue }

    public var resource: String {
        switch self {
        case .throttleSet(_, let r, _, _, _), .throttleClear(_, let r): "route/\(r)"
        case .budgetRaise: "budget/current"
        case .keyCreate: "apikey/new"
        case .keyRotate(_, let k, _, _), .keyRevoke(_, let k, _): "apikey/\(k)"
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
        case .keyRotate(_, _, let grace, let expiresIn): ["grace_seconds": grace, "expires_in_seconds": expiresIn.map { String($0) } ?? "inherit"]
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
    /// How the outcome is known.
    public var verified: Verification

    public enum Verification: Equatable, Sendable {
        /// The store answered the request.
        case replied
        /// The reply was lost; reading the request's marker back showed the change applied.
        case readBack
        /// The reply was lost and the store stayed unreachable: the change may or may not have
        /// applied. The outcome (a new key's secret included) is what it would be if it did.
        case unknown(String)
    }

    public init(before: [String: String], after: [String: String], newKey: KeyID? = nil, secret: APIKeySecret? = nil,
                verified: Verification = .replied) {
        self.before = before
        self.after = after
        self.newKey = newKey
        self.secret = secret
        self.verified = verified
    }
}

/// What actually changes the gateway's state: one implementation per store. `requestID` names
/// the request in the store, written atomically with its effect, so that a lost reply can be
/// settled by reading it back.
public protocol GatewayWriting: Sendable {
    func apply(_ request: ActionRequest, by op: Operator, now: Int64, requestID: String) async throws(BackendError) -> ActionOutcome
}

extension GatewayWriting {
    public func apply(_ request: ActionRequest, by op: Operator, now: Int64) async throws(BackendError) -> ActionOutcome {
        try await apply(request, by: op, now: now, requestID: ActionRequest.newRequestID())
    }
}

extension ActionRequest {
    /// A random UUID, lowercase: an action's name in the store and in its audit row.
    public static func newRequestID() -> String {
        var rng = SystemRandomNumberGenerator()
        var b = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        b[6] = b[6] & 0x0F | 0x40
        b[8] = b[8] & 0x3F | 0x80
        let hex = b.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }
}
