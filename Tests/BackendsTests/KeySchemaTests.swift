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

    @Test func tenantOfAnnouncedThrottleKeys() throws {
        #expect(KeySchema.tenant(ofThrottleKey: KeySchema.throttle(try TenantID("acme-eu"), .all)) == (try TenantID("acme-eu")))
        #expect(KeySchema.tenant(ofThrottleKey: "{acme}:throttle:chat.completions")?.rawValue == "acme")
        #expect(KeySchema.tenant(ofThrottleKey: "{a*b}:throttle:chat") == nil)       // breaks the tenant pattern
        #expect(KeySchema.tenant(ofThrottleKey: "{acme}:limits") == nil)
        #expect(KeySchema.tenant(ofThrottleKey: "acme:throttle:chat") == nil)
        #expect(KeySchema.tenant(ofThrottleKey: "{acme:throttle:chat") == nil)
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
