import Foundation
import Testing
@testable import Backends
@testable import Views

/// The keys screen and its dialogs through keys, and the secret shown once.
@Suite struct KeysScreenTests {
    /// acme's keys, with the active `production` key selected.
    func acmeKeys() async throws -> Harness {
        var h = try await Harness(width: 120, height: 40)
        h.type(":keys acme")
        h.press(.enter)
        try await h.load()
        while (h.app.nav.current as? KeysScreen).flatMap({ s in s.keys?.first { $0.id == s.table.selected } })?.label != "production" {
            h.press(.char("j"))
        }
        return h
    }

    var production: KeyID { try! KeyID("k_ZMACYKRR") }

    @Test func aCreateShowsItsSecretOnceAndClosingWipesIt() async throws {
        var h = try await acmeKeys()
        h.press(.char("c"))
        h.type("ci runner")
        h.press(.enter)
        let acme = try TenantID("acme")
        #expect(h.performed == [.keyCreate(acme, label: "ci runner", scopes: [], expiresIn: 90 * 86_400)])
        // The action layer answers with the new key and its secret.
        let secret = APIKeySecret(plaintext: "tg.acme.k_NEW00001.SECRETSECRETSECRETSECRETSECRETSECRETSECRE")
        h.send(.actionFinished(h.performed[0], .success(ActionOutcome(before: [:], after: [:], newKey: try KeyID("k_NEW00001"), secret: secret))))
        #expect(h.screen.contains(secret.plaintext) && h.screen.contains("shown once"))
        h.press(.char("y"))
        #expect(h.effects.contains { if case .copy(let text) = $0 { text == secret.plaintext } else { false } })
        #expect(h.screen.contains("copied with OSC 52"))
        h.press(.escape)
        #expect(!h.screen.contains("SECRETSECRET"), "no cell holds the secret once it is closed")
        #expect(h.effects.contains { if case .repaint = $0 { true } else { false } }, "the terminal is painted again")
        if case .secret? = h.app.overlay { Issue.record("the secret is still in the model") }
        #expect(h.screen.contains("cannot be shown again"))
    }

    @Test func aRotationWithNoGraceNeedsTheTenantIdTyped() async throws {
        var h = try await acmeKeys()
        h.press(.char("r"), .ctrl("u"))
        h.type("0")
        h.press(.enter)
        guard case .form(let d)? = h.app.overlay else { Issue.record("the dialog closed"); return }
        #expect(d.error?.contains("type the tenant id acme to confirm") == true && d.fields[d.focus].name == "confirm")
        #expect(h.screen.contains("is revoked at once"), "what will happen shows before the confirmation")
        h.type("acme")
        h.press(.enter)
        #expect(h.performed == [.keyRotate(try TenantID("acme"), production, grace: 0, expiresIn: nil)])
    }

    @Test func aRevocationNeedsTheTenantIdTyped() async throws {
        var h = try await acmeKeys()
        h.press(.char("x"))
        h.type("leaked")
        h.press(.enter)
        #expect(h.performed.isEmpty)
        guard case .form(let d)? = h.app.overlay else { Issue.record("the dialog closed"); return }
        #expect(d.fields[d.focus].name == "confirm", "the refusal puts the cursor where the confirmation goes")
        h.type("acme-eu")   // another tenant's id is not a confirmation
        h.press(.enter)
        #expect(h.performed.isEmpty)
        h.press(.ctrl("u"))
        h.type("acme")
        h.press(.enter)
        #expect(h.performed == [.keyRevoke(try TenantID("acme"), production, reason: "leaked")])
    }

    @Test func rotatingASuccessorStillInItsPredecessorsGraceWarnsFirst() throws {
        let now = Harness.instant, acme = try TenantID("acme")
        let old = APIKey(id: try KeyID("k_old"), label: "x", prefix: "p", state: .rotating, createdAt: 0, createdBy: "a",
                         graceUntil: Int64(now) + 3600, replacedBy: try KeyID("k_new"))
        let new = APIKey(id: try KeyID("k_new"), label: "x", prefix: "p", state: .active, createdAt: 0, createdBy: "a", replaces: old.id)
        var d = KeyDialogs.rotate(new, among: [old, new], tenant: acme, now: now)
        #expect(d.notes.contains { $0.0.contains("k_new replaced k_old, which is still in grace") && $0.1 == .warn })
        if case .submit = d.handle(.enter) { Issue.record("a warned rotation went through without the tenant id") }
        #expect(d.error?.contains("see the warning") == true)
    }

    @Test func keysAreReachedFromTheDetailAndByCommand() async throws {
        var h = try await Harness(width: 120, height: 40)
        h.type(":keys")
        h.press(.enter)
        if case .command(let p)? = h.app.overlay { #expect(p.error?.contains(":keys needs a tenant id on this screen") == true) }
        h.press(.escape)
        h.type(":tenant acme")
        h.press(.enter)
        h.press(.char("k"))
        #expect((h.app.nav.current as? KeysScreen)?.tenant.rawValue == "acme")
        h.press(.escape)
        h.type(":keys")
        h.press(.enter)
        #expect((h.app.nav.current as? KeysScreen)?.tenant.rawValue == "acme", ":keys means the tenant of the screen")
    }

    @Test func whatCannotBeDoneToAKeySaysWhy() async throws {
        var h = try await acmeKeys()
        while (h.app.nav.current as? KeysScreen).flatMap({ s in s.keys?.first { $0.id == s.table.selected } })?.state != .rotating {
            h.press(.char("j"))
        }
        h.press(.char("r"))
        #expect(h.app.overlay == nil && h.screen.contains("only an active key can be rotated"))
        var viewer = try await Harness(width: 120, height: 40, session: Harness.session(role: .operator))
        viewer.type(":keys acme")
        viewer.press(.enter)
        try await viewer.load()
        viewer.press(.char("c"))
        #expect(viewer.screen.contains("key.create needs the admin role; ops:test has operator"))
    }

    @Test func anExpiringKeyOpensOnItsTenantsKeys() async throws {
        var h = try await Harness(width: 120, height: 40)
        h.type(":expiring")
        h.press(.enter)
        try await h.load()
        let first = try #require((h.app.nav.current as? ExpiringScreen)?.keys?.first)
        h.press(.enter)
        let keys = try #require(h.app.nav.current as? KeysScreen)
        #expect(keys.tenant == first.tenant && keys.table.selected == first.key)
    }
}
