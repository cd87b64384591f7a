/// The contract's tables laid out over the shards of a ClickHouse cluster (`schema apply --cluster`,
/// docs/clickhouse.md): on each shard the rows live in `audit_log_local` and `key_usage_local`, and
/// `audit_log` and `key_usage` are Distributed tables over them, so every read and insert of the
/// console runs unchanged on any shard.
///
/// ClickHouse's own `ON CLUSTER` needs ZooKeeper, so each shard is reached over its own HTTP URL,
/// and each server says which shard it is (`system.clusters`, `is_local`). Everything is checked
/// on every shard before anything is created.
public struct ClusterSchema: Sendable {
    public struct Shard: Sendable {
        public let number: Int
        /// Where the cluster reaches it (host:TCP port, from remote_servers).
        public let address: String
        public let server: ClickHouseClient
    }

    public let cluster: String
    public let database: String
    /// The servers given: any order, one per shard.
    public let servers: [ClickHouseClient]

    public init(cluster: String, database: String, servers: [ClickHouseClient]) throws(ValidationError) {
        self.cluster = try SQLSchema.validCluster(cluster)
        self.database = try SQLSchema.validDatabase(database)
        self.servers = servers
    }

    /// Creates what is missing on every shard. Idempotent; refuses, changing nothing, when a server
    /// is not a shard of the cluster, a shard has no server or two, a shard is replicated, or a
    /// table of the layout exists with another engine (the single-server layout, say).
    @discardableResult
    public func apply() async throws(BackendError) -> [Shard] {
        let shards = try await plan()
        for shard in shards {
            for statement in SQLSchema.shardStatements(database: database, cluster: cluster) { _ = try await shard.server.execute(statement) }
        }
        return shards
    }

    /// Which server is which shard, checked.
    public func plan() async throws(BackendError) -> [Shard] {
        guard let first = servers.first else { throw .failed("no ClickHouse server given for cluster \(cluster)") }
        let layout = try await shardsOf(first)
        var found: [Int: ClickHouseClient] = [:]
        for server in servers {
            guard let number = try await localShard(server) else {
                throw .failed("\(server.url) is not a shard of cluster \(cluster): no entry of its system.clusters is itself (is_local)")
            }
            if let other = found[number] { throw .failed("\(other.url) and \(server.url) are both shard \(number) of cluster \(cluster)") }
            found[number] = server
            try await checkTables(server, shard: number)
        }
        return try layout.map { (number, replicas) throws(BackendError) in
            guard replicas.count == 1 else {
                throw .failed("shard \(number) of cluster \(cluster) has \(replicas.count) replicas (\(replicas.joined(separator: ", "))): "
                              + "tollgate lays out unreplicated shards only (one replica each)")
            }
            guard let server = found[number] else {
                throw .notFound("no server given for shard \(number) of cluster \(cluster) (\(replicas[0]) in remote_servers): every shard needs its HTTP URL")
            }
            return Shard(number: number, address: replicas[0], server: server)
        }
    }

    /// The cluster's shards and their replicas' addresses, as `server` knows them.
    private func shardsOf(_ server: ClickHouseClient) async throws(BackendError) -> [(Int, [String])] {
        let rows = try await rowsOf(server, "SELECT shard_num, host_name, port FROM system.clusters WHERE cluster = \(SQL.literal(cluster)) ORDER BY shard_num, replica_num")
        guard !rows.isEmpty else {
            let known = try await rowsOf(server, "SELECT DISTINCT cluster FROM system.clusters ORDER BY cluster").compactMap(\.first)
            throw .notFound("\(server.url) has no cluster \(SafeText.quoted(cluster, limit: 70)) in its remote_servers; it knows "
                            + (known.isEmpty ? "none" : known.map { SafeText.quoted($0, limit: 70) }.joined(separator: ", ")))
        }
        var shards: [(Int, [String])] = []
        for row in rows {
            guard row.count == 3, let number = Int(row[0]) else { throw .failed("system.clusters: unexpected row") }
            let address = "\(safe(row[1], 100)):\(safe(row[2], 10))"
            if shards.last?.0 == number { shards[shards.count - 1].1.append(address) } else { shards.append((number, [address])) }
        }
        return shards
    }

    private func localShard(_ server: ClickHouseClient) async throws(BackendError) -> Int? {
        let rows = try await rowsOf(server, "SELECT DISTINCT shard_num FROM system.clusters WHERE cluster = \(SQL.literal(cluster)) AND is_local")
        guard rows.count <= 1 else { throw .failed("\(server.url) is more than one shard of cluster \(cluster)") }
        return rows.first.flatMap { $0.first }.flatMap { Int($0) }
    }

    /// The layout's tables that exist must have its engines: a MergeTree `audit_log` holds the rows of
    /// the single-server layout, which a Distributed table of that name would hide.
    private func checkTables(_ server: ClickHouseClient, shard: Int) async throws(BackendError) {
        let expected = ["audit_log": "Distributed", "key_usage": "Distributed", "audit_log_local": "MergeTree", "key_usage_local": "MergeTree"]
        let names = expected.keys.sorted().map(SQL.literal).joined(separator: ", ")
        for row in try await rowsOf(server, "SELECT name, engine FROM system.tables WHERE database = \(SQL.literal(database)) AND name IN (\(names))") {
            guard row.count == 2, let want = expected[row[0]] else { continue }
            if row[1] != want {
                let hint = row[1] == "MergeTree" && !row[0].hasSuffix("_local")
                    ? " (RENAME TABLE \(database).\(row[0]) TO \(database).\(row[0])_local keeps its rows as this shard's)" : ""
                throw .conflict("\(database).\(row[0]) on shard \(shard) (\(server.url)) is a \(safe(row[1], 40)) table where the cluster layout "
                                + "needs a \(want) one; nothing was changed\(hint)")
            }
        }
    }

    private func safe(_ text: String, _ limit: Int) -> String { SafeText.clean(String(text.prefix(limit))) }

    private func rowsOf(_ server: ClickHouseClient, _ sql: String) async throws(BackendError) -> [[String]] {
        TSV.rows(try await server.execute(sql + " FORMAT TabSeparated")).map { $0.map { String(decoding: $0, as: UTF8.self) } }
    }
}
