/// Where a Redis server is: `redis://[user:password@]host:port[/db]` or `unix:///path/to.sock`.
/// The password is kept for AUTH and never printed: `description` redacts it.
public struct RedisURL: Equatable, Sendable, CustomStringConvertible {
    public enum Endpoint: Equatable, Sendable {
        case tcp(host: String, port: Int32)
        case unix(path: String)
    }

    public var endpoint: Endpoint
    public var user: String?
    public var password: String?
    public var database: Int

    public init(endpoint: Endpoint, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.database = database
    }

    static let rule = "must be redis://[user:password@]host:port[/db] or unix:///path"

    public init(parsing text: String) throws(ValidationError) {
        func bad(_ why: String) -> ValidationError {
            ValidationError(field: "Redis URL", value: RedisURL.redacted(text), rule: "\(why); \(RedisURL.rule)")
        }
        if text.hasPrefix("unix://") {
            let path = String(text.dropFirst("unix://".count))
            guard path.hasPrefix("/"), path.count > 1, !path.unicodeScalars.contains(where: SafeText.isUnsafe)
            else { throw bad("a unix socket path must be absolute") }
            self.init(endpoint: .unix(path: path))
            return
        }
        guard text.hasPrefix("redis://") else { throw bad("unknown scheme") }
        var rest = Substring(text.dropFirst("redis://".count))
        var user: String?, password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let u = String(credentials[..<colon])
                user = u.isEmpty ? nil : percentDecoded(u)
                password = percentDecoded(String(credentials[credentials.index(after: colon)...]))
            } else {
                user = credentials.isEmpty ? nil : percentDecoded(String(credentials))   // a user; its password may come from config
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = parseDecimal(db), n <= 1_000_000 else { throw bad("the database must be a number") }
                database = n
            }
            rest = rest[..<slash]
        }
        var host = String(rest), port: Int32 = 6379
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = parseDecimal(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { throw bad("the port must be 1-65535") }
            port = Int32(p)
        }
        guard !host.isEmpty, host.utf8.allSatisfy({ b in (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x2E || b == 0x2D })
        else { throw bad("the host must be a name or an IPv4 address") }
        self.init(endpoint: .tcp(host: host, port: port), user: user, password: password, database: database)
    }

    public var description: String {
        switch endpoint {
        case .unix(let path): return "unix://\(path)"
        case .tcp(let host, let port):
            let auth = password == nil ? "" : "\(user ?? ""):***@"
            return "redis://\(auth)\(host):\(port)" + (database == 0 ? "" : "/\(database)")
        }
    }

    /// A URL as typed, with whatever sits between `//` and `@` hidden.
    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        let head = text[..<at]
        guard let slash = head.firstIndex(of: "/"), head[slash...].hasPrefix("//") else { return "***" + String(text[at...]) }
        let afterScheme = head.index(slash, offsetBy: 2)
        return String(text[..<afterScheme]) + "***" + String(text[at...])
    }
}

private func percentDecoded(_ s: String) -> String {
    var out: [UInt8] = []
    var bytes = Array(s.utf8)[...]
    while let b = bytes.popFirst() {
        if b == 0x25, bytes.count >= 2, let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
            out.append(v)
            bytes = bytes.dropFirst(2)
        } else {
            out.append(b)
        }
    }
    return String(decoding: out, as: UTF8.self)
}
