import Backends

/// The key dialogs (create, rotate, revoke), each a form over its request builder, and the
/// notice with every field of a key. Revoking, rotating with no grace and rotating a successor
/// whose predecessor is still in grace need the tenant id typed to confirm.
public enum KeyDialogs {
    public static func create(_ tenant: TenantID, now: Double) -> FormDialog {
        FormDialog(
            title: "create a key for \(tenant)", submitLabel: "create",
            notes: [("the secret is shown once, right after; tollgate keeps only its SHA-256", .dim)],
            fields: [FormDialog.Field("label", hint: "what the key is for"),
                     FormDialog.Field("scopes", hint: "comma-separated, e.g. chat,embeddings (may be empty)"),
                     FormDialog.Field("expires", "90d", hint: "90d, 12w, or never")],
            build: { v throws(ValidationError) in try ActionRequest.keyCreate(tenant, label: v[0], scopes: v[1], expires: v[2]) },
            explain: { v in
                guard case .keyCreate(_, let label, let scopes, let expiresIn)? = try? ActionRequest.keyCreate(tenant, label: v[0], scopes: v[1], expires: v[2])
                else { return nil }
                let expiry = expiresIn == 0 ? "that never expires" : "expiring \(Format.when(Int64(now) + expiresIn, now: now)) (in \(Format.duration(Double(expiresIn))))"
                return "a new key \(SafeText.quoted(label)) for \(tenant)" + (scopes.isEmpty ? ", no scopes" : ", scopes \(scopes.joined(separator: ", "))")
                    + ", \(expiry); its secret is shown once"
            })
    }

    public static func rotate(_ key: APIKey, among keys: [APIKey], tenant: TenantID, now: Double) -> FormDialog {
        var notes: [(String, Role)] = [(describe(key, now: now), .normal)]
        // The successor of a key still in grace: rotating it too leaves clients on the way out twice.
        let warning: String? = key.replaces.flatMap { p in keys.first { $0.id == p } }.flatMap { previous in
            guard previous.state(at: now) == .rotating, let g = previous.graceUntil else { return nil }
            return "\(key.id) replaced \(previous.id), which is still in grace until \(Format.when(g, now: now)): clients may not have moved to \(key.id) yet"
        }
        if let warning { notes.append((warning + ". Type the tenant id to rotate anyway.", .warn)) }
        let id = key.id.rawValue
        let inherited = key.expiresAt == 0 ? "never" : Format.when(key.expiresAt, now: now)
        return FormDialog(
            title: "rotate \(key.id) of \(tenant)", submitLabel: "rotate", notes: notes,
            fields: [FormDialog.Field("grace", "24h", hint: "how long the old key keeps working; 0 revokes it now"),
                     FormDialog.Field("expires", "inherit", hint: "the new key's expiry: inherit (\(inherited)), never, or 90d"),
                     FormDialog.Field("confirm", hint: "type \(tenant) (needed with grace 0)")],
            focus: 0,
            build: { v throws(ValidationError) in
                let request = try ActionRequest.keyRotate(tenant, key: id, grace: v[0], expires: v[1])
                guard case .keyRotate(_, _, let grace, _) = request else { return request }
                if grace == 0 || warning != nil { try confirm(v[2], tenant, why: grace == 0 ? "a rotation with no grace revokes \(id) at once" : "see the warning") }
                return request
            },
            explain: { v in
                guard case .keyRotate(_, _, let grace, let expiresIn)? = try? ActionRequest.keyRotate(tenant, key: id, grace: v[0], expires: v[1]) else { return nil }
                let old = grace == 0 ? "\(id) is revoked at once: requests with it fail from now"
                                     : "\(id) keeps working until \(Format.when(Int64(now) + grace, now: now)), then is retired"
                let new = expiresIn.map { $0 == 0 ? "the new key never expires" : "the new key expires \(Format.when(Int64(now) + $0, now: now))" }
                    ?? "the new key expires \(inherited == "never" ? "never" : inherited), as \(id) does"
                return "\(old); \(new); its secret is shown once"
            })
    }

    public static func revoke(_ key: APIKey, tenant: TenantID, now: Double) -> FormDialog {
        let id = key.id.rawValue
        return FormDialog(
            title: "revoke \(key.id) of \(tenant)", submitLabel: "revoke", notes: [(describe(key, now: now), .normal)],
            fields: [FormDialog.Field("reason", hint: "why: goes to the audit log", limit: 500),
                     FormDialog.Field("confirm", hint: "type \(tenant) to confirm")],
            build: { v throws(ValidationError) in
                let request = try ActionRequest.keyRevoke(tenant, key: id, reason: v[0])
                try confirm(v[1], tenant, why: "a revocation cannot be undone")
                return request
            },
            explain: { _ in "\(id) stops working now: every request with it is refused, and it cannot be brought back" })
    }

