/// One validating builder per action, from the text a person typed: the console's dialogs and the
/// CLI call the same ones, so a value is refused with the same words wherever it is typed. Field
/// names in errors are the dialogs' (`limit`, `for`, `reason`); the CLI shows them as options.
extension ActionRequest {
    public static func throttle(_ tenant: TenantID, route: String, limit: String, for duration: String,
                                reason: String) throws(ValidationError) -> ActionRequest {
        let r = try Route(route)
        let n = try Self.number(limit, field: "limit", atLeast: 0)
        let seconds = try TimeSpan.seconds(duration, field: "for")
        guard seconds > 0 else {
            throw ValidationError(field: "for", value: duration, rule: "a throttle must expire; clear it to end one")
        }
        return .throttleSet(tenant, r, limit: n, duration: seconds, reason: try Self.reason(reason))
    }

    public static func throttleClear(_ tenant: TenantID, route: String) throws(ValidationError) -> ActionRequest {
        .throttleClear(tenant, try Route(route))
    }

    /// `above`: the effective limit now, when known; a raise must be above it (the store checks
    /// again, atomically).
    public static func budgetRaise(_ tenant: TenantID, limit: String, for duration: String, reason: String,
                                   above: Int? = nil) throws(ValidationError) -> ActionRequest {
        let n = try Self.number(limit, field: "limit", atLeast: 1)
        if let above, n <= above {
            throw ValidationError(field: "limit", value: limit, rule: "a raise must be above the effective limit, \(above) tokens now")
        }
        let seconds = try TimeSpan.seconds(duration, field: "for")
        guard seconds > 0 else { throw ValidationError(field: "for", value: duration, rule: "a raise must expire") }
        return .budgetRaise(tenant, limit: n, duration: seconds, reason: try Self.reason(reason))
    }

    public static func keyCreate(_ tenant: TenantID, label: String, scopes: String, expires: String) throws(ValidationError) -> ActionRequest {
        let l = try Self.text(label, field: "label", max: 200)
        let list = scopes.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        let word: (UInt8) -> Bool = { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x3A }
        guard list.allSatisfy({ $0.utf8.count <= 64 && $0.utf8.allSatisfy(word) }) else {
            throw ValidationError(field: "scopes", value: scopes, rule: "comma-separated words of a-z 0-9 . _ : (at most 64 characters each)")
        }
        let e = expires.trimmingSpaces()
        let seconds = e.isEmpty || e == "never" ? 0 : try TimeSpan.seconds(e, field: "expires")
        return .keyCreate(tenant, label: l, scopes: list, expiresIn: seconds)
    }

    /// `expires`: `inherit` (or empty) keeps the old key's expiry, `never` (or 0) none, a span
    /// counts from now.
    public static func keyRotate(_ tenant: TenantID, key: String, grace: String, expires: String = "inherit") throws(ValidationError) -> ActionRequest {
        let id = try KeyID(key)
        let g = try TimeSpan.seconds(grace.trimmingSpaces(), field: "grace")
        let e = expires.trimmingSpaces()
        let expiresIn: Int64? = e.isEmpty || e == "inherit" ? nil : e == "never" ? 0 : try TimeSpan.seconds(e, field: "expires")
        return .keyRotate(tenant, id, grace: g, expiresIn: expiresIn)
    }

    public static func keyRevoke(_ tenant: TenantID, key: String, reason: String) throws(ValidationError) -> ActionRequest {
        .keyRevoke(tenant, try KeyID(key), reason: try Self.reason(reason))
    }

    /// The reason a throttle, a raise or a revocation carries to the audit log.
    static func reason(_ text: String) throws(ValidationError) -> String {
        try Self.text(text, field: "reason", max: 500)
    }

    /// Free text that goes into Redis and the audit log: not blank, bounded, no control or
    /// invisible characters (they would only hide what was written).
    static func text(_ raw: String, field: String, max: Int) throws(ValidationError) -> String {
        let t = raw.trimmingSpaces()
        guard !t.isEmpty else { throw ValidationError(field: field, value: raw, rule: "must not be empty") }
        guard t.count <= max else { throw ValidationError(field: field, value: raw, rule: "must be at most \(max) characters") }
        guard !t.unicodeScalars.contains(where: SafeText.isUnsafe) else {
            throw ValidationError(field: field, value: raw, rule: "must not contain control or invisible characters")
        }
        return t
    }

    public static let numberRule = "a whole number of at most 18 digits, optionally with k, M or G (e.g. 500, 20k, 75M)"

    /// A limit as people type it: `500`, `20k`, `75M`, `1G`. The same range the readers accept
    /// (`parseDecimal`: at most 18 digits), so nothing written can come back as an error.
    static func number(_ raw: String, field: String, atLeast minimum: Int) throws(ValidationError) -> Int {
        let text = raw.trimmingSpaces()
        var digits = Substring(text), scale = 1
        switch text.last {
        case "k": scale = 1_000
        case "M": scale = 1_000_000
        case "G": scale = 1_000_000_000
        default: break
        }
        if scale > 1 { digits = digits.dropLast() }
        guard let n = parseDecimal(digits), n <= 999_999_999_999_999_999 / scale, n * scale <= 999_999_999_999_999_999 else {
            throw ValidationError(field: field, value: raw, rule: "must be \(numberRule)")
        }
        guard n * scale >= minimum else { throw ValidationError(field: field, value: raw, rule: "must be at least \(minimum)") }
        return n * scale
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (no Foundation).
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
