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
