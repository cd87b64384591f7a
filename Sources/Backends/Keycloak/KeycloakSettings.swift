/// Where Keycloak is and how tollgate talks to it (flags, environment, a config context;
/// docs/keycloak.md). Realms live under `{base}/realms/{realm}`.
public struct KeycloakSettings: Equatable, Sendable {
    /// `https://sso.example.com` (or `http://` on loopback), without a trailing slash.
    public let base: String
    /// The operators realm (default `ops`).
    public let realm: String
    /// The client operators sign in with (default `tollgate`).
    public let client: String
    /// With a secret, the client credentials grant (a service account) instead of the device grant.
    public let clientSecret: String?
    /// The shared realm of SMB tenants (default `smb`).
    public let smbRealm: String
    /// The service-account client of the admin REST calls, in `adminRealm` (default `master`).
    public let adminClient: String?
    public let adminSecret: String?
    public let adminRealm: String

    public init(base: String, realm: String = "ops", client: String = "tollgate", clientSecret: String? = nil, smbRealm: String = "smb",
                adminClient: String? = nil, adminSecret: String? = nil, adminRealm: String = "master") throws(ValidationError) {
        var b = base
        while b.hasSuffix("/") { b.removeLast() }
        guard b.hasPrefix("https://") || b.hasPrefix("http://"), b.count > "https://".count,
              !b.unicodeScalars.contains(where: { SafeText.isUnsafe($0) || $0 == " " || $0 == "?" || $0 == "#" })
        else { throw ValidationError(field: "Keycloak URL", value: base, rule: "must be an http(s) URL such as https://sso.example.com") }
        self.base = b
        self.realm = try Self.name(realm, "Keycloak realm")
        self.client = try Self.name(client, "Keycloak client")
        self.clientSecret = clientSecret
        self.smbRealm = try Self.name(smbRealm, "Keycloak SMB realm")
        if let adminClient { self.adminClient = try Self.name(adminClient, "Keycloak admin client") } else { self.adminClient = nil }
        self.adminSecret = adminSecret
        self.adminRealm = try Self.name(adminRealm, "Keycloak admin realm")
    }

    /// Realm and client names go into URL paths: letters, digits, `.`, `_`, `-`.
    static func name(_ s: String, _ field: String) throws(ValidationError) -> String {
        guard (1...64).contains(s.count), s.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit || ("a"..."z").contains($0) || ("A"..."Z").contains($0)
            || $0 == "." || $0 == "_" || $0 == "-" }), s != ".", s != ".."
        else { throw ValidationError(field: field, value: s, rule: "must be 1-64 letters, digits, '.', '_' or '-'") }
        return s
    }

    /// `{base}/realms/{realm}`: the `iss` of the realm's tokens.
    public func issuer(_ realm: String? = nil) -> String { "\(base)/realms/\(realm ?? self.realm)" }
    public func endpoint(_ path: String, realm: String? = nil) -> String { "\(issuer(realm))/protocol/openid-connect/\(path)" }
    public func admin(_ path: String) -> String { "\(base)/admin/realms/\(path)" }
}
