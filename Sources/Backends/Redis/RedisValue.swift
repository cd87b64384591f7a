/// A decoded Redis reply. Bulk strings are decoded as UTF-8 (invalid bytes become U+FFFD); an
/// error reply is a value, not a thrown error, so one bad key marks one cell.
public enum RedisValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case array([RedisValue])
    case null
    case status(String)
    case error(String)

    public var string: String? {
        switch self {
        case .string(let s), .status(let s): s
        case .integer(let i): String(i)
        default: nil
        }
    }

    public var array: [RedisValue]? { if case .array(let a) = self { a } else { nil } }
    public var errorMessage: String? { if case .error(let e) = self { e } else { nil } }
    /// An error of a server that is not serving right now (a cluster down, a dataset loading, a
    /// redirect), not of the data.
    var isNotServing: Bool {
        guard let e = errorMessage else { return false }
        return ["CLUSTERDOWN", "TRYAGAIN", "LOADING", "BUSY", "MASTERDOWN", "MOVED", "ASK"].contains { e.hasPrefix($0) }
    }

    /// HGETALL's flat [field, value, ...] as a dictionary.
    public var hash: [String: String]? {
        guard let a = array else { return nil }
        var out: [String: String] = [:]
        var i = 0
        while i + 1 < a.count {
            if let k = a[i].string, let v = a[i + 1].string { out[k] = v }
            i += 2
        }
        return out
    }
}
