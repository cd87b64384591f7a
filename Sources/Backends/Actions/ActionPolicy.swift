/// Who may ask for which action on which tenant: the one answer the console's bindings, its
/// dialogs, the CLI and the action layer all use.
public struct ActionPolicy: Equatable, Sendable {
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
        if let scope = op.tenant, let tenant, scope != tenant {
            return "\(op.name) is confined to tenant \(scope)"
        }
        return nil
    }
}
