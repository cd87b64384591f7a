/// The operator signed in with Keycloak for one tollgate session: tokens from the client
/// credentials grant (held in memory only) or from the `TokenStore` after `tollgate login`,
/// refreshed before they expire and verified every time they change. Once Keycloak is
/// configured it is the only source of identity: unreachable is `.unavailable`, no tokens or a
/// token that fails a check `.denied`, never a fallback to the local identity.
public actor KeycloakSession {
    public nonisolated let settings: KeycloakSettings
    public nonisolated let signIn: KeycloakSignIn
    /// Where a person's tokens are kept; nil for a service account (client credentials).
    public nonisolated let store: TokenStore?
    let verifier: TokenVerifier
    let clock: any Clock
    private var tokens: TokenSet?
    private var verified: VerifiedToken?

    public init(settings: KeycloakSettings, clock: any Clock = SystemClock(), store: TokenStore? = nil, timeout: Double = 10) {
        let http = HTTPClient(label: "keycloak \(settings.base)", connectTimeout: min(2, timeout), timeout: timeout)
        self.settings = settings
        self.signIn = KeycloakSignIn(settings: settings, http: http, clock: clock)
        self.verifier = TokenVerifier(settings: settings, http: http, clock: clock)
        self.store = settings.clientSecret == nil ? (store ?? TokenStore(settings: settings)) : nil
        self.clock = clock
    }

    /// The operator's verified token, refreshed first when it expires within `TokenSet.refreshAhead`.
    public func current() async throws -> VerifiedToken {
        if tokens == nil {
            if settings.clientSecret != nil {
                tokens = try await signIn.clientCredentials()
            } else if let stored = try store?.load() {
                tokens = stored
            } else {
                throw BackendError.denied("not signed in to \(settings.issuer()) (client \(settings.client)): run tollgate login")
            }
            verified = nil
        }
        guard var t = tokens else { throw BackendError.denied("not signed in") }
        if clock.now() >= t.expiresAt - TokenSet.refreshAhead {
            t = settings.clientSecret != nil ? try await signIn.clientCredentials() : try await signIn.refresh(t)
            try store?.save(t)
            tokens = t
            verified = nil
        }
        if let v = verified { return v }
        let v = try await verifier.verify(t.accessToken)
        verified = v
        return v
    }

    /// Tokens a sign-in just gave: verified, then kept (in the store for a person).
    public func adopt(_ t: TokenSet) async throws -> VerifiedToken {
        let v = try await verifier.verify(t.accessToken)
        try store?.save(t)
        tokens = t
        verified = v
        return v
    }

    /// Ends the Keycloak session and forgets the tokens; false when none were kept.
    public func logout() async throws -> Bool {
        let stored = try store?.load() ?? tokens
        if let stored { try await signIn.logout(stored) }
        tokens = nil
        verified = nil
        return (store?.remove() ?? false) || stored != nil
    }
}
