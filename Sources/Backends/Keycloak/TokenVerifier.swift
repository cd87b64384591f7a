import Foundation
import JWTKit

/// What a verified access token says of its operator.
public struct VerifiedToken: Equatable, Sendable {
    public let username: String
    /// Every realm role (`realm_access.roles`); the `tollgate-*` ones decide.
    public let roles: [String]
    /// The `tenant_id` claim: the operator is confined to it.
    public let tenant: TenantID?
    public let expiresAt: Double

    /// The highest of `tollgate-viewer` < `tollgate-support` < `tollgate-operator` < `tollgate-admin`.
    public var role: Operator.Role? { Operator.Role.allCases.last { roles.contains("tollgate-\($0.rawValue)") } }

    /// The operator, or `.denied` when the token carries none of tollgate's roles.
    public func op() throws(BackendError) -> Operator {
        guard let role else { throw .denied("\(username) has none of the roles tollgate-viewer, -support, -operator, -admin in the operators realm") }
        return Operator(name: username, role: role, tenant: tenant, authenticated: true)
    }
}

/// Verifies Keycloak access tokens with jwt-kit: the RS256 signature against the realm's JWKS
/// (cached, fetched again once when a token names a key it does not hold), `iss`, `azp` or `aud`,
/// `exp` and `nbf` with at most 60 s of clock skew, and `alg` from an allow-list (never `none`).
/// A token that fails a check is `.denied` with what failed.
public actor TokenVerifier {
    public static let allowedAlgorithms: Set<String> = ["RS256"]
    public static let skew: Double = 60
    let settings: KeycloakSettings
    let http: HTTPClient
    let clock: any Clock
    private var keys: JWTKeyCollection?
    private var kids: Set<String> = []
    private var fetchedAt = -Double.infinity

    public init(settings: KeycloakSettings, http: HTTPClient, clock: any Clock = SystemClock()) {
        self.settings = settings
        self.http = http
        self.clock = clock
    }

    static func refused(_ why: String) -> BackendError { .denied("the token \(why); sign in again: tollgate login") }

    public func verify(_ token: String) async throws(BackendError) -> VerifiedToken {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Base64URL.decode(parts[0]),
              let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any]
        else { throw Self.refused("is not a JWT") }
        let alg = header["alg"] as? String ?? "(none)"
        guard Self.allowedAlgorithms.contains(alg) else {
            throw Self.refused("is signed with \(SafeText.quoted(alg)), which is not allowed (only \(Self.allowedAlgorithms.sorted().joined(separator: ", ")))")
        }
        guard let kid = header["kid"] as? String else { throw Self.refused("names no signing key (kid)") }
        // A key the realm added since: the JWKS is fetched once more (at most every 10 s, so tokens
        // naming made-up keys cannot make tollgate hammer Keycloak).
        if keys == nil || (!kids.contains(kid) && clock.now() - fetchedAt >= 10) { try await fetchKeys() }
        guard kids.contains(kid), let keys else { throw Self.refused("is signed by key \(SafeText.quoted(kid)), which the realm's JWKS does not hold") }
        let claims: Claims
        do { claims = try await keys.verify(token, as: Claims.self) } catch {
            throw Self.refused("signature does not verify against the realm's key \(SafeText.quoted(kid))")
        }
        let now = clock.now()
        guard claims.iss == settings.issuer() else {
            throw Self.refused("was issued by \(SafeText.quoted(claims.iss ?? "nobody")), not \(settings.issuer())")
        }
        guard claims.azp == settings.client || claims.aud?.values.contains(settings.client) == true else {
            throw Self.refused("is not for client \(SafeText.quoted(settings.client)) (azp \(SafeText.quoted(claims.azp ?? "none")), aud \(claims.aud?.values.joined(separator: ",") ?? "none"))")
        }
        guard let exp = claims.exp else { throw Self.refused("has no expiry (exp)") }
        guard now <= exp + Self.skew else { throw Self.refused("expired at \(CivilDate(epochSeconds: Int64(exp)).iso8601)") }
        if let nbf = claims.nbf, nbf > 0, now < nbf - Self.skew {
            throw Self.refused("is not valid before \(CivilDate(epochSeconds: Int64(nbf)).iso8601)")
        }
        guard let name = claims.preferred_username, !name.isEmpty else { throw Self.refused("has no preferred_username") }
        var tenant: TenantID?
        if let t = claims.tenant_id {
            do { tenant = try TenantID(t) } catch { throw Self.refused("has a tenant_id claim that breaks the rule: \(error.description)") }
        }
        return VerifiedToken(username: SafeText.clean(name), roles: claims.realm_access?.roles ?? [], tenant: tenant, expiresAt: exp)
    }

    /// The realm's signing keys: RSA keys for signatures (not the encryption ones Keycloak lists too).
    private func fetchKeys() async throws(BackendError) {
        fetchedAt = clock.now()
        let response = try await http.send(HTTPRequest("GET", settings.endpoint("certs")))
        guard response.status == 200, let all = response.object?["keys"] as? [[String: Any]] else {
            throw .unavailable("keycloak \(settings.issuer()): the JWKS answered HTTP \(response.status)")
        }
        var signing: [[String: Any]] = []
        for var key in all where key["kty"] as? String == "RSA" && (key["use"] as? String ?? "sig") == "sig"
            && Self.allowedAlgorithms.contains(key["alg"] as? String ?? "RS256") && key["kid"] is String {
            key["alg"] = key["alg"] ?? "RS256"
            signing.append(key.filter { ["kty", "kid", "use", "alg", "n", "e"].contains($0.key) })
        }
        guard let json = try? JSONSerialization.data(withJSONObject: ["keys": signing]) else { throw .failed("keycloak: cannot read the JWKS") }
        let collection = JWTKeyCollection()
        do { try await collection.add(jwksJSON: String(decoding: json, as: UTF8.self)) } catch {
            throw .failed("keycloak \(settings.issuer()): the JWKS holds a key jwt-kit cannot use: \(error)")
        }
        keys = collection
        kids = Set(signing.compactMap { $0["kid"] as? String })
    }

    /// The claims tollgate reads; checked above with tollgate's clock, so `verify` here checks nothing.
    struct Claims: JWTPayload {
        struct RealmAccess: Codable { let roles: [String]? }
        let iss: String?
        let azp: String?
        let aud: Audience?
        let exp: Double?
        let nbf: Double?
        let preferred_username: String?
        let realm_access: RealmAccess?
        let tenant_id: String?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// `aud` is a string or a list of them.
    struct Audience: Codable {
        let values: [String]
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let list = try? c.decode([String].self) { values = list } else { values = [try c.decode(String.self)] }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(values)
        }
    }
}

/// Unpadded base64url (RFC 4648 §5), as JWTs use it.
enum Base64URL {
    static func decode(_ s: Substring) -> Data? {
        var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        return Data(base64Encoded: b)
    }
}
