import ArgumentParser
import Backends
import Foundation
import Synchronization
import TOMLKit
import Views
#if canImport(Glibc)
import Glibc
#endif

/// `--config` / `--context`: the config file (`$XDG_CONFIG_HOME/tollgate/config.toml`, default
/// `~/.config/tollgate/config.toml`) and the context to use from it. Flags override environment
/// variables, which override the file. Schema in docs/config.md.
struct SessionOptions: ParsableArguments {
    @Flag(help: "Refuse every action, in the console and in every subcommand (env TOLLGATE_READONLY=true, or the context's readonly).")
    var readonly = false

    @Option(help: ArgumentHelp("Keycloak's base URL; operators then sign in with it (env TOLLGATE_KEYCLOAK_URL).", valueName: "url"))
    var keycloak: String?
    @Option(help: ArgumentHelp("The operators realm (env TOLLGATE_KEYCLOAK_REALM; default ops).", valueName: "realm"))
    var keycloakRealm: String?
    @Option(help: ArgumentHelp("The client operators sign in with (env TOLLGATE_KEYCLOAK_CLIENT; default tollgate).", valueName: "id"))
    var keycloakClient: String?
    @Option(help: ArgumentHelp("Sign in as the client's service account with the secret in this file, instead of the device grant (env TOLLGATE_KEYCLOAK_CLIENT_SECRET_FILE).",
                               valueName: "path"))
    var keycloakClientSecretFile: String?
    @Option(help: ArgumentHelp("The shared realm of SMB tenants (default smb).", valueName: "realm"))
    var keycloakSMBRealm: String?
    @Option(help: ArgumentHelp("The service-account client of Keycloak's admin REST calls (sessions list/logout).", valueName: "id"))
    var keycloakAdminClient: String?
    @Option(help: ArgumentHelp("The file holding that client's secret.", valueName: "path"))
    var keycloakAdminSecretFile: String?
    @Option(help: ArgumentHelp("The realm of the admin client (default master).", valueName: "realm"))
    var keycloakAdminRealm: String?

    enum CodingKeys: String, CodingKey {
        case config, context, readonly, keycloak, keycloakRealm, keycloakClient, keycloakClientSecretFile, keycloakSMBRealm,
             keycloakAdminClient, keycloakAdminSecretFile, keycloakAdminRealm
    }

    /// Flags, then the environment, then the context; nil when no Keycloak is configured.
    func keycloakSettings(_ context: ContextConfig?) throws -> KeycloakSettings? {
        guard let base = keycloak ?? Env.value("TOLLGATE_KEYCLOAK_URL") ?? context?.keycloak else { return nil }
        let secret = try (keycloakClientSecretFile ?? Env.value("TOLLGATE_KEYCLOAK_CLIENT_SECRET_FILE")).map { try SecretFile.read($0, "--keycloak-client-secret-file") }
            ?? context?.keycloakClientSecret
        let adminSecret = try keycloakAdminSecretFile.map { try SecretFile.read($0, "--keycloak-admin-secret-file") } ?? context?.keycloakAdminSecret
        return try KeycloakSettings(base: base, realm: keycloakRealm ?? Env.value("TOLLGATE_KEYCLOAK_REALM") ?? context?.keycloakRealm ?? "ops",
                                    client: keycloakClient ?? Env.value("TOLLGATE_KEYCLOAK_CLIENT") ?? context?.keycloakClient ?? "tollgate",
                                    clientSecret: secret, smbRealm: keycloakSMBRealm ?? context?.keycloakSMBRealm ?? "smb",
                                    adminClient: keycloakAdminClient ?? context?.keycloakAdminClient, adminSecret: adminSecret,
                                    adminRealm: keycloakAdminRealm ?? context?.keycloakAdminRealm ?? "master")
    }

    @Option(help: ArgumentHelp("The config file (env TOLLGATE_CONFIG).", valueName: "path")) var config: String?
    @Option(help: ArgumentHelp("The context of the config file to use (env TOLLGATE_CONTEXT; default: the file's current-context).",
                               valueName: "name")) var context: String?

    /// The chosen context, or nil when there is no config file and none was asked for.
    func resolve() throws -> ContextConfig? {
        try resolve(named: context ?? Env.value("TOLLGATE_CONTEXT"))
    }

    /// The context `name` of the config file (nil: the file's current-context).
    func resolve(named name: String?) throws -> ContextConfig? {
        guard let (text, path) = try file(required: name != nil) else {
            if let name { throw CLIFailure(.usage, "context \(SafeText.quoted(name)) asked for, but there is no config file at \(filePath)") }
            return nil
        }
        return try ConfigFile.parse(text, path: path, context: name, env: ProcessInfo.processInfo.environment)
    }

