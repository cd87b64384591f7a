import Foundation

/// The one action layer the TUI and the CLI share. In one place it refuses what read-only mode or
/// the operator's role forbids, carries the action out, and writes an audit event for every
/// outcome (allowed, refused or failed) to the durable spool before it reports.
public struct ActionLayer: Sendable {
    public let op: Operator
    public let readonly: Bool
    public let writer: any GatewayWriting
    public let spool: AuditSpool
    public let clock: any Clock

    public init(op: Operator, readonly: Bool, writer: any GatewayWriting, spool: AuditSpool, clock: any Clock = SystemClock()) {
        self.op = op
        self.readonly = readonly
        self.writer = writer
        self.spool = spool
        self.clock = clock
    }

    /// Why this operator may not ask for `request` now, or nil. The TUI greys actions out with it.
    public func refusal(_ request: ActionRequest) -> String? {
        if readonly { return "read-only mode: actions are disabled (--readonly, TOLLGATE_READONLY or the context's config)" }
        if op.role < request.requiredRole {
            return "\(request.name) needs the \(request.requiredRole.rawValue) role; \(op.name) has \(op.role.rawValue)"
        }
        if let scope = op.tenant, scope != request.tenant {
            return "\(op.name) is confined to tenant \(scope)"
        }
        return nil
    }

    public func perform(_ request: ActionRequest) async throws(BackendError) -> ActionOutcome {
        let now = clock.now()
        if let why = refusal(request) {
            try record(request, outcome: "denied", detail: ["refused": why], at: now)
            throw .denied(why)
        }
        do throws(BackendError) {
            let result = try await writer.apply(request, by: op, now: Int64(now))
            try record(request, outcome: "success", detail: ["before": result.before, "after": result.after], at: now)
            return result
        } catch {
            try? record(request, outcome: "error", detail: ["error": error.description], at: now)
            throw error
        }
    }

    private func record(_ request: ActionRequest, outcome: String, detail: [String: Any], at now: Double) throws(BackendError) {
        var full = detail
        full["operator_authenticated"] = op.authenticated
        if let parameters = request.parameters { full["request"] = parameters }
        let json = (try? JSONSerialization.data(withJSONObject: full, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let event = AuditEvent(tenant: request.tenant, ts: Int64(now.rounded(.down)), tsMs: UInt16((now * 1000).truncatingRemainder(dividingBy: 1000)),
                               eventID: UUID().uuidString.lowercased(), actor: op.name, actorType: "operator", action: request.name,
                               resource: request.resource, outcome: outcome, detail: json)
        do throws(AuditSpool.SpoolError) { try spool.append(event) } catch {
            throw .failed("the audit event could not be made durable, so the action is not reported done: \(error.description)")
        }
    }
}
