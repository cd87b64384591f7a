import ArgumentParser
import Backends
import Foundation
import Views

/// `tollgate sessions`: a tenant's identities in Keycloak, and signing its users out. The admin
/// REST calls are made only after tollgate's own permission check (support to list, operator to
/// sign out), with the admin client of `--keycloak-admin-client`.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sessions", abstract: "A tenant's users and sessions in Keycloak.",
                                                    subcommands: [List.self, Logout.self])

    /// What both subcommands need: the session, the tenant's meta (its tier, realm or group, from
    /// Redis through the read guard) and the admin client.
    struct Target: ParsableArguments {
        @OptionGroup var source: SourceOptions
        @OptionGroup var clickhouse: ClickHouseOptions
        @OptionGroup var config: SessionOptions
        @Option(help: "The tenant id.") var tenant: String

        func resolve() async throws -> (Session, TenantID, TenantMeta, KeycloakAdmin, Backend) {
            let id = try TenantID(tenant)
            let session = try await config.session(try config.resolve())
            guard let settings = session.keycloak?.settings else { throw SessionOptions.noKeycloak }   // read once, by the session
            let reads = session.reads(spool: clickhouse.spool(session.context))
            let backend = try source.makeBackend(clock: SystemClock(), context: session.context)
            let state = try await clickhouse.deliveringRefusals(session) { () async throws -> TenantState in
                try reads.check(.sessions, id)
                return try await reads.tenants(backend.tenants).tenant(id)
            }
            guard let meta = state.meta.value else { throw CLIFailure(.failure, "tenant \(id): its meta cannot be read, so neither its realm nor its group is known") }
            return (session, id, meta, try KeycloakAdmin(settings: settings), backend)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An enterprise tenant's realm, or an SMB tenant's group: users and sessions.")
        @OptionGroup var target: Target
        @Flag(help: "One JSON object.") var json = false

        func run() async throws {
            let (_, id, meta, admin, _) = try await target.resolve()
            let identity = try await admin.identity(of: id, meta: meta)
            if json {
                struct Client: Encodable { let client: String; let active: Int; let offline: Int }
                struct Doc: Encodable {
                    let tenant_id: String; let realm: String; let group: String?; let enabled: Bool?; let display_name: String?
                    let users: Int; let active_sessions: Int; let clients: [Client]
                }
                let doc: Doc
                switch identity.home {
                case .realm(let realm, let enabled, let name):
                    doc = Doc(tenant_id: id.rawValue, realm: realm, group: nil, enabled: enabled, display_name: name, users: identity.users,
                              active_sessions: identity.activeSessions, clients: identity.sessions.map { Client(client: $0.client, active: $0.active, offline: $0.offline) })
                case .group(let realm, let path):
                    doc = Doc(tenant_id: id.rawValue, realm: realm, group: path, enabled: nil, display_name: nil, users: identity.users,
                              active_sessions: identity.activeSessions, clients: [])
                }
                try Output.json(doc)
                return
            }
            for line in SessionsText.lines(identity) { print(line) }
        }
    }

    struct Logout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign every user of the tenant out: an enterprise realm's logout-all, an SMB group's members one by one.")
        @OptionGroup var target: Target
        @OptionGroup var action: ActionOptions

        func run() async throws {
            let (session, id, meta, admin, backend) = try await target.resolve()
            let layer = session.actions(writer: backend.writer, spool: target.clickhouse.spool(session.context))
            let scope = (try? KeycloakAdmin.home(id, meta, admin.settings)).map(SessionsText.describe) ?? "its users"
            if layer.policy.refusal(.sessionsLogout, tenant: id) == nil { try action.confirm("sign out every user of \(id) (\(scope))") }
            let outcome: Result<Int, BackendError>
            do throws(BackendError) { outcome = .success(try await layer.logoutSessions(id, meta: meta, admin: admin)) } catch { outcome = .failure(error) }
            await target.clickhouse.deliverIfConfigured(session.context)   // the audit of it, whatever the outcome
            let users = try outcome.get()
            print("signed out \(users) user\(users == 1 ? "" : "s") of \(id) (\(scope))")
        }
    }
}

enum SessionsText {
    static func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

    static func describe(_ home: TenantIdentity.Home) -> String {
        switch home {
        case .realm(let realm, _, _): "realm \(realm)"
        case .group(let realm, let path): "group \(path) in realm \(realm)"
        }
    }

    static func lines(_ identity: TenantIdentity) -> [String] {
        var out: [String] = []
        switch identity.home {
        case .realm(let realm, let enabled, let name):
            out.append("realm \(realm) (\(SafeText.clean(name))) · \(enabled ? "enabled" : "DISABLED") · \(plural(identity.users, "user")) · \(plural(identity.activeSessions, "active session"))")
            out.append(identity.sessions.isEmpty ? "no sessions" : "CLIENT                           ACTIVE  OFFLINE")
            for c in identity.sessions { out.append(Fit.text(c.client, 32) + " " + Fit.text(String(c.active), 7, .right) + " " + Fit.text(String(c.offline), 8, .right)) }
        case .group(let realm, let path):
            out.append("group \(path) in realm \(realm) · \(plural(identity.users, "member")) · \(plural(identity.activeSessions, "active session"))")
        }
        return out
    }
}
