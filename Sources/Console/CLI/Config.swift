import ArgumentParser
import Backends
import Foundation
import TOMLKit
import Views

/// One named context of the config file: where a gateway's stores are and how to treat it.
struct ContextConfig: Equatable, Sendable {
    var name: String
    var redis: String?
    var redisPassword: String?
    var clickhouse: String?
    var clickhousePassword: String?
    var clickhouseDatabase: String?
    var readonly = false
    var theme: String?
    var role: String?
    var spool: String?
    /// Keycloak: the base URL, and the settings that go with it (docs/keycloak.md).
    var keycloak: String?
    var keycloakRealm: String?
    var keycloakClient: String?
    var keycloakClientSecret: String?
    var keycloakSMBRealm: String?
    var keycloakAdminClient: String?
    var keycloakAdminSecret: String?
    var keycloakAdminRealm: String?
}

/// The config file's schema: its contexts and their settings (docs/config.md).
enum ConfigFile {
    static let keys: Set<String> = ["redis", "redis-password-file", "redis-password-env", "clickhouse", "clickhouse-password-file",
                                    "clickhouse-password-env", "clickhouse-database", "readonly", "theme", "role", "spool", "keycloak",
                                    "keycloak-realm", "keycloak-client", "keycloak-client-secret-file", "keycloak-smb-realm",
                                    "keycloak-admin-client", "keycloak-admin-secret-file", "keycloak-admin-realm"]

    static func parse(_ text: String, path: String, context: String?, env: [String: String]) throws -> ContextConfig? {
        let table: TOMLTable
        switch TOMLText.table(text) {
        case .success(let t): table = t
        case .failure(let error): throw CLIFailure(.usage, "\(path): not valid TOML: \(error)")
        }
        for key in table.keys where !["current-context", "contexts"].contains(key) {
            throw CLIFailure(.usage, "\(path): unknown setting \(SafeText.quoted(key)) at the top; the top holds current-context and [contexts.NAME] tables")
        }
        if let c = table["contexts"], c.table == nil { throw CLIFailure(.usage, "\(path): contexts must be tables, [contexts.NAME]") }
        let contexts = table["contexts"]?.table ?? TOMLTable()
        for (key, value) in contexts where value.table == nil {
            throw CLIFailure(.usage, "\(path): contexts.\(SafeText.clean(key)) must be a table, [contexts.\(SafeText.clean(key))]")
        }
        if let current = table["current-context"], current.string == nil {
            throw CLIFailure(.usage, "\(path): current-context must be the name of a context, as a string")
        }
        guard let name = context ?? table["current-context"]?.string else { return nil }
        guard let ctx = contexts[name]?.table else {
            throw CLIFailure(.usage, "\(path): no context \(SafeText.quoted(name)); contexts: \(contexts.keys.sorted().joined(separator: ", "))")
        }
        for key in ctx.keys where !keys.contains(key) {
            throw CLIFailure(.usage, "\(path): contexts.\(name): unknown setting \(SafeText.quoted(key)); settings: \(keys.sorted().joined(separator: ", "))")
        }
        func string(_ key: String) throws -> String? {
            guard let v = ctx[key] else { return nil }
            guard let s = v.string else { throw CLIFailure(.usage, "\(path): contexts.\(name).\(key) must be a string") }
            return s
        }
        /// A password from a file (first line) or an environment variable; never from the file itself.
        func password(_ prefix: String) throws -> String? {
            if let file = try string("\(prefix)-password-file") { return try SecretFile.read(file, "\(path): contexts.\(name).\(prefix)-password-file") }
            if let variable = try string("\(prefix)-password-env") {
                guard let value = env[variable] else { throw CLIFailure(.usage, "\(path): contexts.\(name).\(prefix)-password-env: \(SafeText.quoted(variable)) is not set") }
                return value
            }
            return nil
        }
        var c = ContextConfig(name: name)
        c.redis = try string("redis")
        c.redisPassword = try password("redis")
        c.clickhouse = try string("clickhouse")
        c.clickhousePassword = try password("clickhouse")
        c.clickhouseDatabase = try string("clickhouse-database")
        if let v = ctx["readonly"] {
            guard let b = v.bool else { throw CLIFailure(.usage, "\(path): contexts.\(name).readonly must be true or false") }
            c.readonly = b
        }
        c.theme = try string("theme")
        c.role = try string("role")
        c.spool = try string("spool")
        c.keycloak = try string("keycloak")
        if let k = c.keycloak, !(k.hasPrefix("https://") || k.hasPrefix("http://")) || k.unicodeScalars.contains(where: SafeText.isUnsafe) {
            throw CLIFailure(.usage, "\(path): contexts.\(name).keycloak \(SafeText.quoted(k)) must be an http(s) URL")
        }
        c.keycloakRealm = try string("keycloak-realm")
        c.keycloakClient = try string("keycloak-client")
        c.keycloakClientSecret = try string("keycloak-client-secret-file").map { try SecretFile.read($0, "\(path): contexts.\(name).keycloak-client-secret-file") }
        c.keycloakSMBRealm = try string("keycloak-smb-realm")
        c.keycloakAdminClient = try string("keycloak-admin-client")
        c.keycloakAdminSecret = try string("keycloak-admin-secret-file").map { try SecretFile.read($0, "\(path): contexts.\(name).keycloak-admin-secret-file") }
        c.keycloakAdminRealm = try string("keycloak-admin-realm")
        return c
    }
}
