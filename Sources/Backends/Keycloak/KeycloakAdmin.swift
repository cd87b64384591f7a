import Foundation

/// A tenant's identities in Keycloak (docs/contract.md, "Keycloak"): an enterprise tenant's own
/// realm, or an SMB tenant's group in the shared realm.
public struct TenantIdentity: Equatable, Sendable {
    public enum Home: Equatable, Sendable {
        case realm(String, enabled: Bool, displayName: String)
        case group(realm: String, path: String)
    }

    /// Active and offline sessions of one client.
    public struct ClientSessions: Equatable, Sendable {
        public let client: String
        public let active: Int
        public let offline: Int
    }

    public let home: Home
    /// The realm's users, or the group's members.
    public let users: Int
    /// Per client for a realm (client-session-stats); for a group, one row of its members' sessions.
    public let sessions: [ClientSessions]

    public var activeSessions: Int { sessions.reduce(0) { $0 + $1.active } }
}

/// A tenant's identities: what the tenant detail's identity pane and `sessions list` read.
public protocol IdentityReading: Sendable {
    func identity(of tenant: TenantID) async throws(BackendError) -> TenantIdentity
}

/// The tenant's meta from the gateway's store (its tier, realm or group), then Keycloak's admin API.
public struct TenantIdentities: IdentityReading {
    let tenants: any TenantReading
    let admin: KeycloakAdmin

    public init(tenants: any TenantReading, admin: KeycloakAdmin) {
        self.tenants = tenants
        self.admin = admin
    }

    public func identity(of tenant: TenantID) async throws(BackendError) -> TenantIdentity {
        guard let meta = try await tenants.tenant(tenant).meta.value else {
            throw .failed("tenant \(tenant): its meta cannot be read, so neither its realm nor its group is known")
        }
        return try await admin.identity(of: tenant, meta: meta)
    }
}

