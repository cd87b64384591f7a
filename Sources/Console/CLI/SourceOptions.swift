import ArgumentParser
import Backends
import Foundation

/// Where live data comes from. One factory builds every capability of a context.
struct SourceOptions: ParsableArguments {
    @Flag(help: "Use the embedded demo gateway (simulated tenants, no services needed).")
    var demo = false

    @Option(help: "Seed of the demo gateway: the same seed gives the same fleet.")
    var seed: UInt64 = 42

    @Option(help: "Tenants in the demo gateway (1-100000), to try the console at scale.")
    var demoTenants = 40

    @OptionGroup var redis: RedisOptions

    /// These options for another context: its own stores, not the ones flags or the environment named.
    var contextOnly: SourceOptions {
        var o = self
        o.demo = false
        o.redis = redis.contextOnly
        return o
    }

    func makeBackend(clock: any Clock, context: ContextConfig? = nil) throws -> Backend {
        if demo {
            guard (1...100_000).contains(demoTenants) else {
                throw CLIFailure(.usage, "invalid --demo-tenants \(demoTenants): must be between 1 and 100000")
            }
            let gateway = DemoGateway(seed: seed, clock: clock, tenantCount: demoTenants)
            return Backend(label: "demo (seed \(seed))", fleet: gateway, tenants: gateway, keyWatch: gateway, writer: gateway, demo: gateway)
        }
        if let redis = try redis.client(context: context, clock: clock) {
            let gateway = RedisGateway(redis: redis, clock: clock)
            return Backend(label: redis.url.description, fleet: gateway, tenants: gateway, keyWatch: gateway, writer: RedisActions(redis: redis, clock: clock), demo: nil)
        }
        throw CLIFailure(.usage, "no backend configured: pass --redis URL (or set TOLLGATE_REDIS_URL, or a context's redis), or --demo for the embedded demo gateway")
    }
}

/// The gateway's Redis. Precedence: flags, then environment (TOLLGATE_REDIS_URL), then the context.
struct RedisOptions: ParsableArguments {
    @Option(name: .customLong("redis"), help: ArgumentHelp(
        "Redis of the gateway: redis://[user:password@]host:port[/db] or unix:///path (env TOLLGATE_REDIS_URL). Standalone or cluster, detected.",
        valueName: "url"))
    var redisURL: String?

    @Option(help: "Seconds to wait for a Redis connection, and for each command (0.1-60).")
    var redisTimeout: Double = 2

    @Option(help: ArgumentHelp("The Redis password, read from this file's first line (a password in --redis would show in ps).",
                               valueName: "path"))
    var redisPasswordFile: String?

    /// Read the environment (TOLLGATE_REDIS_URL); false when a context alone must decide.
    var fromEnvironment = true

    var contextOnly: RedisOptions {
        var o = self
        o.redisURL = nil
        o.fromEnvironment = false
        return o
    }

    enum CodingKeys: String, CodingKey { case redisURL, redisTimeout, redisPasswordFile }

    /// A client of the configured Redis (standalone or cluster, detected), or nil when none is.
    func client(context: ContextConfig?, clock: any Clock) throws -> RedisAuto? {
        guard redisTimeout.isFinite, (0.1...60).contains(redisTimeout) else {
            throw CLIFailure(.usage, "invalid --redis-timeout \(redisTimeout): must be between 0.1 and 60 seconds")
        }
        guard let url = try redis(context: context) else { return nil }
        return RedisAuto(url, connectTimeout: redisTimeout, commandTimeout: max(redisTimeout, 5), clock: clock)
    }

    /// The Redis URL from the flag, else TOLLGATE_REDIS_URL, else the context; the context's
    /// password (from a file or a variable) fills in a URL that has none.
    func redis(context: ContextConfig?) throws -> RedisURL? {
        let env = fromEnvironment ? Env.value("TOLLGATE_REDIS_URL") : nil
        let (text, origin) = redisURL.map { ($0, "") } ?? env.map { ($0, " (from TOLLGATE_REDIS_URL)") }
            ?? context?.redis.map { ($0, " (from the config file)") } ?? (nil, "")
        guard let text else { return nil }
        var url: RedisURL
        do { url = try RedisURL(parsing: text) } catch { throw CLIFailure(.usage, error.description + origin) }
        if redisURL != nil && url.password != nil {
            throw CLIFailure(.usage, "a password in --redis shows in the process list (ps): pass it with --redis-password-file, "
                             + "TOLLGATE_REDIS_URL or the context's redis-password-file")
        }
        if url.password == nil, let file = redisPasswordFile { url.password = try SecretFile.read(file, "--redis-password-file") }
        if url.password == nil, let p = context?.redisPassword { url.password = p }
        return url
    }
}

/// The capabilities of one context.
struct Backend: Sendable {
    let label: String
    let fleet: any FleetReading
    let tenants: any TenantReading
    let keyWatch: any KeyWatching
    /// Where actions go: the gateway's Redis, or the demo's own simulation.
    let writer: any GatewayWriting
    /// The embedded demo gateway, when that is the backend: it also simulates the audit log and key usage.
    let demo: DemoGateway?
    var isDemo: Bool { demo != nil }
}

/// A failure with one of the documented exit codes and a message for stderr.
struct CLIFailure: Error, CustomStringConvertible {
    enum Code: Int32 {
        case failure = 1, usage = 2, conflict = 3, denied = 4, unavailable = 5
        /// An action's request went out, no reply came, and the store stayed unreachable.
        case unknown = 6
    }
    let code: Code
    let message: String
    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    var description: String { message }
}
