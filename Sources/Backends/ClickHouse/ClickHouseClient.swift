import CCurl
import Dispatch
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

/// ClickHouse over its HTTP interface with libcurl: one reused connection driven from its own
/// serial queue (never the UI thread), connect and total timeouts, gzip, and error bodies turned
/// into clear, sanitised messages.
public final class ClickHouseClient: @unchecked Sendable {
    // Invariant: `handle` is touched only on `queue`.
    private let queue = DispatchQueue(label: "tollgate.clickhouse")
    private var handle: UnsafeMutableRawPointer?
    public let url: ClickHouseURL
    public let connectTimeout: Double
    public let timeout: Double

    private static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    public init(_ url: ClickHouseURL, connectTimeout: Double = 2, timeout: Double = 10) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }

    deinit { if let h = handle { curl_easy_cleanup(h) } }

    /// Runs one statement; returns the response body. Non-200 answers are `.failed` with
    /// ClickHouse's code and text; no answer in time or no connection is `.unavailable`.
    public func execute(_ sql: String) async throws(BackendError) -> [UInt8] {
        let result: Result<[UInt8], BackendError> = await withCheckedContinuation { cont in
            queue.async {
                do throws(BackendError) { cont.resume(returning: .success(try self.perform(sql))) } catch { cont.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }

    final class Sink {
        var bytes: [UInt8] = []
        let limit = 512 * 1024 * 1024
    }

    private func perform(_ sql: String) throws(BackendError) -> [UInt8] {
        guard Self.globalInit else { throw .failed("libcurl could not be initialised") }
        if handle == nil { handle = curl_easy_init() }
        guard let h = handle else { throw .failed("libcurl: no handle") }
        curl_easy_reset(h)   // keeps the connection cache: the TCP connection is reused
        let sink = Sink()
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        _ = tg_curl_setopt_str(h, CURLOPT_URL, "http://\(url.host):\(url.port)/?enable_http_compression=1")
        _ = tg_curl_setopt_long(h, CURLOPT_POST, 1)
        _ = tg_curl_setopt_long(h, CURLOPT_POSTFIELDSIZE, sql.utf8.count)
        _ = tg_curl_setopt_str(h, CURLOPT_COPYPOSTFIELDS, sql)
        _ = tg_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        _ = tg_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        _ = tg_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = tg_curl_setopt_str(h, CURLOPT_ACCEPT_ENCODING, "")
        if let user = url.user ?? (url.password != nil ? "default" : nil) { _ = tg_curl_setopt_str(h, CURLOPT_USERNAME, user) }
        if let password = url.password { _ = tg_curl_setopt_str(h, CURLOPT_PASSWORD, password) }
        _ = tg_curl_setopt_ptr(h, CURLOPT_WRITEDATA, box.toOpaque())
        _ = tg_curl_setopt_writefn(h) { data, size, count, context in
            let sink = Unmanaged<ClickHouseClient.Sink>.fromOpaque(context!).takeUnretainedValue()
            let n = size * count
            guard sink.bytes.count + n <= sink.limit else { return 0 }   // aborts the transfer
            sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n))
            return n
        }
        let rc = curl_easy_perform(h)
        guard rc == CURLE_OK else {
            let why = String(cString: curl_easy_strerror(rc))
            switch rc {
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT, CURLE_GOT_NOTHING,
                 CURLE_RECV_ERROR, CURLE_SEND_ERROR:
                throw .unavailable("clickhouse \(url.host):\(url.port): \(why)" + (rc == CURLE_OPERATION_TIMEDOUT ? " (limit \(timeout)s)" : ""))
            default:
                throw .failed("clickhouse \(url.host):\(url.port): \(why)")
            }
        }
        var status = 0
        _ = tg_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        guard status == 200 else { throw Self.serverError(status: status, body: sink.bytes) }
        return sink.bytes
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
