import Testing
@testable import Backends

@Suite struct KeySchemaTests {
    let acme = try! TenantID("acme-eu")
    let chat = try! Route("chat.completions")
    let key = try! KeyID("k_7GQ2M4XW")

    @Test func keyNamesFollowTheContract() {
        #expect(KeySchema.tenantIndex == "gw:tenants")
        #expect(KeySchema.meta(acme) == "{acme-eu}:meta")
        #expect(KeySchema.limits(acme) == "{acme-eu}:limits")
        #expect(KeySchema.counter(acme, chat, windowStart: 1_795_000_020) == "rl:{acme-eu}:chat.completions:1795000020")
        #expect(KeySchema.throttle(acme, chat) == "{acme-eu}:throttle:chat.completions")
        #expect(KeySchema.throttle(acme, .all) == "{acme-eu}:throttle:_all")
        #expect(KeySchema.budget(acme, month: YearMonth(year: 2026, month: 3)) == "{acme-eu}:budget:2026-03")
        #expect(KeySchema.apiKeys(acme) == "{acme-eu}:apikeys")
        #expect(KeySchema.apiKey(acme, key) == "{acme-eu}:apikey:k_7GQ2M4XW")
        #expect(KeySchema.keyspacePattern(acme) == "{acme-eu}:[sc][ea][sc]*")   // sessions and cache entries
        #expect(KeySchema.keyspaceScanPattern == "{*}:[sc][ea][sc]*")
    }

    @Test func tenantPartOfScannedMetaKeys() {
        #expect(KeySchema.tenantPart(ofMetaKey: "{acme}:meta") == "acme")
        #expect(KeySchema.tenantPart(ofMetaKey: "{a*b}:meta") == "a*b")   // validated (and refused) by the caller
        #expect(KeySchema.tenantPart(ofMetaKey: "{a}b}:meta") == nil)
        #expect(KeySchema.tenantPart(ofMetaKey: "acme:meta") == nil)
        #expect(KeySchema.tenantPart(ofMetaKey: "{acme}:limits") == nil)
    }

    /// What a refresh makes of a key announced by key tracking: `"tenant kind"`.
    static func announced(_ key: String) -> String? { KeySchema.announced(key).map { "\($0.tenant.rawValue) \($0.kind)" } }

    @Test func tenantAndKindOfAnnouncedKeys() throws {
        #expect(Self.announced(KeySchema.throttle(try TenantID("acme-eu"), .all)) == "acme-eu throttle")
        #expect(Self.announced("{acme}:throttle:chat.completions") == "acme throttle")
        #expect(Self.announced(KeySchema.counter(acme, chat, windowStart: 60)) == "acme-eu hot")
        #expect(Self.announced(KeySchema.budget(acme, month: YearMonth(containing: 0))) == "acme-eu hot")
        for cold in [KeySchema.meta(acme), KeySchema.limits(acme), KeySchema.apiKeys(acme), KeySchema.apiKey(acme, try KeyID("k1"))] {
            #expect(Self.announced(cold) == "acme-eu cold", "\(cold)")
        }
        for other in ["{a*b}:throttle:chat", "rl:{a*b}:chat:60",   // break the tenant pattern
                      "{acme}:session:1", "{acme}:limitsx", "acme:throttle:chat", "{acme:throttle:chat", "rl:acme:chat:60", "gw:tenants"] {
            #expect(Self.announced(other) == nil, "\(other)")
        }
    }

    @Test func everyKeyOfATenantSharesOneHashTag() {
        let names = [KeySchema.meta(acme), KeySchema.limits(acme), KeySchema.counter(acme, chat, windowStart: 60),
                     KeySchema.throttle(acme, chat), KeySchema.apiKey(acme, key), KeySchema.apiKeys(acme)]
        for n in names { #expect(n.contains("{acme-eu}")) }
    }

    @Test func keyspaceEntriesAreToldApart() {
        #expect(KeySchema.keyspaceEntry("{acme}:session:abc").map { "\($0.tenant) \($0.kind)" } == "acme session")
        #expect(KeySchema.keyspaceEntry("{acme}:cache:{x}:y").map { "\($0.tenant) \($0.kind)" } == "acme cache")
        for other in ["{acme}:sessions", "{acme}:meta", "acme}:session:1", "{acme:session:1", "rl:{acme}:session:1", "{}:cache"] {
            #expect(KeySchema.keyspaceEntry(other) == nil, "\(other)")
        }
    }
}
