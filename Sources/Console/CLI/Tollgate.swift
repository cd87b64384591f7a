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

    @Option(help: "Seconds between refreshes of live data (0.2-3600).")
    var refresh: Double = 1

    @Option(help: "Theme: a name from the themes folders (default, mono) or a path to a .toml file (default: the context's, else default).")
    var theme: String?

    func validate() throws {
        guard refresh.isFinite, (0.2...3600).contains(refresh) else {
            throw ValidationError("invalid --refresh \(refresh): must be between 0.2 and 3600 seconds")
        }
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
        if context?.readonly == true || ["1", "true", "yes"].contains(ProcessInfo.processInfo.environment["TOLLGATE_READONLY"]?.lowercased() ?? "") {
            model.badges.append("read-only")
        }
        let mailbox = Mailbox()
        let poller = Poller(reader: backend.fleet, mailbox: mailbox, interval: refresh, clock: clock)
        let loop = EventLoop(model: model, driver: driver, poller: poller, mailbox: mailbox, clock: clock)
        let status = loop.run()
        driver.shutdown()
        if status != 0 { throw ExitCode(status) }
    }
}
