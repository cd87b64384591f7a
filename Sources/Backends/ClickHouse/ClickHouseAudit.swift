import Foundation

/// Audit reads and writes over ClickHouse (`gateway.audit_log`), and the schema.
public final class ClickHouseAudit: AuditReading {
    public let client: ClickHouseClient
    public let database: String

    public init(client: ClickHouseClient, database: String = "gateway") throws(ValidationError) {
        self.client = client
        self.database = try SQLSchema.validDatabase(database)
    }

    /// Creates the database and the contract's tables when missing. Idempotent.
    public func applySchema() async throws(BackendError) {
        for statement in SQLSchema.statements(database: database) { _ = try await client.execute(statement) }
    }

    public func audit(_ query: AuditQuery) async throws(BackendError) -> [AuditEvent] {
        let body = try await client.execute(SQLSchema.auditTail(query, database: database).replacingFormat("TabSeparated"))
        var events: [AuditEvent] = []
        for row in TSV.rows(body) {
            guard row.count == 12 else { throw .failed("audit_log: a row has \(row.count) columns, expected 12") }
            let text = row.map { String(decoding: $0, as: UTF8.self) }
            // The tenant comes back from the WHERE clause; a row of another tenant is a bug, not data.
            guard text[0] == query.tenant.rawValue, let ts = Int64(text[1]), let ms = UInt16(text[2]) else {
                throw .failed("audit_log: unexpected row for tenant \(SafeText.quoted(text[0], limit: 70))")
            }
            events.append(AuditEvent(tenant: query.tenant, ts: ts, tsMs: ms, eventID: text[3], actor: text[4], actorType: text[5],
                                     action: text[6], resource: text[7], outcome: text[8], ip: text[9], requestID: text[10], detail: text[11]))
        }
        return events
    }

    /// Which of `events` are already in the table: a range read of their tenants' part of the key.
    public func arrived(_ events: [AuditEvent]) async throws(BackendError) -> Set<String> {
        guard !events.isEmpty else { return [] }
        let tenants = Set(events.map(\.tenant.rawValue)).sorted().map(SQL.literal).joined(separator: ", ")
        let ids = Set(events.map(\.eventID)).sorted().map(SQL.literal).joined(separator: ", ")
        let body = try await client.execute("SELECT DISTINCT event_id FROM \(database).audit_log WHERE tenant_id IN (\(tenants)) AND event_id IN (\(ids)) FORMAT TabSeparated")
        return Set(TSV.rows(body).compactMap { $0.first.map { String(decoding: $0, as: UTF8.self) } })
    }

    /// Appends events (the console's own, and test fixtures). Every value goes through `SQL.literal`.
    public func insert(_ events: [AuditEvent]) async throws(BackendError) {
        guard !events.isEmpty else { return }
        let rows = events.map { e in
            "(" + [SQL.literal(e.tenant.rawValue), "toDateTime(\(SQL.literal(e.ts)))", String(e.tsMs), SQL.literal(e.eventID),
                   SQL.literal(e.actor), SQL.literal(e.actorType), SQL.literal(e.action), SQL.literal(e.resource),
                   SQL.literal(e.outcome), SQL.literal(e.ip), SQL.literal(e.requestID), SQL.literal(e.detail)].joined(separator: ", ") + ")"
        }
        _ = try await client.execute("INSERT INTO \(database).audit_log (\(SQLSchema.auditColumns.joined(separator: ", "))) VALUES " + rows.joined(separator: ", "),
                                     settings: SQLSchema.insertSettings)
    }
}

extension String {
    /// Swaps the trailing `FORMAT X` of a query built by SQLSchema.
    func replacingFormat(_ format: String) -> String {
        guard let r = range(of: "FORMAT ", options: .backwards) else { return self + " FORMAT " + format }
        return String(self[..<r.upperBound]) + format
    }
}

/// ClickHouse's TabSeparated output: rows end at an unescaped newline, fields at a tab, and
/// `\b \f \r \n \t \0 \' \\` (and `\xHH`) are escapes. Fields come back as raw bytes.
enum TSV {
    static func rows(_ body: [UInt8]) -> [[[UInt8]]] {
        var rows: [[[UInt8]]] = []
        var row: [[UInt8]] = []
        var field: [UInt8] = []
        var i = 0
        while i < body.count {
            let b = body[i]
            switch b {
            case 0x09:
                row.append(field); field = []
            case 0x0A:
                row.append(field); field = []
                rows.append(row); row = []
            case 0x5C where i + 1 < body.count:
                i += 1
                switch body[i] {
                case UInt8(ascii: "b"): field.append(0x08)
                case UInt8(ascii: "f"): field.append(0x0C)
                case UInt8(ascii: "r"): field.append(0x0D)
                case UInt8(ascii: "n"): field.append(0x0A)
                case UInt8(ascii: "t"): field.append(0x09)
                case UInt8(ascii: "0"): field.append(0x00)
                case UInt8(ascii: "x") where i + 2 < body.count:
                    if let v = UInt8(String(decoding: body[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                        field.append(v)
                        i += 2
                    } else {
                        field.append(UInt8(ascii: "x"))
                    }
                default: field.append(body[i])
                }
            default:
                field.append(b)
            }
            i += 1
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
