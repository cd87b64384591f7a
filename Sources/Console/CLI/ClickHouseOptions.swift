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
        static let configuration = CommandConfiguration(abstract: "Create the database and the contract's tables if missing (idempotent).",
                                                        discussion: """
            With --cluster, the tables are laid out over the cluster's shards: each shard holds its rows in audit_log_local \
            and key_usage_local, and audit_log and key_usage are Distributed tables over them, sharded by cityHash64(tenant_id). \
            --clickhouse and each --shard are the shards' HTTP URLs, one per shard; they share --clickhouse's credentials.
            """)
        @OptionGroup var clickhouse: ClickHouseOptions
        @OptionGroup var config: SessionOptions

        @Option(help: ArgumentHelp("Lay the tables out over this cluster's shards (a name in the servers' remote_servers).", valueName: "name"))
        var cluster: String?

        @Option(name: .customLong("shard"), help: ArgumentHelp("The HTTP URL of another shard of --cluster (repeat it for each).", valueName: "url"))
        var shards: [String] = []

        func run() async throws {
            let context = try config.resolve()
            let audit = try clickhouse.makeAudit(context: context)
            if let cluster {
                let schema = try ClusterSchema(cluster: cluster, database: audit.database, servers: [audit.client] + shards.map { try shardClient($0, like: audit.client) })
                let laid = try await schema.apply()
                print("schema ready on cluster \(schema.cluster), \(laid.count) shard\(laid.count == 1 ? "" : "s") (\(laid.map { "\($0.number): \($0.server.url)" }.joined(separator: ", "))): "
                      + "\(audit.database).audit_log and \(audit.database).key_usage are Distributed over \(audit.database).audit_log_local and "
                      + "\(audit.database).key_usage_local, by cityHash64(tenant_id)")
            } else {
                guard shards.isEmpty else { throw CLIFailure(.usage, "--shard needs --cluster NAME: a shard is one of a cluster's") }
                try await audit.applySchema()
                print("schema ready: \(audit.database).audit_log, \(audit.database).key_usage")
            }
            await clickhouse.deliverSpool(to: audit, context: context)
        }

        /// A shard's client: --clickhouse's credentials and timeouts, at the shard's address.
        private func shardClient(_ text: String, like main: ClickHouseClient) throws -> ClickHouseClient {
            var url = try ClickHouseURL(parsing: text)
            guard url.password == nil else {
                throw CLIFailure(.usage, "a password in --shard \(url) shows in the process list (ps): the shards use --clickhouse's credentials")
            }
            if url.user == nil { (url.user, url.password) = (main.url.user, main.url.password) }
            return ClickHouseClient(url, connectTimeout: main.connectTimeout, timeout: main.timeout)
        }
    }
}
