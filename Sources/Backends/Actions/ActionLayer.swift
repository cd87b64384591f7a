import Foundation

/// The one action layer the TUI and the CLI share. In one place it refuses what read-only mode or
/// the operator's role forbids, carries the action out, and writes an audit event for every
/// outcome (allowed, refused or failed) to the durable spool before it reports.
public struct ActionLayer: Sendable {
    public let policy: AccessPolicy
    public let writer: any GatewayWriting
    public let spool: AuditSpool
    public let clock: any Clock

    /// Asked before each action when the operator signed in with Keycloak: the sign-in is still
    /// valid (refreshed when near expiry), else the action is refused.
    let stillSignedIn: (@Sendable () async throws(BackendError) -> Void)?

    public init(op: Operator, readonly: Bool, writer: any GatewayWriting, spool: AuditSpool, clock: any Clock = SystemClock(),
                stillSignedIn: (@Sendable () async throws(BackendError) -> Void)? = nil) {
        policy = AccessPolicy(op: op, readonly: readonly)
        self.writer = writer
        self.spool = spool
        self.clock = clock
        self.stillSignedIn = stillSignedIn
    }

    public var op: Operator { policy.op }
    public var readonly: Bool { policy.readonly }

    /// Why this operator may not ask for `request` now, or nil.
    public func refusal(_ request: ActionRequest) -> String? { policy.refusal(request.kind, tenant: request.tenant) }

    /// Carries the request out. An outcome whose reply was lost and could not be read back comes
    /// back with `verified == .unknown`, audited as an error with `"outcome": "unknown"`: its
    /// caller says so (the CLI exits 6) and still has a new key's secret to show.
    public func perform(_ request: ActionRequest) async throws(BackendError) -> ActionOutcome {
        let now = clock.now()
        let requestID = ActionRequest.newRequestID()
        if let why = refusal(request) {
            try record(request, requestID, outcome: "denied", detail: ["refused": why], at: now)
            throw .denied(why)
        }
        do throws(BackendError) { try await stillSignedIn?() } catch {
            try record(request, requestID, outcome: "denied", detail: ["refused": error.description], at: now)
            throw error
        }
        do throws(BackendError) {
            let result = try await writer.apply(request, by: op, now: Int64(now), requestID: requestID)
            var detail: [String: Any] = ["before": result.before, "after": result.after]
            switch result.verified {
            case .replied:
                try record(request, requestID, outcome: "success", detail: detail, at: now)
            case .readBack:
                detail["verified"] = "no reply came; read back: applied"
                try record(request, requestID, outcome: "success", detail: detail, at: now)
            case .unknown(let why):
                detail["outcome"] = "unknown"
                detail["error"] = why
                try record(request, requestID, outcome: "error", detail: detail, at: now)
            }
            return result
        } catch {
            try? record(request, requestID, outcome: "error", detail: ["error": error.description], at: now)
            throw error
        }
    }

    /// Signs a tenant's users out in Keycloak (an enterprise realm's logout-all, an SMB group's
    /// members one by one), refused and audited as every action is. Returns the users signed out.
    public func logoutSessions(_ tenant: TenantID, meta: TenantMeta, admin: KeycloakAdmin) async throws(BackendError) -> Int {
        let now = clock.now(), requestID = ActionRequest.newRequestID()
        let kind = ActionKind.sessionsLogout, resource = "sessions/all"
        func audit(_ outcome: String, _ detail: [String: Any]) throws(BackendError) {
            try record(tenant: tenant, name: kind.rawValue, resource: resource, parameters: nil, requestID, outcome: outcome, detail: detail, at: now)
        }
        if let why = policy.refusal(kind, tenant: tenant) {
            try audit("denied", ["refused": why])
            throw .denied(why)
        }
        do throws(BackendError) { try await stillSignedIn?() } catch {
            try audit("denied", ["refused": error.description])
            throw error
        }
        do throws(BackendError) {
            let users = try await admin.logout(tenant, meta: meta)
            try audit("success", ["users_signed_out": users])
            return users
        } catch {
            try? audit("error", ["error": error.description])
            throw error
        }
    }

    private func record(_ request: ActionRequest, _ requestID: String, outcome: String, detail: [String: Any], at now: Double) throws(BackendError) {
        try record(tenant: request.tenant, name: request.name, resource: request.resource, parameters: request.parameters, requestID,
                   outcome: outcome, detail: detail, at: now)
    }

    private func record(tenant: TenantID, name: String, resource: String, parameters: [String: any Sendable]?, _ requestID: String, outcome: String,
                        detail: [String: Any], at now: Double) throws(BackendError) {
        var full = detail
        if let parameters { full["request"] = parameters }
        let event = AuditEvent.byOperator(op, tenant: tenant, action: name, resource: resource, outcome: outcome, requestID: requestID, detail: full, at: now)
        do throws(AuditSpool.SpoolError) { try spool.append(event) } catch {
            throw .failed("the audit event could not be made durable, so the action is not reported done: \(error.description)")
        }
    }
}
