import ArgumentParser
import Backends
import Foundation
import Views

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "A tenant's API keys.",
                                                    subcommands: [List.self, Create.self, Rotate.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every key of a tenant with its derived state.")
        @OptionGroup var source: SourceOptions
        @OptionGroup var config: ContextOptions
        @Option(help: "The tenant id.") var tenant: String
        @Flag(help: "One JSON document instead of a table.") var json = false

        func run() async throws {
            let t = try TenantID(tenant)
            let clock = SystemClock()
            let keys = try await source.makeBackend(clock: clock, context: try config.resolve()).tenants.keys(of: t)
            let now = clock.now()
            if json {
                struct KeyJSON: Encodable {
                    let key_id, label, prefix, state, scopes: String
                    let created_at, expires_at: Int64
                    let last_used_at, grace_until: Int64?
                    let replaced_by, replaces: String?
                }
                let docs = keys.map { k in
                    KeyJSON(key_id: k.id.rawValue, label: k.label, prefix: k.prefix, state: k.state(at: now).rawValue,
                            scopes: k.scopes.joined(separator: ","), created_at: k.createdAt, expires_at: k.expiresAt,
                            last_used_at: k.lastUsedAt, grace_until: k.graceUntil, replaced_by: k.replacedBy?.rawValue, replaces: k.replaces?.rawValue)
                }
                try Output.json(docs)
                return
            }
            let widths = [12, 9, 20, 13, 21]
            print(zip(["KEY", "STATE", "LABEL", "PREFIX", "EXPIRES (UTC)"], widths).map { Fit.text($0.0, $0.1) }.joined(separator: " ") + " NOTE")
            for k in keys {
                let expires = k.expiresAt == 0 ? "never" : CivilDate(epochSeconds: k.expiresAt).iso8601
                var note = ""
                if let g = k.graceUntil, k.state(at: now) == .rotating { note = "grace ends in \(Format.duration(Double(g) - now))" }
                if let r = k.replacedBy { note += (note.isEmpty ? "" : "; ") + "replaced by \(r)" }
                print(zip([k.id.rawValue, k.state(at: now).rawValue, k.label, k.prefix, expires], widths).map { Fit.text($0.0, $0.1) }
                    .joined(separator: " ") + " " + note)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A new key; its secret is printed once.")
        @OptionGroup var context: ActionContext
        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "What the key is for.") var label: String
        @Option(help: "Comma-separated scopes.") var scopes: String = ""
        @Option(help: "Expiry: 90d, 12w, ... (default: never).") var expires: String?
        @Flag(help: "JSON: tenant, key_id, secret.") var json = false

        func run() async throws {
            let t = try TenantID(tenant)
            let request = try options { () throws(Backends.ValidationError) in
                try ActionRequest.keyCreate(t, label: label, scopes: scopes, expires: expires ?? "never")
            }
            let outcome = try await context.run(request, confirm: nil, quiet: json)
            try KeysCommand.printSecret(outcome, tenant: t, old: nil, json: json)
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A new key replaces this one, which keeps working for the grace period.")
        @OptionGroup var context: ActionContext
        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "The key to replace.") var key: String
        @Option(help: "How long the old key keeps working: 24h (default), 0 revokes it at once.") var grace = "24h"
        @Flag(help: "JSON: tenant, key_id, old_key, secret, grace_until.") var json = false

        func run() async throws {
            let t = try TenantID(tenant), k = try KeyID(key)
            let request = try options { () throws(Backends.ValidationError) in try ActionRequest.keyRotate(t, key: key, grace: grace) }
            guard case .keyRotate(_, _, let seconds) = request else { return }
            let outcome = try await context.run(request,
                                                confirm: "rotate key \(k) of \(t)" + (seconds == 0 ? " and revoke it now" : " with \(grace) of grace"),
                                                quiet: json)
            try KeysCommand.printSecret(outcome, tenant: t, old: k, json: json)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The key stops working now.")
        @OptionGroup var context: ActionContext
        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "The key to revoke.") var key: String
        @Option(help: "Why (mandatory; goes to the audit log).") var reason: String

        func run() async throws {
            let t = try TenantID(tenant), k = try KeyID(key)
            let request = try options { () throws(Backends.ValidationError) in try ActionRequest.keyRevoke(t, key: key, reason: reason) }
            _ = try await context.run(request, confirm: "revoke key \(k) of \(t)")
        }
    }

    /// The one place a secret is written: to stdout, once.
    static func printSecret(_ outcome: ActionOutcome, tenant: TenantID, old: KeyID?, json: Bool) throws {
        guard let id = outcome.newKey, let secret = outcome.secret else { return }
        let graceUntil = outcome.after["grace_until"].flatMap { Int64($0) }
        if json {
            struct Doc: Encodable { let tenant: String; let key_id: String; let old_key: String?; let secret: String; let grace_until: Int64? }
            try Output.json(Doc(tenant: tenant.rawValue, key_id: id.rawValue, old_key: old?.rawValue, secret: secret.plaintext, grace_until: graceUntil))
            return
        }
        print("new key \(id) of \(tenant). Its secret, shown this once:")
        print("")
        print("    \(secret.plaintext)")
        print("")
        print("Store it now: tollgate keeps only its SHA-256.")
    }
}
