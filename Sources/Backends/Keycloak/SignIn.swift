import Foundation

/// What Keycloak's token endpoint gave: held in memory, or in the 0600 `TokenStore`.
public struct TokenSet: Codable, Equatable, Sendable {
    public var accessToken: String
    public var refreshToken: String?
    /// Epoch seconds, from `expires_in` and `refresh_expires_in` when the tokens were issued.
    public var expiresAt: Double
    public var refreshExpiresAt: Double?

    public init(accessToken: String, refreshToken: String?, expiresAt: Double, refreshExpiresAt: Double?) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.refreshExpiresAt = refreshExpiresAt
    }

    /// Refreshed this long before it expires.
    public static let refreshAhead: Double = 30
}

/// The device authorization grant's first answer: what the operator opens and types.
public struct DeviceAuthorization: Equatable, Sendable {
    public let deviceCode: String
    public let userCode: String
    public let verificationURI: String
    public let verificationURIComplete: String?
    public let expiresAt: Double
    /// Seconds between polls, as the server asks.
    public let interval: Double
}

/// Signing in with Keycloak's OpenID Connect endpoints (RFC 8628 device grant, client
/// credentials, refresh, logout). Every failure says what to do next.
public struct KeycloakSignIn: Sendable {
    public let settings: KeycloakSettings
    let http: HTTPClient
    let clock: any Clock

    public init(settings: KeycloakSettings, http: HTTPClient, clock: any Clock = SystemClock()) {
        self.settings = settings
        self.http = http
        self.clock = clock
    }

    private var clientFields: [(String, String)] {
        [("client_id", settings.client)] + (settings.clientSecret.map { [("client_secret", $0)] } ?? [])
    }

    public func startDevice() async throws(BackendError) -> DeviceAuthorization {
        let r = try await http.send(.form(settings.endpoint("auth/device"), clientFields + [("scope", "openid")]))
        guard r.status == 200, let o = r.object, let device = o["device_code"] as? String, let user = o["user_code"] as? String,
              let uri = o["verification_uri"] as? String
        else { throw Self.failure(r, "the device authorization of client \(settings.client)") }
        return DeviceAuthorization(deviceCode: device, userCode: SafeText.clean(user), verificationURI: SafeText.clean(uri),
                                   verificationURIComplete: (o["verification_uri_complete"] as? String).map(SafeText.clean),
                                   expiresAt: clock.now() + Self.number(o["expires_in"], 600), interval: max(1, Self.number(o["interval"], 5)))
    }

    /// Polls the token endpoint at the server's interval until the operator signs in: waits on
    /// `authorization_pending`, polls 5 s slower on each `slow_down`; `expired_token` and
    /// `access_denied` end it. `wait` sleeps (tests pass one that does not).
    public func pollDevice(_ d: DeviceAuthorization, wait: @Sendable (Double) async -> Void) async throws(BackendError) -> TokenSet {
        var interval = d.interval
        while true {
            await wait(interval)
            if clock.now() > d.expiresAt { throw .denied("the code \(d.userCode) expired before sign-in finished; run tollgate login again") }
            let r = try await http.send(.form(settings.endpoint("token"), clientFields + [
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", d.deviceCode)]))
            if r.status == 200 { return try tokens(r) }
            switch r.object?["error"] as? String {
            case "authorization_pending": continue
            case "slow_down": interval += 5
            case "expired_token": throw .denied("the code \(d.userCode) expired before sign-in finished; run tollgate login again")
            case "access_denied": throw .denied("sign-in was denied in the browser")
            default: throw Self.failure(r, "the device sign-in")
            }
        }
    }

    /// A service account's tokens (`--keycloak-client-secret-file`): no person, no refresh token.
    public func clientCredentials() async throws(BackendError) -> TokenSet {
        let r = try await http.send(.form(settings.endpoint("token"), clientFields + [("grant_type", "client_credentials")]))
        guard r.status == 200 else { throw Self.failure(r, "the client credentials of \(settings.client)") }
        return try tokens(r)
    }

    public func refresh(_ t: TokenSet) async throws(BackendError) -> TokenSet {
        guard let refresh = t.refreshToken else { throw .denied("the session has no refresh token; sign in again: tollgate login") }
        let r = try await http.send(.form(settings.endpoint("token"), clientFields + [("grant_type", "refresh_token"), ("refresh_token", refresh)]))
        guard r.status == 200 else {
            if r.object?["error"] as? String == "invalid_grant" { throw .denied("the Keycloak session ended; sign in again: tollgate login") }
            throw Self.failure(r, "refreshing the token")
        }
        var next = try tokens(r)
        if next.refreshToken == nil { next.refreshToken = refresh }
        return next
    }

    /// Ends the Keycloak session of these tokens (the refresh token's).
    public func logout(_ t: TokenSet) async throws(BackendError) {
        guard let refresh = t.refreshToken else { return }
        let r = try await http.send(.form(settings.endpoint("logout"), clientFields + [("refresh_token", refresh)]))
        guard (200..<300).contains(r.status) || r.object?["error"] as? String == "invalid_grant" else { throw Self.failure(r, "the logout") }
    }

    private func tokens(_ r: HTTPResponse) throws(BackendError) -> TokenSet {
        guard let o = r.object, let access = o["access_token"] as? String else { throw .failed("keycloak \(settings.issuer()): a token answer without access_token") }
        let now = clock.now()
        let refreshIn = o["refresh_expires_in"].map { Self.number($0, 0) }
        return TokenSet(accessToken: access, refreshToken: o["refresh_token"] as? String, expiresAt: now + Self.number(o["expires_in"], 60),
                        refreshExpiresAt: refreshIn.flatMap { $0 > 0 ? now + $0 : nil })
    }

    static func number(_ v: Any?, _ fallback: Double) -> Double { (v as? NSNumber)?.doubleValue ?? fallback }

    /// Keycloak's `{"error": ..., "error_description": ...}`, or the status: a 401/403 or a refused
    /// grant is `.denied` (exit 4), a 5xx `.unavailable`, anything else `.failed`.
    static func failure(_ r: HTTPResponse, _ what: String) -> BackendError {
        let o = r.object
        let text = [o?["error"] as? String, o?["error_description"] as? String].compactMap { $0 }.joined(separator: ": ")
        let message = "keycloak: \(what) failed: HTTP \(r.status)" + (text.isEmpty ? "" : " \(SafeText.clean(String(text.prefix(200))))")
        if r.status >= 500 { return .unavailable(message) }
        if [400, 401, 403].contains(r.status) { return .denied(message) }
        return .failed(message)
    }
}
