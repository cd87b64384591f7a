import ArgumentParser
import Backends
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a request builder, naming its fields as the options they were typed in (`limit` is
/// `--limit` here).
func options<T>(_ build: () throws(Backends.ValidationError) -> T) throws(Backends.ValidationError) -> T {
    do { return try build() } catch {
        throw Backends.ValidationError(field: "--" + error.field, value: error.value, rule: error.rule)
    }
}

/// Confirmation of destructive commands.
struct ActionOptions: ParsableArguments {
    @Flag(help: "Do not ask for confirmation (required when stdin is not a terminal).") var yes = false

    /// Asks on a terminal; refuses without --yes when stdin is not one.
    func confirm(_ question: String) throws {
        if yes { return }
        guard isatty(STDIN_FILENO) == 1 else {
            throw CLIFailure(.usage, "refusing to \(question) without --yes: stdin is not a terminal")
        }
        var err = StandardError()
        print("\(question)? [y/N] ", terminator: "", to: &err)
        guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
            throw CLIFailure(.failure, "not confirmed: nothing changed")
        }
    }
}

/// The pieces every action command needs: Redis to act on, the spool, ClickHouse when configured.
struct ActionContext: ParsableArguments {
    @OptionGroup var source: SourceOptions
    @OptionGroup var clickhouse: ClickHouseOptions
    @OptionGroup var action: ActionOptions
    @OptionGroup var config: SessionOptions

    /// The gateway's Redis for an action.
    private func redis(_ context: ContextConfig?) throws -> RedisAuto {
        guard !source.demo, let redis = try source.redis.client(context: context, clock: SystemClock()) else {
            throw CLIFailure(.usage, "actions need the gateway's Redis: pass --redis URL, set TOLLGATE_REDIS_URL, or give the context a redis")
        }
        return redis
    }

    /// `k_x "ci runner" of acme (last used 3m ago, expires never)`, for a confirmation; just the
    /// ids when the key cannot be read (the action then says why).
    func describeKey(_ t: TenantID, _ k: KeyID, _ session: Session) async throws -> String {
        // Nothing of a tenant the operator may not see, not even in a question (the action is refused next).
        guard session.policy.refusal(.tenants, tenant: t) == nil else { return "\(k) of \(t)" }
        let redis = try redis(session.context)
        let now = SystemClock().now()
        guard let key = (try? await RedisGateway(redis: redis).keys(of: t))?.first(where: { $0.id == k }) else { return "\(k) of \(t)" }
        return "\(k) \(SafeText.quoted(key.label)) of \(t) (\(key.problem == nil ? key.state(at: now).rawValue : "broken"), "
            + "last used \(KeyText.lastUse(key, now: now)), expires \(KeyText.expiry(key, now: now)))"
    }

    /// Exit 6 when the outcome is unknown, after the command has printed what it has.
    static func settle(_ outcome: ActionOutcome) throws {
        guard case .unknown(let why) = outcome.verified else { return }
        throw CLIFailure(.unknown, "outcome unknown: \(why). The change may or may not have applied; "
                         + "check with `tollgate keys list` or `tollgate tenants show`, and do not repeat it blindly")
    }

    /// Carries out `request` after confirmation (`question` nil: nothing to confirm, e.g. a create).
    @discardableResult
    func run(_ request: ActionRequest, confirm question: String?, quiet: Bool = false) async throws -> ActionOutcome {
        try await run(request, confirming: { _ in question }, quiet: quiet)
    }

    /// The same, with a question built from the command's session (it may read what it names).
    @discardableResult
    func run(_ request: ActionRequest, confirming question: (Session) async throws -> String?, quiet: Bool = false) async throws -> ActionOutcome {
        let context = try config.resolve()
        let session = try await config.session(context)
        let layer = session.actions(writer: RedisActions(redis: try redis(context)), spool: clickhouse.spool(context))
        if layer.refusal(request) == nil, let question = try await question(session) { try action.confirm(question) }
        let outcome: ActionOutcome
        do { outcome = try await layer.perform(request) } catch {
            await deliver(context)
            throw error
        }
        if !quiet {
            switch outcome.verified {
            case .replied: print("\(request.name) \(request.tenant) \(request.resource): done")
            case .readBack: print("\(request.name) \(request.tenant) \(request.resource): done (the reply was lost; reading back showed it applied)")
            case .unknown: print("\(request.name) \(request.tenant) \(request.resource): OUTCOME UNKNOWN; what it would be if it applied:")
            }
            if !outcome.before.isEmpty { print("  before: " + Self.describe(outcome.before)) }
            if !outcome.after.isEmpty { print("  after:  " + Self.describe(outcome.after)) }
        }
        await deliver(context)
        return outcome
    }

