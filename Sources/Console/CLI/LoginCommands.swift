import ArgumentParser
import Backends
import CQRencode
import Foundation
import Views

/// `tollgate login`: the device authorization grant (RFC 8628). Prints where to go and the code
/// (and a QR code of the complete URL), polls at the server's interval, verifies the token and
/// keeps it in the 0600 token file. With a client secret there is nothing to do but check it.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "login",
        abstract: "Sign in with Keycloak: open the URL it prints, type the code (the device authorization grant).")
    @OptionGroup var config: SessionOptions

    func run() async throws {
        let context = try config.resolve()
        guard let settings = try config.keycloakSettings(context) else { throw SessionOptions.noKeycloak }
        let keycloak = KeycloakSession(settings: settings)
        if settings.clientSecret != nil {
            let v = try await keycloak.current()
            print("signed in as the service account of \(settings.client): \(Identity.describe(v)); nothing is stored")
            return
        }
        let v = try await Self.deviceSignIn(keycloak)
        print("signed in as \(Identity.describe(v))")
    }

    /// The device grant on the terminal: where to go, the code, a QR code; then the wait. The
    /// console runs it too when it starts without a valid token.
    static func deviceSignIn(_ keycloak: KeycloakSession) async throws -> VerifiedToken {
        let device = try await keycloak.signIn.startDevice()
        print("To sign in to \(keycloak.settings.issuer()), open")
        print("  \(device.verificationURI)")
        print("and enter the code  \(device.userCode)")
        if let complete = device.verificationURIComplete {
            print("or open \(complete) (the code filled in):")
            for line in QRText.lines(complete) { print(line) }
        }
        print("waiting for the sign-in (the code expires in \(Format.duration(device.expiresAt - SystemClock().now())))…")
        fflush(nil)
        let tokens = try await keycloak.signIn.pollDevice(device) { seconds in try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
        return try await keycloak.adopt(tokens)
    }
}

/// `tollgate logout`: ends the Keycloak session and removes the token file.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "End the Keycloak session and forget its tokens.")
    @OptionGroup var config: SessionOptions

    func run() async throws {
        let context = try config.resolve()
        guard let settings = try config.keycloakSettings(context) else { throw SessionOptions.noKeycloak }
        print(try await KeycloakSession(settings: settings).logout() ? "signed out of \(settings.issuer())" : "was not signed in to \(settings.issuer())")
    }
}

/// `tollgate whoami`: who this session acts as.
struct WhoamiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Who tollgate acts as: user, roles, tenant scope, token expiry.")
    @OptionGroup var config: SessionOptions
    @Flag(help: "One JSON object.") var json = false

    func run() async throws {
        let context = try config.resolve()
        let session = try await config.session(context)
        let token = try await session.keycloak?.current()
        let op = session.op
        if json {
            struct Doc: Encodable {
                let user: String; let role: String; let roles: [String]; let tenant_scope: String?; let authenticated: Bool
                let issuer: String?; let expires_at: String?; let readonly: Bool
            }
            try Output.json(Doc(user: op.name, role: op.role.rawValue, roles: token?.roles.filter { $0.hasPrefix("tollgate-") }.sorted() ?? [],
                                tenant_scope: op.tenant?.rawValue, authenticated: op.authenticated, issuer: session.keycloak?.settings.issuer(),
                                expires_at: token.map { CivilDate(epochSeconds: Int64($0.expiresAt)).iso8601 }, readonly: session.policy.readonly))
            return
        }
        if let token, let issuer = session.keycloak?.settings.issuer() {
            print("\(Identity.describe(token)) · \(issuer)" + (session.policy.readonly ? " · read-only" : ""))
        } else {
            print("\(op.name) (\(op.role.rawValue), unauthenticated: no Keycloak configured)" + (session.policy.readonly ? " · read-only" : ""))
        }
    }
}

enum Identity {
    /// `alice (operator; tenant acme; token valid until 14:05 UTC)`.
    static func describe(_ v: VerifiedToken) -> String {
        let role = v.role.map(\.rawValue) ?? "no tollgate role"
        let scope = v.tenant.map { "confined to tenant \($0)" } ?? "every tenant"
        return "\(v.username) (\(role); \(scope); token valid until \(CivilDate(epochSeconds: Int64(v.expiresAt)).iso8601))"
    }
}

extension SessionOptions {
    static let noKeycloak = CLIFailure(.usage, "no Keycloak configured: pass --keycloak URL, set TOLLGATE_KEYCLOAK_URL, or give the context a keycloak")
}

/// A QR code drawn with half blocks (two modules a character cell), dark on light with the
/// quiet zone the standard asks for, so a phone reads it from any terminal theme.
enum QRText {
    static func lines(_ text: String) -> [String] {
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1) else { return [] }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width), quiet = 2
        let size = width + 2 * quiet
        func dark(_ x: Int, _ y: Int) -> Bool {
            let (mx, my) = (x - quiet, y - quiet)
            guard (0..<width).contains(mx), (0..<width).contains(my) else { return false }
            return code.pointee.data[my * width + mx] & 1 == 1
        }
        var out: [String] = []
        for y in stride(from: 0, to: size, by: 2) {
            var line = ""
            for x in 0..<size {
                // Light modules are drawn (█), dark ones left blank: upper half ▀, lower half ▄.
                switch (dark(x, y), dark(x, y + 1)) {
                case (false, false): line += "█"
                case (false, true): line += "▀"
                case (true, false): line += "▄"
                case (true, true): line += " "
                }
            }
            out.append(line)
        }
        return out
    }
}
