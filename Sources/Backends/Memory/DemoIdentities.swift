/// The demo's identities: an enterprise tenant's realm or an SMB tenant's group, with users and
/// sessions that drift slowly with time, so the tenant detail's identity pane has something to show.
extension DemoGateway: IdentityReading {
    public func identity(of tenant: TenantID) async throws(BackendError) -> TenantIdentity {
        let state = try await self.tenant(tenant)
        guard let meta = state.meta.value else { throw .failed("tenant \(tenant): no meta") }
        let users = 3 + Int(stableHash(seed, [tenant.rawValue, "users"], []) % 400)
        let minute = Int64(clock.now() / 60)
        func share(_ salt: String, _ of: Int) -> Int { Int(Double(of) * (0.2 + 0.5 * unit(stableHash(seed, [tenant.rawValue, salt], [minute])))) }
        switch meta.tier.value {
        case .smb:
            return TenantIdentity(home: .group(realm: "smb", path: meta.group), users: users,
                                  sessions: [.init(client: "members of \(meta.group)", active: share("web", users), offline: 0)])
        default:
            return TenantIdentity(home: .realm(meta.realm, enabled: true, displayName: meta.name), users: users,
                                  sessions: [.init(client: "gateway-web", active: share("web", users), offline: share("web-offline", users / 4)),
                                             .init(client: "gateway-cli", active: share("cli", users / 3), offline: 0)])
        }
    }
}
