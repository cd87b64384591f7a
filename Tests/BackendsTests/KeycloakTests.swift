import Backends
import Foundation
import Synchronization
import Testing

/// The Keycloak adapter against the stand-in of `make test` (scripts/keycloak-standin.py: Keycloak
/// cannot be installed here), which signs with a real RSA key: token verification, the device
/// grant's answers, client credentials, refresh and logout.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_TEST_KEYCLOAK"] != nil, "run through `make test`"))
struct KeycloakTests {
    static let base = ProcessInfo.processInfo.environment["TOLLGATE_TEST_KEYCLOAK"] ?? ""
    let settings = try! KeycloakSettings(base: KeycloakTests.base)
    let control = HTTPClient(label: "stand-in")

    func post(_ path: String, _ body: [String: Any]) async throws -> [String: Any] {
        let data = try JSONSerialization.data(withJSONObject: body)
        let r = try await control.send(HTTPRequest("POST", Self.base + path, headers: ["Content-Type: application/json"], body: Array(data)))
        #expect(r.status == 200, "\(path): \(String(decoding: r.body, as: UTF8.self))")
        return r.object ?? [:]
    }

    func mint(_ claims: [String: Any], alg: String = "RS256", kid: String? = nil, wrongKey: Bool = false) async throws -> String {
        var body: [String: Any] = ["claims": claims, "alg": alg, "wrong_key": wrongKey]
        if let kid { body["kid"] = kid }
        return try #require(try await post("/_test/mint", body)["token"] as? String)
    }

