/// Identifiers of the gateway contract (docs/contract.md, "Identifiers").
///
/// Each type can only be built through validation, so a value of the type is proof that the
/// string matches the contract's pattern and is safe to put into a Redis key or a SQL literal.

/// A value that broke one of the contract's rules. The message quotes the value safely.
public struct ValidationError: Error, Equatable, CustomStringConvertible, Sendable {
    public let field: String
    public let value: String
    public let rule: String

    public init(field: String, value: String, rule: String) {
        self.field = field
        self.value = value
        self.rule = rule
    }

    public var description: String {
        "invalid \(field) \(SafeText.quoted(value, limit: 80)): \(rule)"
    }
}

/// `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`
public struct TenantID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let rule = "must match ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ (1-63 lowercase letters, digits or inner hyphens)"
    public let rawValue: String

    public init(_ raw: String) throws(ValidationError) {
        let bytes = raw.utf8   // read in place: ids are validated by the thousand on every refresh
        let lowerOrDigit: (UInt8) -> Bool = { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }
        guard (1...63).contains(bytes.count), let first = bytes.first, let last = bytes.last,
              lowerOrDigit(first), lowerOrDigit(last),
              bytes.allSatisfy({ lowerOrDigit($0) || $0 == 0x2D })
        else { throw ValidationError(field: "tenant_id", value: raw, rule: Self.rule) }
        rawValue = raw
    }

    public var description: String { rawValue }
    public static func < (a: TenantID, b: TenantID) -> Bool { a.rawValue < b.rawValue }
}

/// `^[A-Za-z0-9._/-]{1,128}$`; the word `_all` is the throttle wildcard and is also a valid route.
public struct Route: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let rule = "must match ^[A-Za-z0-9._/-]{1,128}$ (no ':', no spaces)"
    public static let all = try! Route("_all")
    public let rawValue: String

    public init(_ raw: String) throws(ValidationError) {
        let bytes = raw.utf8
        guard (1...128).contains(bytes.count), bytes.allSatisfy({ isAlnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2F || $0 == 0x2D })
        else { throw ValidationError(field: "route", value: raw, rule: Self.rule) }
        rawValue = raw
    }

    public var description: String { rawValue }
    public static func < (a: Route, b: Route) -> Bool { a.rawValue < b.rawValue }
}

/// `^[A-Za-z0-9_-]{1,64}$`
public struct KeyID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let rule = "must match ^[A-Za-z0-9_-]{1,64}$"
    public let rawValue: String

    public init(_ raw: String) throws(ValidationError) {
        let bytes = raw.utf8
        guard (1...64).contains(bytes.count), bytes.allSatisfy({ isAlnum($0) || $0 == 0x5F || $0 == 0x2D })
        else { throw ValidationError(field: "key_id", value: raw, rule: Self.rule) }
        rawValue = raw
    }

    public var description: String { rawValue }
    public static func < (a: KeyID, b: KeyID) -> Bool { a.rawValue < b.rawValue }
}

@inline(__always)
private func isAlnum(_ b: UInt8) -> Bool {
    (0x61...0x7A).contains(b) || (0x41...0x5A).contains(b) || (0x30...0x39).contains(b)
}
