import ArgumentParser
import Backends
import Foundation
import TOMLKit

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
    /// The Keycloak base URL of the context's operators realm: read now, used by the sign-in issue.
    var keycloak: String?
}

/// The config file's schema: its contexts and their settings (docs/config.md).
enum ConfigFile {
    static let keys: Set<String> = ["redis", "redis-password-file", "redis-password-env", "clickhouse", "clickhouse-password-file",
                                    "clickhouse-password-env", "clickhouse-database", "readonly", "theme", "role", "spool", "keycloak"]

    static func parse(_ text: String, path: String, context: String?, env: [String: String]) throws -> ContextConfig? {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch { throw CLIFailure(.usage, "\(path): not valid TOML: \(error)") }
        let contexts = table["contexts"]?.table ?? TOMLTable()
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
            if let file = try string("\(prefix)-password-file") {
                guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                    throw CLIFailure(.usage, "\(path): contexts.\(name).\(prefix)-password-file: cannot read \(SafeText.quoted(file))")
                }
                return text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
            }
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
        return c
    }
}
