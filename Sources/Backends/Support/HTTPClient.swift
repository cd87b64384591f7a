import CCurl
import Dispatch
import Foundation

/// One HTTP request: what `HTTPClient` sends.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// `Name: value` lines.
    public var headers: [String]
    public var body: [UInt8]?
    /// HTTP basic auth; never printed.
    public var basicAuth: (user: String, password: String)?

    public init(_ method: String = "GET", _ url: String, headers: [String] = [], body: [UInt8]? = nil, basicAuth: (user: String, password: String)? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.basicAuth = basicAuth
    }

    /// An `application/x-www-form-urlencoded` POST.
    public static func form(_ url: String, _ fields: [(String, String)], headers: [String] = []) -> HTTPRequest {
        let body = fields.map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }.joined(separator: "&")
        return HTTPRequest("POST", url, headers: headers + ["Content-Type: application/x-www-form-urlencoded"], body: Array(body.utf8))
    }

    static func formEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

public struct HTTPResponse: Sendable {
    public let status: Int
    public let body: [UInt8]

    /// The body as a JSON object, or nil.
    public var object: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
}

/// HTTP with libcurl: one handle reused (so is its connection), driven from its own serial queue
/// (never the UI thread), with connect and total timeouts. A transport failure (no connection, a
/// timeout) is `.unavailable`; any answer, whatever its status, is returned for the caller to read.
public final class HTTPClient: @unchecked Sendable {
    // Invariant: `handle` is touched only on `queue`.
    private let queue: DispatchQueue
    private var handle: UnsafeMutableRawPointer?
    /// Names the server in messages (`clickhouse 127.0.0.1:8123`).
    public let label: String
    public let connectTimeout: Double
    public let timeout: Double

    private static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    public init(label: String, connectTimeout: Double = 2, timeout: Double = 10) {
        self.label = label
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        queue = DispatchQueue(label: "tollgate.http.\(label)")
    }

    deinit { if let h = handle { curl_easy_cleanup(h) } }

    public func send(_ request: HTTPRequest) async throws(BackendError) -> HTTPResponse {
        let result: Result<HTTPResponse, BackendError> = await withCheckedContinuation { cont in
            queue.async {
                do throws(BackendError) { cont.resume(returning: .success(try self.perform(request))) } catch { cont.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }

    final class Sink {
        var bytes: [UInt8] = []
        let limit = 512 * 1024 * 1024
    }

    private func perform(_ request: HTTPRequest) throws(BackendError) -> HTTPResponse {
        guard Self.globalInit else { throw .failed("libcurl could not be initialised") }
        if handle == nil { handle = curl_easy_init() }
        guard let h = handle else { throw .failed("libcurl: no handle") }
        curl_easy_reset(h)   // keeps the connection cache: the TCP connection is reused
        let sink = Sink()
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        _ = tg_curl_setopt_str(h, CURLOPT_URL, request.url)
        _ = tg_curl_setopt_str(h, CURLOPT_PROTOCOLS_STR, "http,https")
        if let body = request.body {
            _ = tg_curl_setopt_long(h, CURLOPT_POST, 1)
            _ = tg_curl_setopt_long(h, CURLOPT_POSTFIELDSIZE, body.count)
            if body.isEmpty {
                _ = tg_curl_setopt_str(h, CURLOPT_COPYPOSTFIELDS, "")
            } else {
                _ = body.withUnsafeBytes { tg_curl_setopt_ptr(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) }
            }
        }
        if request.method != "GET" && request.method != "POST" || (request.method == "POST" && request.body == nil) {
            _ = tg_curl_setopt_str(h, CURLOPT_CUSTOMREQUEST, request.method)
        }
        var headers: UnsafeMutablePointer<curl_slist>?
        for line in request.headers { headers = curl_slist_append(headers, line) }
        defer { curl_slist_free_all(headers) }
        if headers != nil { _ = tg_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headers) }
        _ = tg_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        _ = tg_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        _ = tg_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = tg_curl_setopt_str(h, CURLOPT_ACCEPT_ENCODING, "")
        if let auth = request.basicAuth {
            _ = tg_curl_setopt_str(h, CURLOPT_USERNAME, auth.user)
            _ = tg_curl_setopt_str(h, CURLOPT_PASSWORD, auth.password)
        }
        _ = tg_curl_setopt_ptr(h, CURLOPT_WRITEDATA, box.toOpaque())
        _ = tg_curl_setopt_writefn(h) { data, size, count, context in
            let sink = Unmanaged<HTTPClient.Sink>.fromOpaque(context!).takeUnretainedValue()
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
                 CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_SSL_CONNECT_ERROR:
                throw .unavailable("\(label): \(why)" + (rc == CURLE_OPERATION_TIMEDOUT ? " (limit \(timeout)s)" : ""))
            default:
                throw .failed("\(label): \(why)")
            }
        }
        var status = 0
        _ = tg_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, body: sink.bytes)
    }
}
