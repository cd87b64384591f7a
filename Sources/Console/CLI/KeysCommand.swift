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
        @OptionGroup var clickhouse: ClickHouseOptions
        @OptionGroup var config: SessionOptions
        @Option(help: "The tenant id.") var tenant: String
        @Flag(help: "One JSON document instead of a table (times in ISO 8601, UTC).") var json = false

        func run() async throws {
            let t = try TenantID(tenant)
            let clock = SystemClock()
            let session = try await config.session(try config.resolve())
            let tenants = session.reads(spool: clickhouse.spool(session.context))
                .tenants(try source.makeBackend(clock: clock, context: session.context).tenants)
            let keys = try await clickhouse.deliveringRefusals(session) { try await tenants.keys(of: t) }
            let now = clock.now()
            if json {
                try Output.json(keys.map { KeyJSON($0, now: now) })
                return
            }
            let widths = [12, 9, 20, 13, 22, 22]
            print(zip(["KEY", "STATE", "LABEL", "PREFIX", "EXPIRES (UTC)", "LAST USED"], widths).map { Fit.text($0.0, $0.1) }.joined(separator: " ")
                  + " NOTE")
            for k in keys {
                let columns = [k.id.rawValue, k.problem == nil ? k.state(at: now).rawValue : "ERR", k.label, k.prefix,
                               KeyText.expiry(k, now: now), KeyText.lastUse(k, now: now)]
                print(zip(columns, widths).map { Fit.text($0.0, $0.1) }.joined(separator: " ") + " " + KeyText.note(k, now: now))
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
            try ActionContext.settle(outcome)
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A new key replaces this one, which keeps working for the grace period.")
        @OptionGroup var context: ActionContext
        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "The key to replace.") var key: String
        @Option(help: "How long the old key keeps working: 24h (default), 0 revokes it at once.") var grace = "24h"
        @Option(help: "The new key's expiry: inherit (default: the old key's), never, or 90d, 12w...") var expires = "inherit"
        @Flag(help: "JSON: tenant, key_id, old_key, secret, grace_until.") var json = false

        func run() async throws {
            let t = try TenantID(tenant)
            let request = try options { () throws(Backends.ValidationError) in try ActionRequest.keyRotate(t, key: key, grace: grace, expires: expires) }
            guard case .keyRotate(_, let k, let seconds, _) = request else { return }
            let outcome = try await context.run(request, confirming: { session in
                "rotate key \(try await context.describeKey(t, k, session))" + (seconds == 0 ? " and revoke it now (no grace)" : " with \(grace) of grace")
            }, quiet: json)
            try KeysCommand.printSecret(outcome, tenant: t, old: k, json: json)
            try ActionContext.settle(outcome)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The key stops working now.")
        @OptionGroup var context: ActionContext
        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "The key to revoke.") var key: String
        @Option(help: "Why (mandatory; goes to the audit log).") var reason: String

        func run() async throws {
            let t = try TenantID(tenant)
            let request = try options { () throws(Backends.ValidationError) in try ActionRequest.keyRevoke(t, key: key, reason: reason) }
            guard case .keyRevoke(_, let k, _) = request else { return }
            let outcome = try await context.run(request, confirming: { session in "revoke key \(try await context.describeKey(t, k, session))" })
            try ActionContext.settle(outcome)
        }
    }

    /// The one place a secret is written: to stdout, once.
    static func printSecret(_ outcome: ActionOutcome, tenant: TenantID, old: KeyID?, json: Bool) throws {
        guard let id = outcome.newKey, let secret = outcome.secret else { return }
        let graceUntil = outcome.after["grace_until"].flatMap { Int64($0) }
        if json {
            struct Doc: Encodable {
                let tenant: String, key_id: String, old_key: String?, secret: String, grace_until: String?, outcome: String
            }
            let state: String
            switch outcome.verified {
            case .replied, .readBack: state = "applied"
            case .unknown: state = "unknown"
            }
            try Output.json(Doc(tenant: tenant.rawValue, key_id: id.rawValue, old_key: old?.rawValue, secret: secret.plaintext,
                                grace_until: graceUntil.map { CivilDate(epochSeconds: $0).iso8601 }, outcome: state))
            return
        }
        if case .unknown = outcome.verified {
            print("new key \(id) of \(tenant), IF the change applied (its outcome is unknown: see below). Its secret, shown this once:")
        } else {
            print("new key \(id) of \(tenant). Its secret, shown this once:")
        }
        print("")
        print("    \(secret.plaintext)")
        print("")
        print("Store it now: tollgate keeps only its SHA-256.")
    }
}

/// `keys list --json`: every field of the contract; times in ISO 8601 (UTC), null when unset.
struct KeyJSON: Encodable {
    let key_id, label, prefix, state, stored_state, created_by: String
    let scopes: [String]
    let created_at, expires_at, last_used_at, grace_until, revoked_at: String?
    let revoked_by, replaces, replaced_by, error: String?

    init(_ k: APIKey, now: Double) {
        func iso(_ t: Int64?) -> String? { t.map { CivilDate(epochSeconds: $0).iso8601 } }
        key_id = k.id.rawValue
        label = k.label
        prefix = k.prefix
        state = k.problem == nil ? k.state(at: now).rawValue : "error"
        stored_state = k.state.rawValue
        created_by = k.createdBy
        scopes = k.scopes
        created_at = iso(k.createdAt)
        expires_at = k.expiresAt > 0 ? iso(k.expiresAt) : nil
        last_used_at = iso(k.lastUsedAt)
        grace_until = iso(k.graceUntil)
        revoked_at = iso(k.revokedAt)
        revoked_by = k.revokedBy
        replaces = k.replaces?.rawValue
        replaced_by = k.replacedBy?.rawValue
        error = k.problem
    }
}

/// Keys in human words for the CLI's text output: no raw epochs.
enum KeyText {
    static func expiry(_ k: APIKey, now: Double) -> String {
        guard k.expiresAt > 0 else { return "never" }
        let left = Double(k.expiresAt) - now
        if left <= 0 { return "expired " + Format.when(k.expiresAt, now: now) }
        return Format.when(k.expiresAt, now: now) + (left <= KeyCounts.expiryWarning ? " (\(Format.shortDuration(left)))" : "")
    }

    static func lastUse(_ k: APIKey, now: Double) -> String {
        k.lastUsedAt.map { "\(Format.duration(now - Double($0))) ago" } ?? "never"
    }

    static func note(_ k: APIKey, now: Double) -> String {
        var parts: [String] = []
        if let p = k.problem { parts.append("broken: \(p)") }
        if let g = k.graceUntil, k.state(at: now) == .rotating { parts.append("grace ends in \(Format.duration(Double(g) - now))") }
        if let r = k.replacedBy { parts.append("replaced by \(r)") }
        if let r = k.replaces { parts.append("replaces \(r)") }
        if let at = k.revokedAt { parts.append("revoked \(Format.when(at, now: now))" + (k.revokedBy.map { " by \($0)" } ?? "")) }
        return parts.joined(separator: "; ")
    }
}
