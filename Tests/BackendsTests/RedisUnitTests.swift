import Testing
@testable import Backends

@Suite struct RedisURLTests {
    @Test func parsesTheDocumentedForms() throws {
        #expect(try RedisURL(parsing: "redis://127.0.0.1:6380") == RedisURL(endpoint: .tcp(host: "127.0.0.1", port: 6380)))
        #expect(try RedisURL(parsing: "redis://localhost") == RedisURL(endpoint: .tcp(host: "localhost", port: 6379)))
        let full = try RedisURL(parsing: "redis://ops:p%40ss:w@redis.internal:7000/3")
        #expect(full.user == "ops" && full.password == "p@ss:w" && full.database == 3)
        #expect(try RedisURL(parsing: "redis://:secret@h:1").user == nil)
        #expect(try RedisURL(parsing: "redis://:secret@h:1").password == "secret")
        #expect(try RedisURL(parsing: "unix:///run/redis.sock") == RedisURL(endpoint: .unix(path: "/run/redis.sock")))
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let url = try RedisURL(parsing: "redis://ops:hunter2@h:6379/2")
        #expect(url.description == "redis://ops:***@h:6379/2")
        #expect(!url.description.contains("hunter2"))
    }

    @Test(arguments: ["http://h:1", "redis://", "redis://h:0", "redis://h:99999", "redis://h:abc", "redis://h:1/x",
                      "redis://h o:1", "redis://h\u{1B}[2J:1", "unix://relative.sock", "", "redis://user:pw@:1"])
    func refusesBadURLs(_ text: String) {
        #expect {
            _ = try RedisURL(parsing: text)
        } throws: { error in
            let message = "\(error)"
            return message.contains("Redis URL") && !message.contains("\u{1B}")
        }
    }

    @Test func errorsHideTheCredentials() {
        #expect {
            _ = try RedisURL(parsing: "redis://ops:hunter2@h:0")
        } throws: { error in
            !"\(error)".contains("hunter2")
        }
    }
}

@Suite struct HashSlotTests {
    @Test func matchesRedisClusterSlots() {
        #expect(HashSlot.crc16(Array("123456789".utf8)[...]) == 0x31C3)
        #expect(HashSlot.of("foo") == 12182)
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("{user1000}.followers"))
        #expect(HashSlot.of("{}x") == HashSlot.of("{}x"))         // empty tag: the whole key
        #expect(HashSlot.of("rl:{acme}:chat:60") == HashSlot.of("{acme}:meta"))
    }
}

@Suite struct BackoffTests {
    @Test func growsAndIsCapped() {
        var b = Backoff(base: 0.25, cap: 10)
        b.failed(.unavailable("x"), at: 100)
        #expect(b.nextAttempt == 100.25)
        b.failed(.unavailable("x"), at: 100)
        #expect(b.nextAttempt == 100.5)
        for _ in 0..<30 { b.failed(.unavailable("x"), at: 100) }
        #expect(b.nextAttempt == 110)
        b.succeeded()
        #expect(b.nextAttempt == 0 && b.failures == 0)
    }
}

@Suite struct RedisCommandTests {
    @Test func encodesRESPWithByteLengths() {
        let c = RedisCommand(["SET", "k", "", "é\r\n"])
        #expect(String(decoding: c.resp, as: UTF8.self) == "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n$4\r\né\r\n\r\n")
        #expect(c.arguments == ["SET", "k", "", "é\r\n"])
    }
}

@Suite struct ColdReadScheduleTests {
    @Test func eachTenantHasItsPhaseAndTheFleetIsSpreadEvenly() throws {
        let now = 1_800_000_000.5, interval = 30.0
        var perSecond = [Int](repeating: 0, count: 30)
        for i in 0..<3000 {
            let t = try TenantID("tenant-\(i)")
            let next = RedisGateway.nextColdRead(t, after: now, interval: interval)
            #expect(next > now && next <= now + interval)
            // Read again at its time, the tenant keeps its phase: exactly one interval later.
            #expect(RedisGateway.nextColdRead(t, after: next, interval: interval) == next + interval)
            perSecond[Int(next - now - 1e-9)] += 1
        }
        // About 100 re-reads in each second of the interval, never a burst of the whole fleet.
        #expect(perSecond.allSatisfy { (50...150).contains($0) }, "\(perSecond)")
        #expect(RedisGateway.nextColdRead(try TenantID("a"), after: now, interval: 0) == now)   // 0: every refresh
    }
}