    /// The names of the config file's contexts (command-mode completion).
    func contextNames() throws -> [String] {
        guard let (text, _) = try file(required: false) else { return [] }
        return ((try? TOMLText.table(text).get())?["contexts"]?.table?.keys).map { $0.sorted() } ?? []
    }

    private var explicitPath: String? { config ?? Env.value("TOLLGATE_CONFIG") }
    private var filePath: String { explicitPath ?? Self.defaultPath(ProcessInfo.processInfo.environment) }

    /// The config file's text and path; nil when there is none and none was named.
    private func file(required: Bool) throws -> (String, String)? {
        let path = filePath
        guard FileManager.default.fileExists(atPath: path) else {
            if let explicit = explicitPath { throw CLIFailure(.usage, "config file \(SafeText.quoted(explicit)) does not exist") }
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CLIFailure(.usage, "cannot read the config file \(SafeText.quoted(path))")
        }
        return (text, path)
    }

    static func defaultPath(_ env: [String: String]) -> String {
        (env["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? (NSHomeDirectory() + "/.config")) + "/tollgate/config.toml"
    }

    /// The session of `context` (from `resolve`): who acts, and whether read-only. `--readonly`
    /// holds for every context of the process, also one switched to with `:ctx`.
    /// Once Keycloak is configured it alone says who acts: no tokens, or a token that fails a check,
    /// is exit 4; Keycloak unreachable exit 5. Without it, the local identity.
    func session(_ context: ContextConfig?) async throws -> Session {
        let readonly = try self.readonly || (Env.bool("TOLLGATE_READONLY") ?? false) || (context?.readonly ?? false)
        guard let settings = try keycloakSettings(context) else {
            return Session(context: context, policy: AccessPolicy(op: try Self.localOperator(context), readonly: readonly), keycloak: nil)
        }
        let keycloak = KeycloakSession(settings: settings)
        let op = try await keycloak.current().op()
        return Session(context: context, policy: AccessPolicy(op: op, readonly: readonly), keycloak: keycloak)
    }

    /// The console's session of `context` from the UI thread (`:ctx`): it waits for Keycloak,
    /// within its timeouts, when the context uses one.
    func sessionWaiting(_ context: ContextConfig?) throws -> Session {
        let box = Mutex<Result<Session, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { let s = try await self.session(context); box.withLock { $0 = .success(s) } } catch { box.withLock { $0 = .failure(error) } }
            done.signal()
        }
        done.wait()
        return try box.withLock { $0! }.get()
    }

    /// With no Keycloak configured: `local:$USER`, the role from TOLLGATE_ROLE or the context
    /// (default admin), unauthenticated, and marked so wherever it shows.
    static func localOperator(_ context: ContextConfig?) throws -> Operator {
        let roleText = Env.value("TOLLGATE_ROLE") ?? context?.role ?? "admin"
        guard let role = Operator.Role(rawValue: roleText) else {
            throw CLIFailure(.usage, "invalid TOLLGATE_ROLE \(SafeText.quoted(roleText)): must be viewer, support, operator or admin")
        }
        let user = Env.value("USER") ?? getpwuid(getuid()).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? "uid\(getuid())"
        return Operator(name: "local:" + SafeText.clean(user), role: role, authenticated: false)
    }
}

/// Who acts, against which context, in which mode: resolved once for a command or a console
/// session, and the one value every reader and the action layer of it are built from.
struct Session: Sendable {
    let context: ContextConfig?
    let policy: AccessPolicy
    /// The Keycloak sign-in, when Keycloak is configured: actions check it is still valid.
    let keycloak: KeycloakSession?

    var op: Operator { policy.op }

    /// The guard every read of this session goes through; refusals are audited to `spool`.
    func reads(spool: AuditSpool?) -> ReadGuard { ReadGuard(policy: policy, spool: spool) }

    func actions(writer: any GatewayWriting, spool: AuditSpool) -> ActionLayer {
        var check: (@Sendable () async throws(BackendError) -> Void)?
        if let keycloak { check = { () async throws(BackendError) in try await Self.stillSignedIn(keycloak) } }
        return ActionLayer(op: policy.op, readonly: policy.readonly, writer: writer, spool: spool, stillSignedIn: check)
    }

    static func stillSignedIn(_ keycloak: KeycloakSession) async throws(BackendError) {
        do { _ = try await keycloak.current() } catch let e as BackendError { throw e } catch { throw .denied("\(error)") }
    }
}
