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
        5 backend unavailable.
        """,
        version: "0.1.0",
        subcommands: [TenantsCommand.self, KeysCommand.self, AuditCommand.self, UsageCommand.self, ThrottleCommand.self, BudgetCommand.self, SchemaCommand.self]
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var config: ContextOptions

    @Flag(help: "Refuse every action, in the console and in every subcommand (env TOLLGATE_READONLY=1, or the context's readonly).")
    var readonly = false

    @Option(help: "Seconds between refreshes of live data (0.2-3600).")
    var refresh: Double = 1

    @Option(help: "Theme: a name from the themes folders (default, mono) or a path to a .toml file (default: the context's, else default).")
    var theme: String?

    func validate() throws {
        guard refresh.isFinite, (0.2...3600).contains(refresh) else {
            throw ValidationError("invalid --refresh \(refresh): must be between 0.2 and 3600 seconds")
        }
    }

    /// The console's action layer: on the demo, actions change the simulation and their audit
    /// events go to a throwaway spool; on Redis, they are real and audited to the context's spool.
    func actionLayer(backend: Backend, context: ContextConfig?) throws -> ActionLayer {
        let spool = backend.isDemo
            ? AuditSpool(path: NSTemporaryDirectory() + "tollgate-demo-\(getpid())/audit-spool.jsonl")
            : ClickHouseOptions.spool(flag: nil, context: context)
        return try localActionLayer(writer: backend.writer, spool: spool, context: context)
    }

    func run() async throws {
        let clock = SystemClock()
        let context = try config.resolve()
        let backend = try source.makeBackend(clock: clock, context: context)
        let theme = try ThemeLoader.load(self.theme ?? context?.theme ?? "default")
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw CLIFailure(.usage, "the console needs a terminal; for scripts use `tollgate tenants list --json`")
        }

        TerminalGuard.install()
        let driver = CursesDriver(theme: theme)
        let size = driver.size
        var model = AppModel(width: size.width, height: size.height, now: clock.now(), source: backend.label)
        model.badges = context.map { ["context \($0.name)"] } ?? []
        let layer = try actionLayer(backend: backend, context: context)
        if layer.readonly { model.badges.append("read-only") }
        model.badges.append("\(layer.op.name) (\(layer.op.role.rawValue), unauthenticated)")
        model.actionsRefused = layer.refusal(.throttleSet(try TenantID("x"), .all, limit: 0, duration: 1, reason: "-"))
        let mailbox = Mailbox()
        let poller = Poller(reader: backend.fleet, mailbox: mailbox, interval: refresh, clock: clock)
        let loop = EventLoop(model: model, driver: driver, poller: poller, mailbox: mailbox, clock: clock) { request in
            do throws(BackendError) {
                let outcome = try await layer.perform(request)
                return ("\(request.name) \(request.tenant): done" + (outcome.after["limit"].map { ", limit \($0)" } ?? ""), false)
            } catch {
                return ("\(request.name) \(request.tenant): \(error.description)", true)
            }
        }
        let status = loop.run()
        driver.shutdown()
        if status != 0 { throw ExitCode(status) }
    }
}
