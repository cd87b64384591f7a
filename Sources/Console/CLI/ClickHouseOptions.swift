import ArgumentParser
import Backends
import Foundation

/// Where the audit log lives. Precedence: flags, then environment (TOLLGATE_CLICKHOUSE_URL).
struct ClickHouseOptions: ParsableArguments {
    @Option(name: .customLong("clickhouse"), help: ArgumentHelp(
        "ClickHouse HTTP interface: http://[user:password@]host:port (env TOLLGATE_CLICKHOUSE_URL).", valueName: "url"))
    var url: String?

    @Option(name: .customLong("clickhouse-database"), help: "Database of the gateway's tables (default gateway).")
    var database: String?

    @Option(name: .customLong("clickhouse-timeout"), help: "Seconds allowed for one query (0.1-600).")
    var timeout: Double = 10

    @Option(name: .customLong("clickhouse-password-file"), help: ArgumentHelp(
        "The ClickHouse password, read from this file's first line (a password in --clickhouse would show in ps).", valueName: "path"))
    var passwordFile: String?

    @Option(name: .customLong("spool"), help: ArgumentHelp(
        "The local spool of tollgate's own audit events (env TOLLGATE_SPOOL; default $XDG_STATE_HOME/tollgate/audit-spool.jsonl).", valueName: "path"))
    var spoolPath: String?

    /// Read the environment (TOLLGATE_CLICKHOUSE_URL); false when a context alone must decide.
    var fromEnvironment = true

    /// These options for another context: its own ClickHouse, not the one flags or the environment named.
    var contextOnly: ClickHouseOptions {
        var o = self
        o.url = nil
        o.fromEnvironment = false
        return o
    }

    enum CodingKeys: String, CodingKey { case url, database, timeout, passwordFile, spoolPath }

    func spool(_ context: ContextConfig?) -> AuditSpool { Self.spool(flag: spoolPath, context: context) }

    /// The spool at `--spool`, else TOLLGATE_SPOOL, else the context's, else the default path.
    static func spool(flag: String?, context: ContextConfig?) -> AuditSpool {
        AuditSpool(path: flag ?? Env.value("TOLLGATE_SPOOL") ?? context?.spool ?? AuditSpool.defaultPath())
    }

    /// Delivers what earlier runs could not. A failure here leaves the events in the spool and
    /// does not stop the command: they go with the next run.
    func deliverSpool(to audit: ClickHouseAudit, context: ContextConfig?) async {
        let spool = spool(context)
        do throws(BackendError) {
            let n = try await spool.drain(to: audit)
            if n > 0 { Output.note("delivered \(n) spooled audit event\(n == 1 ? "" : "s") to ClickHouse") }
        } catch {
            Output.note("audit events stay in \(spool.path) for the next run: \(error.description)")
        }
    }

    /// The guard of `session`'s reads, after checking that it may read `kind` of `tenant`: a
    /// refusal (exit 4) is audited and delivered at once. Delivers the spool either way.
    func reads(_ kind: ReadKind, of tenant: TenantID, session: Session, audit: ClickHouseAudit) async throws -> ReadGuard {
        let reads = session.reads(spool: spool(session.context))
        do throws(BackendError) { try reads.check(kind, tenant) } catch {
            await deliverSpool(to: audit, context: session.context)
            throw error
        }
        await deliverSpool(to: audit, context: session.context)
        return reads
    }

    /// Runs a read of the live stores; when the guard refuses it, the audit of that refusal goes
    /// to ClickHouse at once if one is configured (else it waits in the spool).
    func deliveringRefusals<T>(_ session: Session, _ read: () async throws -> T) async throws -> T {
        do { return try await read() } catch BackendError.denied(let why) {
            await deliverIfConfigured(session.context)
            throw BackendError.denied(why)
        }
    }

    /// Delivers the spool when a ClickHouse is configured; without one the events wait in it.
    func deliverIfConfigured(_ context: ContextConfig?) async {
        if let audit = try? makeAuditIfConfigured(context: context) { await deliverSpool(to: audit, context: context) }
    }

    func makeAudit(context: ContextConfig?) throws -> ClickHouseAudit {
        guard let audit = try makeAuditIfConfigured(context: context) else {
            throw CLIFailure(.usage, "no ClickHouse configured: pass --clickhouse URL, set TOLLGATE_CLICKHOUSE_URL, or give the context a clickhouse")
        }
        return audit
    }

    /// The audit log's ClickHouse, or nil when none is configured (the console then says so).
    func makeAuditIfConfigured(context: ContextConfig?) throws -> ClickHouseAudit? {
        guard timeout.isFinite, (0.1...600).contains(timeout) else {
            throw CLIFailure(.usage, "invalid --clickhouse-timeout \(timeout): must be between 0.1 and 600 seconds")
        }
        let env = fromEnvironment ? Env.value("TOLLGATE_CLICKHOUSE_URL") : nil
        guard let text = url ?? env ?? context?.clickhouse else { return nil }
        var parsed = try ClickHouseURL(parsing: text)
        if url != nil && parsed.password != nil {
            throw CLIFailure(.usage, "a password in --clickhouse shows in the process list (ps): pass it with --clickhouse-password-file, "
                             + "TOLLGATE_CLICKHOUSE_URL or the context's clickhouse-password-file")
        }
        if parsed.password == nil, let file = passwordFile { parsed.password = try SecretFile.read(file, "--clickhouse-password-file") }
        if parsed.password == nil, let p = context?.clickhousePassword { parsed.password = p }
        return try ClickHouseAudit(client: ClickHouseClient(parsed, connectTimeout: min(timeout, 2), timeout: timeout),
                                   database: database ?? context?.clickhouseDatabase ?? "gateway")
    }
}

struct SchemaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "schema", abstract: "The gateway's ClickHouse tables.",
                                                    subcommands: [Apply.self])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the database and the contract's tables if missing (idempotent).")
        @OptionGroup var clickhouse: ClickHouseOptions
        @OptionGroup var config: SessionOptions

        func run() async throws {
            let context = try config.resolve()
            let audit = try clickhouse.makeAudit(context: context)
            try await audit.applySchema()
            print("schema ready: \(audit.database).audit_log, \(audit.database).key_usage")
            await clickhouse.deliverSpool(to: audit, context: context)
        }
    }
}