    func claims(_ changes: [String: Any] = [:]) -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        var c: [String: Any] = ["iss": "\(Self.base)/realms/ops", "azp": "tollgate", "aud": "account", "exp": now + 300, "iat": now,
                                "preferred_username": "carol", "realm_access": ["roles": ["tollgate-operator", "tollgate-viewer", "offline_access"]]]
        for (k, v) in changes { if v is NSNull { c.removeValue(forKey: k) } else { c[k] = v } }
        return c
    }

    @Test func aGoodTokenNamesTheOperatorTheirHighestRoleAndTheirTenant() async throws {
        let verifier = TokenVerifier(settings: settings, http: HTTPClient(label: "keycloak"))
        let v = try await verifier.verify(try await mint(claims()))
        #expect(v.username == "carol" && v.role == .operator && v.tenant == nil)
        #expect(try v.op() == Operator(name: "carol", role: .operator, authenticated: true))
        let scoped = try await verifier.verify(try await mint(claims(["tenant_id": "acme", "aud": ["account", "tollgate"], "azp": "other"])))
        #expect(scoped.tenant == (try TenantID("acme")), "aud holding the client is enough")
        let roleless = try await verifier.verify(try await mint(claims(["realm_access": ["roles": ["offline_access"]]])))
        #expect(throws: BackendError.self) { try roleless.op() }
    }

    /// `changes` is JSON; a number written as "now+N" or "now-N" is that far from now, null drops the claim.
    @Test(arguments: [
        ("expired", #"{"exp": "now-120"}"#, "expired at"),
        ("within the skew", #"{"exp": "now-30"}"#, ""),
        ("not yet valid", #"{"nbf": "now+600"}"#, "is not valid before"),
        ("wrong issuer", #"{"iss": "http://evil.example/realms/ops"}"#, "was issued by \"http://evil.example/realms/ops\""),
        ("another realm", #"{"iss": "BASE/realms/smb"}"#, "was issued by"),
        ("wrong audience", #"{"azp": "someone-else", "aud": "account"}"#, "is not for client \"tollgate\""),
        ("no expiry", #"{"exp": null}"#, "has no expiry"),
        ("a bad tenant claim", #"{"tenant_id": "ACME;rm"}"#, "tenant_id claim that breaks the rule"),
    ])
    func claimsAreChecked(_ name: String, _ changesJSON: String, _ refusal: String) async throws {
        let verifier = TokenVerifier(settings: settings, http: HTTPClient(label: "keycloak"))
        var changes = try #require(try JSONSerialization.jsonObject(with: Data(changesJSON.utf8)) as? [String: Any])
        let now = Int(Date().timeIntervalSince1970)
        for (k, v) in changes {
            guard let s = v as? String else { continue }
            if s.hasPrefix("now"), let n = Int(s.dropFirst(3).replacingOccurrences(of: "+", with: "")) { changes[k] = now + n }
            if s.hasPrefix("BASE") { changes[k] = Self.base + s.dropFirst(4) }
        }
        let token = try await mint(claims(changes))
        if refusal.isEmpty {
            _ = try await verifier.verify(token)
            return
        }
        await #expect { _ = try await verifier.verify(token) } throws: { error in
            guard case .denied(let m) = error as? BackendError else { return false }
            return m.contains(refusal) && m.hasSuffix("sign in again: tollgate login")
        }
    }

    @Test func signaturesAndAlgorithmsAreChecked() async throws {
        let verifier = TokenVerifier(settings: settings, http: HTTPClient(label: "keycloak"))
        func refused(_ token: String, _ why: String) async {
            await #expect(performing: { _ = try await verifier.verify(token) }, throws: { error in
                guard case .denied(let m) = error as? BackendError else { return false }
                return m.contains(why)
            })
        }
        await refused(try await mint(claims(), wrongKey: true), "signature does not verify")
        await refused(try await mint(claims(), alg: "none"), "signed with \"none\", which is not allowed")
        await refused(try await mint(claims(), alg: "HS256"), "signed with \"HS256\", which is not allowed")
        await refused(try await mint(claims(), kid: "rotated-away"), "key \"rotated-away\", which the realm's JWKS does not hold")
        await refused("not.a-jwt", "is not a JWT")
        // A token whose payload was changed after signing.
        let good = try await mint(claims())
        let parts = good.split(separator: ".")
        let forged = try await mint(claims(["realm_access": ["roles": ["tollgate-admin"]]]))
        await refused("\(parts[0]).\(forged.split(separator: ".")[1]).\(parts[2])", "signature does not verify")
    }

    @Test func theDeviceGrantWaitsSlowsDownAndEndsOnDenial() async throws {
        _ = try await post("/_test/user", ["realm": "ops", "id": "u-dora", "username": "dora", "roles": ["tollgate-admin"]])
        let signIn = KeycloakSignIn(settings: settings, http: HTTPClient(label: "keycloak"))
        let device = try await signIn.startDevice()
        #expect(device.verificationURIComplete?.contains(device.userCode) == true && device.interval == 1)
        _ = try await post("/_test/approve", ["user_code": device.userCode, "slow_down": 1])
        let waits = Mutex<[Double]>([])
        let code = device.userCode
        let tokens = try await signIn.pollDevice(device) { seconds in
            let n = waits.withLock { $0.append(seconds); return $0.count }
            if n == 3 { _ = try? await self.post("/_test/approve", ["user_code": code, "user_id": "u-dora"]) }
        }
        // 1 s, then slow_down: 5 s more on every later poll; pending once; then the tokens.
        #expect(waits.withLock { $0 } == [1, 6, 6])
        let session = KeycloakSession(settings: settings, store: TokenStore(settings: settings, environment: ["XDG_STATE_HOME": NSTemporaryDirectory() + "kc-\(UUID())"]))
        #expect(try await session.adopt(tokens).username == "dora")

        let denied = try await signIn.startDevice()
        _ = try await post("/_test/approve", ["user_code": denied.userCode, "deny": true])
        await #expect(throws: BackendError.denied("sign-in was denied in the browser")) { _ = try await signIn.pollDevice(denied) { _ in } }
    }

    @Test func refreshLogoutAndClientCredentials() async throws {
        _ = try await post("/_test/user", ["realm": "ops", "id": "u-erin", "username": "erin", "roles": ["tollgate-viewer"]])
        let state = NSTemporaryDirectory() + "kc-\(UUID())"
        let store = TokenStore(settings: settings, environment: ["XDG_STATE_HOME": state])
        let signIn = KeycloakSignIn(settings: settings, http: HTTPClient(label: "keycloak"))
        let device = try await signIn.startDevice()
        _ = try await post("/_test/approve", ["user_code": device.userCode, "user_id": "u-erin"])
        let tokens = try await signIn.pollDevice(device) { _ in }
        var old = tokens
        old.expiresAt = Date().timeIntervalSince1970 + 5   // near expiry: the next use refreshes
        try store.save(old)
        var st = stat()
        #expect(stat(store.path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        let session = KeycloakSession(settings: settings, store: store)
        #expect(try await session.current().username == "erin")
        let refreshed = try #require(try store.load())
        #expect(refreshed.refreshToken != tokens.refreshToken && refreshed.expiresAt > old.expiresAt, "refreshed and stored")
        #expect(try await session.logout())
        #expect(try store.load() == nil)
        await #expect(throws: BackendError.denied("the Keycloak session ended; sign in again: tollgate login")) {
            _ = try await signIn.refresh(refreshed)
        }
        // A file others may read is refused.
        try store.save(refreshed)
        chmod(store.path, 0o644)
        #expect(throws: ValidationError.self) { _ = try store.load() }

        let bot = try KeycloakSettings(base: Self.base, client: "tollgate-bot", clientSecret: "bot-secret")
        #expect(try await KeycloakSession(settings: bot).current().op() == Operator(name: "service-account-tollgate-bot", role: .operator, authenticated: true))
        let wrong = try KeycloakSettings(base: Self.base, client: "tollgate-bot", clientSecret: "guess")
        await #expect(throws: BackendError.self) { _ = try await KeycloakSession(settings: wrong).current() }
        let down = try KeycloakSettings(base: "http://127.0.0.1:1", client: "tollgate-bot", clientSecret: "bot-secret")
        await #expect { _ = try await KeycloakSession(settings: down).current() } throws: { error in
            if case .unavailable = error as? BackendError { true } else { false }
        }
    }
}
