import Foundation

/// Where ClickHouse's HTTP interface is: `http://[user:password@]host:port`. The password is sent
/// with HTTP basic auth and never printed.
public struct ClickHouseURL: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?

    public init(host: String, port: Int = 8123, user: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
    }

    public init(parsing text: String) throws(ValidationError) {
        func bad(_ why: String) -> ValidationError {
            ValidationError(field: "ClickHouse URL", value: RedisURL.redacted(text), rule: "\(why); must be http://[user:password@]host:port")
        }
        guard text.hasPrefix("http://") else { throw bad("unknown scheme (https needs the ClickHouse TLS setup, not supported yet)") }
        var rest = Substring(text.dropFirst("http://".count))
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        if let at = rest.lastIndex(of: "@") {
            let creds = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = creds.firstIndex(of: ":") {
                user = creds[..<colon].removingPercentEncoding ?? String(creds[..<colon])
                password = creds[creds.index(after: colon)...].removingPercentEncoding ?? String(creds[creds.index(after: colon)...])
            } else {
                user = creds.removingPercentEncoding ?? String(creds)
            }
        }
        host = String(rest)
        port = 8123
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { throw bad("the port must be 1-65535") }
            port = p
        }
        guard !host.isEmpty, host.utf8.allSatisfy({ b in (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x2E || b == 0x2D })
        else { throw bad("the host must be a name or an IPv4 address") }
    }

    public var description: String { "http://\(password == nil ? "" : "\(user ?? "default"):***@")\(host):\(port)" }
}

/// ClickHouse over its HTTP interface (`HTTPClient`: libcurl, one reused connection off the UI
/// thread), gzip, and error bodies turned into clear, sanitised messages.
public final class ClickHouseClient: Sendable {
    private let http: HTTPClient
    public let url: ClickHouseURL
    public var connectTimeout: Double { http.connectTimeout }
    public var timeout: Double { http.timeout }

    public init(_ url: ClickHouseURL, connectTimeout: Double = 2, timeout: Double = 10) {
        self.url = url
        http = HTTPClient(label: "clickhouse \(url.host):\(url.port)", connectTimeout: connectTimeout, timeout: timeout)
    }

    /// Runs one statement; returns the response body. Non-200 answers are `.failed` with
    /// ClickHouse's code and text; no answer in time or no connection is `.unavailable`.
    /// `settings` are ClickHouse settings for this statement only (names and values of our own).
    public func execute(_ sql: String, settings: KeyValuePairs<String, String> = [:]) async throws(BackendError) -> [UInt8] {
        let auth = url.password.map { (user: url.user ?? "default", password: $0) } ?? url.user.map { (user: $0, password: "") }
        let query = settings.map { "&\($0.key)=\($0.value)" }.joined()
        let response = try await http.send(HTTPRequest("POST", "http://\(url.host):\(url.port)/?enable_http_compression=1\(query)",
                                                       body: Array(sql.utf8), basicAuth: auth))
        guard response.status == 200 else { throw Self.serverError(status: response.status, body: response.body) }
        return response.body
    }

    /// `Code: 60, e.displayText() = DB::Exception: Table gateway.x doesn't exist` -> a short message.
    static func serverError(status: Int, body: [UInt8]) -> BackendError {
        var text = String(decoding: body.prefix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if let r = text.range(of: "e.displayText() = ") { text = String(text[r.upperBound...]) }
        for cut in [", e.what() = ", " (version "] {
            if let r = text.range(of: cut) { text = String(text[..<r.lowerBound]) }
        }
        let code = String(decoding: body.prefix(40), as: UTF8.self).split(separator: ",").first.map(String.init) ?? ""
        let prefix = code.hasPrefix("Code: ") ? "ClickHouse error \(code.dropFirst(6))" : "ClickHouse HTTP \(status)"
        let message = "\(prefix): \(SafeText.clean(String(text.prefix(300))))"
        if status == 401 || status == 403 || text.contains("Authentication failed") || text.contains("password is incorrect") {
            return .denied(message)
        }
        return status >= 500 && code.isEmpty ? .unavailable(message) : .failed(message)
    }
}
