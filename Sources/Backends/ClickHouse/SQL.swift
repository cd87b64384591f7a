/// The one place SQL literals are made. ClickHouse 18.16 has no query parameters, so every value
/// that enters a query goes through `literal` (strings) or is a validated number or identifier.
public enum SQL {
    /// A ClickHouse string literal: single quotes; backslash, quote and every control byte escaped,
    /// so the value is read back byte for byte and never ends the literal.
    public static func literal(_ s: String) -> String {
        var out = "'"
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "'"
    }

    /// An integer literal.
    public static func literal(_ n: Int64) -> String { String(n) }
}

/// The contract's ClickHouse schema (database `gateway`), kept in one type. The DDL runs unchanged
/// on ClickHouse 18.16 and on current releases.
public enum SQLSchema {
    public static let auditColumns = ["tenant_id", "ts", "ts_ms", "event_id", "actor", "actor_type", "action", "resource",
                                      "outcome", "ip", "request_id", "detail"]

    /// The contract's layout on one server: two MergeTree tables.
    public static func statements(database: String) -> [String] {
        ["CREATE DATABASE IF NOT EXISTS \(database)", auditTable("\(database).audit_log"), usageTable("\(database).key_usage")]
    }

    /// The layout on every shard of `cluster`: the rows in `audit_log_local` and `key_usage_local`
    /// (the contract's MergeTree tables), and `audit_log` and `key_usage` as Distributed tables over
    /// them, sharded by a hash of tenant_id, so a tenant's rows are on one shard and every read
    /// runs unchanged. `cluster` is a validated name (`validCluster`).
    public static func shardStatements(database: String, cluster: String) -> [String] {
        func distributed(_ table: String) -> String {
            "CREATE TABLE IF NOT EXISTS \(database).\(table) AS \(database).\(table)_local "
                + "ENGINE = Distributed(\(SQL.literal(cluster)), \(SQL.literal(database)), \(SQL.literal(table + "_local")), cityHash64(tenant_id))"
        }
        return ["CREATE DATABASE IF NOT EXISTS \(database)", auditTable("\(database).audit_log_local"), usageTable("\(database).key_usage_local"),
                distributed("audit_log"), distributed("key_usage")]
    }

    static func auditTable(_ name: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(name) (
          tenant_id String, ts DateTime, ts_ms UInt16, event_id String, actor String, actor_type String,
          action String, resource String, outcome String, ip String, request_id String, detail String
        ) ENGINE = MergeTree() PARTITION BY toYYYYMM(ts) ORDER BY (tenant_id, ts)
        """
    }

    static func usageTable(_ name: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(name) (
          tenant_id String, ts DateTime, key_id String, route String, status UInt16,
          tokens_in UInt32, tokens_out UInt32, latency_ms UInt32
        ) ENGINE = MergeTree() PARTITION BY toYYYYMM(ts) ORDER BY (tenant_id, ts)
        """
    }

    /// An insert returns once its rows are on their shard (a Distributed table otherwise queues
    /// them), so what was written is read back at once; a MergeTree table ignores the setting.
    public static let insertSettings: KeyValuePairs<String, String> = ["insert_distributed_sync": "1"]

    /// Cluster names come from `remote_servers` in the server's config (XML element names).
    public static func validCluster(_ name: String) throws(ValidationError) -> String {
        let ok = !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E }
            && !(name.utf8.first.map { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E } ?? true)
        guard ok else { throw ValidationError(field: "ClickHouse cluster", value: name, rule: "must match ^[A-Za-z_][A-Za-z0-9_.-]{0,63}$ (a name in remote_servers)") }
        return name
    }

    /// Database names are identifiers, not literals: letters, digits and `_` only.
    public static func validDatabase(_ name: String) throws(ValidationError) -> String {
        let ok = !name.isEmpty && name.count <= 64 && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
            && !(name.utf8.first.map { $0 >= 0x30 && $0 <= 0x39 } ?? true)
        guard ok else { throw ValidationError(field: "ClickHouse database", value: name, rule: "must match ^[A-Za-z_][A-Za-z0-9_]{0,63}$") }
        return name
    }

    /// The newest-first audit read of one tenant. The tenant predicate is built here from a
    /// validated `TenantID`, so no audit query can be sent without it. Each event_id shows once.
    public static func auditTail(_ q: AuditQuery, database: String) -> String {
        var conditions = ["tenant_id = \(SQL.literal(q.tenant.rawValue))"]
        if let since = q.since { conditions.append("ts >= toDateTime(\(SQL.literal(since)))") }
        if let before = q.before { conditions.append("ts < toDateTime(\(SQL.literal(before)))") }
        if let c = q.olderThan {
            // The primary key's range first, then the rows of its second that sort before it.
            let t = "toDateTime(\(SQL.literal(c.ts)))"
            conditions.append("ts <= \(t) AND (ts < \(t) OR ts_ms < \(c.ms) OR (ts_ms = \(c.ms) AND event_id < \(SQL.literal(c.eventID))))")
        }
        if let p = q.actionPrefix {
            if !p.isEmpty { conditions.append("position(action, \(SQL.literal(p))) = 1") }
        } else if let a = q.action {
            conditions.append("action = \(SQL.literal(a))")
        }
        if let a = q.actor { conditions.append("actor = \(SQL.literal(a))") }
        if let o = q.outcome { conditions.append("outcome = \(SQL.literal(o))") }
        if let g = q.grep { conditions.append("position(detail, \(SQL.literal(g))) > 0") }
        if let id = q.eventID { conditions.append("event_id = \(SQL.literal(id))") }
        return """
        SELECT tenant_id, toUInt32(ts) AS ts, ts_ms, event_id, actor, actor_type, action, resource, outcome, ip, request_id, detail
        FROM \(database).audit_log
        WHERE \(conditions.joined(separator: " AND "))
        ORDER BY \(q.oldestFirst ? "ts, ts_ms, event_id" : "ts DESC, ts_ms DESC, event_id DESC")
        LIMIT 1 BY event_id
        LIMIT \(max(1, min(q.limit, 100_000)))
        FORMAT JSONEachRow
        """
    }
}