/// Keycloak's admin REST API, with a service-account client of its own (`--keycloak-admin-client`,
/// in the `master` realm by default); called only after tollgate's own permission check of the
/// operator. An SMB tenant is acted on through its group's members alone, never the shared realm.
public actor KeycloakAdmin {
    public nonisolated let settings: KeycloakSettings
    let http: HTTPClient
    let clock: any Clock
    private var token: (value: String, expiresAt: Double)?

    public init(settings: KeycloakSettings, clock: any Clock = SystemClock(), timeout: Double = 10) throws(ValidationError) {
        guard settings.adminClient != nil, settings.adminSecret != nil else {
            throw ValidationError(field: "Keycloak admin client", value: settings.adminClient ?? "",
                                  rule: "sessions need --keycloak-admin-client and --keycloak-admin-secret-file (a service account with realm-management rights)")
        }
        self.settings = settings
        self.http = HTTPClient(label: "keycloak admin \(settings.base)", connectTimeout: min(2, timeout), timeout: timeout)
        self.clock = clock
    }

    public func identity(of tenant: TenantID, meta: TenantMeta) async throws(BackendError) -> TenantIdentity {
        switch try Self.home(tenant, meta, settings) {
        case .realm(let realm, _, _):
            guard let r = try await json("GET", realm, [:]) as? [String: Any] else { throw .failed("keycloak: realm \(realm) answered no object") }
            let count = (try await json("GET", "\(realm)/users/count", [:]) as? NSNumber)?.intValue ?? 0
            let stats = try await json("GET", "\(realm)/client-session-stats", [:]) as? [[String: Any]] ?? []
            return TenantIdentity(home: .realm(realm, enabled: r["enabled"] as? Bool ?? false, displayName: SafeText.clean(r["displayName"] as? String ?? realm)),
                                  users: count,
                                  sessions: stats.map { .init(client: SafeText.clean($0["clientId"] as? String ?? "?"), active: Self.int($0["active"]), offline: Self.int($0["offline"])) })
        case .group(let realm, let path):
            let members = try await members(realm: realm, path: path)
            var active = 0
            for id in members { active += (try await json("GET", "\(realm)/users/\(id)/sessions", [:]) as? [Any])?.count ?? 0 }
            return TenantIdentity(home: .group(realm: realm, path: path), users: members.count,
                                  sessions: [.init(client: "members of \(path)", active: active, offline: 0)])
        }
    }

    /// Signs the tenant's users out: an enterprise tenant's realm with `logout-all`, an SMB
    /// tenant's group members one by one. Returns the users signed out (a realm: its user count).
    public func logout(_ tenant: TenantID, meta: TenantMeta) async throws(BackendError) -> Int {
        switch try Self.home(tenant, meta, settings) {
        case .realm(let realm, _, _):
            let count = (try await json("GET", "\(realm)/users/count", [:]) as? NSNumber)?.intValue ?? 0
            _ = try await json("POST", "\(realm)/logout-all", [:])
            return count
        case .group(let realm, let path):
            let members = try await members(realm: realm, path: path)
            for id in members { _ = try await json("POST", "\(realm)/users/\(id)/logout", [:]) }
            return members.count
        }
    }

    /// Where the tenant's identities live: `{T}:meta.realm` (default `tenant-{T}`) for an
    /// enterprise tenant, the group `{T}:meta.group` (default `/tenants/{T}`) in the SMB realm.
    public static func home(_ tenant: TenantID, _ meta: TenantMeta, _ settings: KeycloakSettings) throws(BackendError) -> TenantIdentity.Home {
        switch meta.tier.value {
        case .enterprise:
            let realm = meta.realm.isEmpty ? "tenant-\(tenant)" : meta.realm
            do { _ = try KeycloakSettings.name(realm, "realm") } catch { throw .failed("tenant \(tenant): \(error.description)") }
            return .realm(realm, enabled: true, displayName: realm)
        case .smb:
            let path = meta.group.isEmpty ? "/tenants/\(tenant)" : meta.group
            guard path.hasPrefix("/"), !path.contains(".."), path.unicodeScalars.allSatisfy({ !SafeText.isUnsafe($0) && $0 != "?" && $0 != "#" && $0 != "%" }) else {
                throw .failed("tenant \(tenant): group \(SafeText.quoted(path)) is not a group path")
            }
            return .group(realm: settings.smbRealm, path: path)
        case nil:
            throw .failed("tenant \(tenant): its tier is not known, so neither its realm nor its group is")
        }
    }

    /// The ids of a group's members, page by page.
    private func members(realm: String, path: String) async throws(BackendError) -> [String] {
        let encoded = path.split(separator: "/").map { String($0).addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? "" }.joined(separator: "/")
        let found: Any?
        do throws(BackendError) { found = try await json("GET", "\(realm)/group-by-path/\(encoded)", [:]) } catch {
            if case .notFound = error { throw .notFound("Keycloak has no group \(path) in realm \(realm)") }
            throw error
        }
        guard let group = found as? [String: Any], let id = group["id"] as? String else { throw .notFound("Keycloak has no group \(path) in realm \(realm)") }
        var ids: [String] = [], first = 0
        while true {
            let page = try await json("GET", "\(realm)/groups/\(id)/members", ["first": String(first), "max": "100"]) as? [[String: Any]] ?? []
            ids += page.compactMap { $0["id"] as? String }
            if page.count < 100 { return ids }
            first += 100
        }
    }

    private func json(_ method: String, _ path: String, _ query: [String: String]) async throws(BackendError) -> Any? {
        let q = query.isEmpty ? "" : "?" + query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        let r = try await http.send(HTTPRequest(method, settings.admin(path) + q, headers: ["Authorization: Bearer \(try await accessToken())"],
                                                body: method == "POST" ? [] : nil))
        switch r.status {
        case 200..<300: return r.body.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(r.body), options: [.fragmentsAllowed])
        case 401, 403: throw .denied("keycloak admin: \(method) \(path) refused (HTTP \(r.status)): the admin client needs realm-management rights")
        case 404: throw .notFound("keycloak admin: \(path)")
        case 500...: throw .unavailable("keycloak admin: \(method) \(path): HTTP \(r.status)")
        default: throw .failed("keycloak admin: \(method) \(path): HTTP \(r.status)")
        }
    }

    /// The admin client's token (client credentials in its realm), kept until shortly before it expires.
    private func accessToken() async throws(BackendError) -> String {
        if let t = token, clock.now() < t.expiresAt - TokenSet.refreshAhead { return t.value }
        let admin = try? KeycloakSettings(base: settings.base, realm: settings.adminRealm, client: settings.adminClient ?? "", clientSecret: settings.adminSecret)
        guard let admin else { throw .failed("keycloak admin: bad admin client settings") }
        let t = try await KeycloakSignIn(settings: admin, http: http, clock: clock).clientCredentials()
        token = (t.accessToken, t.expiresAt)
        return t.accessToken
    }

    static func int(_ v: Any?) -> Int { (v as? NSNumber)?.intValue ?? (v as? String).flatMap { Int($0) } ?? 0 }
}
