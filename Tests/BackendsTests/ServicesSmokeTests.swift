import CCurl
import CHiredis
import Foundation
import Testing

/// The real services that `make test` starts answer on loopback. Later suites build on them.
/// Outside `make test` (no TOLLGATE_TEST_* variables) these tests are reported as skipped.
@Suite(.enabled(if: TestServices.configured, "run through `make test`, which starts Redis and ClickHouse"))
struct ServicesSmokeTests {
    @Test func standaloneRedisAnswersPing() throws {
        let (host, port) = try #require(TestServices.redis)
        #expect(try TestServices.redisCommand(host: host, port: port, ["PING"]) == "PONG")
    }

    @Test func clickHouseAnswersSelectOne() throws {
        let url = try #require(TestServices.clickhouse)
        let body = try TestServices.httpPost(url: url + "/", body: "SELECT 1")
        #expect(body == "1\n")
    }
}

/// In the cluster's serialized suite: another of its tests stalls a master for a while.
extension RedisClusterTests {
    @Test func redisClusterIsHealthy() throws {
        let nodes = TestServices.redisCluster
        #expect(nodes.count == 3)
        for (host, port) in nodes {
            let info = try TestServices.redisCommand(host: host, port: port, ["CLUSTER", "INFO"])
            #expect(info.contains("cluster_state:ok"), "node \(port): \(info.prefix(80))")
        }
    }
}

enum TestServices {
    static let env = ProcessInfo.processInfo.environment
    static var configured: Bool { env["TOLLGATE_TEST_REDIS"] != nil && env["TOLLGATE_TEST_CLICKHOUSE"] != nil }

    static func hostPort(_ s: String) -> (String, Int32)? {
        let parts = s.split(separator: ":")
        guard parts.count == 2, let p = Int32(parts[1]) else { return nil }
        return (String(parts[0]), p)
    }

    static var redis: (String, Int32)? { env["TOLLGATE_TEST_REDIS"].flatMap(hostPort) }
    static var redisCluster: [(String, Int32)] {
        (env["TOLLGATE_TEST_REDIS_CLUSTER"] ?? "").split(separator: ",").compactMap { hostPort(String($0)) }
    }
    static var clickhouse: String? { env["TOLLGATE_TEST_CLICKHOUSE"] }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// One command over a fresh hiredis connection; the reply as text.
    static func redisCommand(host: String, port: Int32, _ args: [String]) throws -> String {
        let tv = timeval(tv_sec: 3, tv_usec: 0)
        guard let ctx = redisConnectWithTimeout(host, port, tv) else { throw Failure(description: "no context") }
        defer { redisFree(ctx) }
        if ctx.pointee.err != 0 { throw Failure(description: "connect \(host):\(port): error \(ctx.pointee.err)") }
        redisSetTimeout(ctx, tv)
        var cstrings = args.map { strdup($0) }
        defer { cstrings.forEach { free($0) } }
        let lens = args.map { $0.utf8.count }
        let reply: UnsafeMutablePointer<redisReply>? = cstrings.withUnsafeMutableBufferPointer { argv in
            argv.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: args.count) { p in
                tg_redis_command_argv(ctx, Int32(args.count), p, lens)
            }
        }
        guard let r = reply else { throw Failure(description: "no reply from \(host):\(port)") }
        defer { freeReplyObject(r) }
        return String(cString: r.pointee.str)
    }

    /// A POST with libcurl; the body of a 200 answer.
    static func httpPost(url: String, body: String) throws -> String {
        guard let h = curl_easy_init() else { throw Failure(description: "curl_easy_init") }
        defer { curl_easy_cleanup(h) }
        final class Sink { var data = Data() }
        let sink = Sink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        _ = tg_curl_setopt_str(h, CURLOPT_URL, url)
        _ = tg_curl_setopt_str(h, CURLOPT_COPYPOSTFIELDS, body)
        _ = tg_curl_setopt_long(h, CURLOPT_TIMEOUT, 5)
        _ = tg_curl_setopt_ptr(h, CURLOPT_WRITEDATA, unmanaged.toOpaque())
        _ = tg_curl_setopt_writefn(h) { ptr, size, n, ctx in
            let s = Unmanaged<Sink>.fromOpaque(ctx!).takeUnretainedValue()
            s.data.append(UnsafeRawPointer(ptr!).assumingMemoryBound(to: UInt8.self), count: size * n)
            return size * n
        }
        let rc = curl_easy_perform(h)
        guard rc == CURLE_OK else { throw Failure(description: "curl \(url): \(String(cString: curl_easy_strerror(rc)))") }
        var status = 0
        _ = tg_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        let text = String(decoding: sink.data, as: UTF8.self)
        guard status == 200 else { throw Failure(description: "HTTP \(status): \(text.prefix(200))") }
        return text
    }
}
