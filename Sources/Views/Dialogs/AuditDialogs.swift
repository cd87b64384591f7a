import Backends

/// The audit screen's filter: a form over `AuditQuery.typed`, the builder `audit tail` uses.
public enum AuditDialogs {
    public static func filter(_ q: AuditQuery, now: Double) -> FormDialog {
        let tenant = q.tenant
        func iso(_ t: Int64?) -> String { t.map { CivilDate(epochSeconds: $0).iso8601 } ?? "" }
        return FormDialog(
            title: "filter the audit of \(tenant)", submitLabel: "filter",
            notes: [("empty fields match everything; matching is literal (no % or _ wildcards)", .dim)],
            fields: [FormDialog.Field("action", q.action ?? "", hint: "key.rotate, or a prefix: key.*"),
                     FormDialog.Field("actor", q.actor ?? "", hint: "an operator, a key id, gateway"),
                     FormDialog.Field("outcome", q.outcome ?? "", hint: AuditOutcome.allCases.map(\.rawValue).joined(separator: ", ")),
                     FormDialog.Field("since", iso(q.since), hint: "1h, 7d, or 2026-11-27T17:00:00Z"),
                     FormDialog.Field("until", iso(q.before), hint: "the same forms")],
            focus: 0,
            result: { v throws(ValidationError) in
                .auditQuery(try AuditQuery.typed(tenant, limit: AuditScreen.pageSize, action: v[0], actor: v[1], outcome: v[2],
                                                 since: v[3], until: v[4], now: Int64(now)))
            },
            explain: { v in
                guard let q = try? AuditQuery.typed(tenant, action: v[0], actor: v[1], outcome: v[2], since: v[3], until: v[4], now: Int64(now))
                else { return nil }
                return AuditScreen.describe(q).map { "only events with \($0), newest first, then followed" } ?? "every event, newest first, then followed"
            })
    }
}