    /// Audit events go to ClickHouse now when it is configured; otherwise they wait in the spool.
    private func deliver(_ context: ContextConfig?) async {
        guard let audit = try? clickhouse.makeAudit(context: context) else {
            Output.note("audit event kept in \(clickhouse.spool(context).path); it goes to ClickHouse with the next run that has --clickhouse")
            return
        }
        await clickhouse.deliverSpool(to: audit, context: context)
    }

    /// `key=value` pairs; times (`..._at`, `..._until`) as ISO 8601, never raw epochs.
    static func describe(_ h: [String: String]) -> String {
        h.sorted { $0.key < $1.key }.map { key, value in
            let isTime = key.hasSuffix("_at") || key.hasSuffix("_until")
            let shown = isTime ? (Int64(value).map { $0 == 0 ? "never" : CivilDate(epochSeconds: $0).iso8601 } ?? value) : value
            return "\(key)=\(SafeText.clean(shown))"
        }.joined(separator: " ")
    }
}

struct ThrottleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "throttle", abstract: "Hold a tenant below its limits for a while.",
                                                    subcommands: [Set.self, Clear.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A lower limit on a route or on all routes, with an expiry and a reason.")
        @OptionGroup var context: ActionContext
        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "One route.") var route: String?
        @Flag(help: "Every route (the `_all` throttle).") var all = false
        @Option(help: "Requests per window while throttled: 500, 20k.") var limit: String
        @Option(name: .customLong("for"), help: "How long: 30m, 2h, 1d (mandatory).") var duration: String
        @Option(help: "Why (mandatory; goes to the audit log).") var reason: String

        func run() async throws {
            let t = try TenantID(tenant)
            let r = try Self.route(route, all: all)
            let request = try options { () throws(Backends.ValidationError) in
                try ActionRequest.throttle(t, route: r, limit: limit, for: duration, reason: reason)
            }
            guard case .throttleSet(_, _, let n, _, _) = request else { return }
            try ActionContext.settle(try await context.run(request, confirm: "throttle \(t) \(r) to \(n) for \(duration)"))
        }

        /// The route as typed, `_all` for `--all`; the request builder validates it.
        static func route(_ route: String?, all: Bool) throws -> String {
            switch (route, all) {
            case (let r?, false): return r
            case (nil, true): return Route.all.rawValue
            default: throw CLIFailure(.usage, "give exactly one of --route ROUTE or --all")
            }
        }
    }

    struct Clear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a throttle now.")
        @OptionGroup var context: ActionContext
        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "One route.") var route: String?
        @Flag(help: "The `_all` throttle.") var all = false

        func run() async throws {
            let t = try TenantID(tenant)
            let r = try Set.route(route, all: all)
            let request = try options { () throws(Backends.ValidationError) in try ActionRequest.throttleClear(t, route: r) }
            try ActionContext.settle(try await context.run(request, confirm: "clear the throttle of \(t) \(r)"))
        }
    }
}

struct BudgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "budget", abstract: "A tenant's monthly token budget.",
                                                    subcommands: [Raise.self])

    struct Raise: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A temporary limit for this month, with an expiry and a reason.")
        @OptionGroup var context: ActionContext
        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "The temporary limit, in tokens: 75000000, 75M.") var limit: String
        @Option(name: .customLong("for"), help: "How long: 24h, 3d (mandatory).") var duration: String
        @Option(help: "Why (mandatory; goes to the audit log).") var reason: String

        func run() async throws {
            let t = try TenantID(tenant)
            let request = try options { () throws(Backends.ValidationError) in
                try ActionRequest.budgetRaise(t, limit: limit, for: duration, reason: reason)
            }
            guard case .budgetRaise(_, let n, _, _) = request else { return }
            try ActionContext.settle(try await context.run(request, confirm: "raise the budget of \(t) to \(n) tokens for \(duration)"))
        }
    }
}
