import ArgumentParser
import Foundation
import Backends
import Views
#if canImport(Glibc)
import Glibc
#endif

@main
struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "Operator console for a multi-tenant API + AI + agent gateway.",
        discussion: """
        With no subcommand, opens the live tenant overview. `--demo` runs it on the embedded demo \
        gateway, which needs no services.

        Exit codes: 0 ok, 1 failure, 2 bad usage or input, 3 conflict, 4 permission denied, \
        5 backend unavailable, 6 an action's outcome is unknown (no reply, and the store stayed unreachable).
        """,
        version: "0.1.0",
        subcommands: [TenantsCommand.self, KeysCommand.self, AuditCommand.self, UsageCommand.self, ThrottleCommand.self, BudgetCommand.self,
                      SchemaCommand.self, SimulateCommand.self, SessionsCommand.self, LoginCommand.self, LogoutCommand.self, WhoamiCommand.self]
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var clickhouse: ClickHouseOptions
    @OptionGroup var config: SessionOptions

    @Option(help: "Seconds between refreshes of live data (0.2-3600).")
    var refresh: Double = 1

    @Option(help: "Theme: built in (default, light, mono), a NAME.toml in the themes folder, or a path (default: the context's, else default; NO_COLOR: mono).")
    var theme: String?

    func validate() throws {
        guard refresh.isFinite, (0.2...3600).contains(refresh) else {
            throw ValidationError("invalid --refresh \(refresh): must be between 0.2 and 3600 seconds")
        }
    }

    func run() async throws {
        let clock = SystemClock()
        let context = try config.resolve()
        let session = try makeSession(context: context, identity: try await signedIn(context), clock: clock, flags: true)
        let theme = try ThemeLoader.load(self.theme ?? context?.theme ?? (Env.value("NO_COLOR") != nil ? "mono" : "default"))
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw CLIFailure(.usage, "the console needs a terminal; for scripts use `tollgate tenants list --json`")
        }

        TerminalGuard.install()
        let command = self   // read by the UI thread, for `:ctx`
        let status = await onOwnThread {
            let driver = CursesDriver(theme: theme)
            defer { driver.shutdown() }
            let size = driver.size
            let runtime = Runtime(session: session, clock: clock) { name in
                let context = try command.config.resolve(named: name)
                return try command.makeSession(context: context, identity: try command.config.sessionWaiting(context), clock: clock, flags: false)
            }
            let model = AppModel(width: size.width, height: size.height, now: clock.now(), session: session.info)
            return EventLoop(model: model, driver: driver, runtime: runtime, loadTheme: ThemeLoader.load).run()
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// Who opens the console. With Keycloak and no valid token, on a terminal, the operator signs
    /// in first with the device grant, as `tollgate login` does, and the console then opens.
    func signedIn(_ context: ContextConfig?) async throws -> Session {
        do { return try await config.session(context) } catch BackendError.denied(let why) {
            guard isatty(STDIN_FILENO) == 1, let settings = try config.keycloakSettings(context), settings.clientSecret == nil else { throw BackendError.denied(why) }
            print("tollgate: \(SafeText.clean(why))")
            let v = try await LoginCommand.deviceSignIn(KeycloakSession(settings: settings))
            print("signed in as \(Identity.describe(v)); opening the console")
            return try await config.session(context)
        }
    }

    /// The console's session for a context: its stores, the action layer and who acts. `flags`
    /// false (`:ctx NAME`): the context's own stores, not the ones the command line named.
    func makeSession(context: ContextConfig?, identity: Session, clock: any Clock, flags: Bool) throws -> ConsoleSession {
        let source = flags ? self.source : self.source.contextOnly
        let clickhouse = flags ? self.clickhouse : self.clickhouse.contextOnly
        let backend = try source.makeBackend(clock: clock, context: context)
        let spool = backend.isDemo
            ? AuditSpool(path: NSTemporaryDirectory() + "tollgate-demo-\(getpid())/audit-spool.jsonl")
            : clickhouse.spool(context)
        let layer = identity.actions(writer: backend.writer, spool: spool)
        let reads = identity.reads(spool: backend.isDemo ? nil : spool)
        var audit: (any AuditReading)?, usage: (any UsageReading)?, deliver: (@Sendable () async -> Void)?
        var auditStore: String?
        if let demo = backend.demo {
            audit = demo
            usage = demo
            auditStore = "demo audit"
        } else if let ch = try clickhouse.makeAuditIfConfigured(context: context) {
            audit = ch
            usage = try ClickHouseUsage(client: ch.client, database: ch.database, clock: clock)
            auditStore = "clickhouse"
            deliver = { _ = try? await spool.drain(to: ch) }   // what fails stays spooled for the next delivery
        }
        // Identities: the demo's own, or Keycloak's admin API when its admin client is configured.
        var identities: (any IdentityReading)?, identityStore: String?
        if let demo = backend.demo {
            (identities, identityStore) = (demo, "demo keycloak")
        } else if let settings = identity.keycloak?.settings, settings.adminClient != nil {
            (identities, identityStore) = (TenantIdentities(tenants: backend.tenants, admin: try KeycloakAdmin(settings: settings)), "keycloak")
        }
        let info = SessionInfo(context: context?.name, source: backend.label, policy: layer.policy, liveStore: backend.isDemo ? "demo" : "redis",
                               auditStore: auditStore, identityStore: identityStore, contexts: (try? config.contextNames()) ?? [],
                               themes: ThemeLoader.names(), refresh: refresh)
        return ConsoleSession(info: info, fleet: reads.fleet(backend.fleet), tenants: reads.tenants(backend.tenants),
                              keyWatch: reads.keyWatch(backend.keyWatch), audit: audit.map(reads.audit), usage: usage.map(reads.usage),
                              identities: identities.map(reads.identities), actions: layer, reads: reads, deliver: deliver)
    }
}