    static func confirm(_ typed: String, _ tenant: TenantID, why: String) throws(ValidationError) {
        guard typed.trimmingSpaces() == tenant.rawValue else {
            throw ValidationError(field: "confirm", value: typed, rule: "type the tenant id \(tenant) to confirm (\(why))")
        }
    }

    /// `k_x "ci runner": active, last used 3m ago, expires never`.
    static func describe(_ k: APIKey, now: Double) -> String {
        let state = k.problem == nil ? k.state(at: now).rawValue : "broken"
        let used = k.lastUsedAt.map { "last used \(Format.duration(now - Double($0))) ago" } ?? "never used"
        let expires = k.expiresAt == 0 ? "expires never" : "expires \(Format.when(k.expiresAt, now: now))"
        return "\(k.id) \(SafeText.quoted(k.label, limit: 40)): \(state), \(used), \(expires)"
    }

    /// Every field of a key, for Enter on the keys screen.
    public static func detail(_ k: APIKey, tenant: TenantID, now: Double) -> Notice {
        func at(_ t: Int64?) -> String { t.map { "\(CivilDate(epochSeconds: $0).iso8601) (\(Format.when($0, now: now)))" } ?? "-" }
        var lines = [
            "state: \(k.problem == nil ? k.state(at: now).rawValue : "broken") (stored \(k.state.rawValue))",
            "label: \(k.label)",
            "prefix: \(k.prefix)   scopes: \(k.scopes.isEmpty ? "-" : k.scopes.joined(separator: ", "))",
            "created: \(at(k.createdAt)) by \(k.createdBy.isEmpty ? "-" : k.createdBy)",
            "expires: \(k.expiresAt == 0 ? "never" : at(k.expiresAt))",
            "last used: \(at(k.lastUsedAt))",
        ]
        if let g = k.graceUntil { lines.append("grace until: \(at(g))") }
        if let r = k.replaces { lines.append("replaces: \(r)") }
        if let r = k.replacedBy { lines.append("replaced by: \(r)") }
        if k.revokedAt != nil || k.revokedBy != nil { lines.append("revoked: \(at(k.revokedAt)) by \(k.revokedBy ?? "-")") }
        if let p = k.problem { lines.append("breaks the contract: \(p)") }
        return Notice(title: "key \(k.id) of \(tenant)", lines: lines, failed: k.problem != nil)
    }
}

/// A new key's secret, shown once after a create or a rotation. `y` copies it with OSC 52;
/// any other key closes it, and closing drops it from the model and repaints the terminal, so it
/// is on no cell and in no buffer of the console afterwards (docs/console.md).
public struct SecretNotice: Sendable {
    public let tenant: TenantID
    public let key: KeyID
    let secret: APIKeySecret
    /// What happened to the old key, for a rotation.
    let replaced: String?
    /// The outcome was not confirmed: the secret works only if the change applied.
    let unconfirmed: String?
    public private(set) var copied = false

    public init(tenant: TenantID, key: KeyID, secret: APIKeySecret, replaced: String?, unconfirmed: String?) {
        self.tenant = tenant
        self.key = key
        self.secret = secret
        self.replaced = replaced
        self.unconfirmed = unconfirmed
    }

    public mutating func markCopied() { copied = true }
    public var plaintext: String { secret.plaintext }

    public func draw(into grid: inout Grid) {
        let w = min(grid.width - 2, 100)
        let inner = w - 4
        // Broken across lines by characters only when it is longer than the box.
        let chars = Array(secret.plaintext)
        let secretLines = stride(from: 0, to: chars.count, by: inner).map { String(chars[$0..<min(chars.count, $0 + inner)]) }
        var lines: [(String, Role)] = []
        if let unconfirmed { lines += Wrap.lines("OUTCOME UNKNOWN: \(unconfirmed). This secret works only if the change applied.", width: inner).map { ($0, .error) } }
        lines += secretLines.map { ($0, .accent) }
        lines.append(("", .normal))
        lines += Wrap.lines("Store it now: tollgate keeps only its SHA-256, and this secret cannot be shown again.", width: inner).map { ($0, .warn) }
        if let replaced { lines += Wrap.lines(replaced, width: inner).map { ($0, .normal) } }
        if copied { lines.append(("copied with OSC 52 (if the terminal allows it; tmux needs set-clipboard on)", .good)) }
        let h = min(grid.height, lines.count + 4)
        let box = Box.centered(in: grid, width: w, height: h)
        box.draw(into: &grid, title: "new key \(key) of \(tenant): its secret, shown once", footer: "y copy · any other key closes and wipes it",
                 role: unconfirmed == nil ? .accent : .error)
        for (i, line) in lines.prefix(h - 4).enumerated() {
            grid.put(line.0, x: box.rect.x + 2, y: box.rect.y + 2 + i, role: line.1, maxWidth: inner)
        }
    }
}
