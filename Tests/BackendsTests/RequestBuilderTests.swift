import Testing
@testable import Backends

/// One validating builder per action: what the dialogs and the CLI both call.
@Suite struct RequestBuilderTests {
    let acme = try! TenantID("acme")

    @Test func throttlesFromWhatWasTyped() throws {
        #expect(try ActionRequest.throttle(acme, route: "_all", limit: "50", for: "30m", reason: " noisy ")
                == .throttleSet(acme, .all, limit: 50, duration: 1800, reason: "noisy"))
        #expect(try ActionRequest.throttle(acme, route: "chat.completions", limit: "2k", for: "2h", reason: "x")
                == .throttleSet(acme, try Route("chat.completions"), limit: 2_000, duration: 7200, reason: "x"))
        #expect(try ActionRequest.throttleClear(acme, route: "_all") == .throttleClear(acme, .all))
    }

    @Test(arguments: [
        ("a:b", "50", "30m", "x", "invalid route \"a:b\": must match"),
        ("_all", "lots", "30m", "x", "invalid limit \"lots\": must be a whole number"),
        ("_all", "-1", "30m", "x", "invalid limit \"-1\""),
        ("_all", "1000000000000000000", "30m", "x", "invalid limit \"1000000000000000000\": must be a whole number of at most 18 digits"),
        ("_all", "999999999999G", "30m", "x", "invalid limit"),
        ("_all", "5", "0", "x", "invalid for \"0\": a throttle must expire"),
        ("_all", "5", "forever", "x", "invalid for \"forever\""),
        ("_all", "5", "30m", "   ", "invalid reason \"   \": must not be empty"),
        ("_all", "5", "30m", "a\u{1B}[2Jb", "x1B[2Jb\": must not contain control or invisible characters"),
        ("_all", "5", "30m", String(repeating: "r", count: 501), "must be at most 500 characters"),
    ])
    func badThrottlesNameTheValueAndTheRule(_ route: String, _ limit: String, _ duration: String, _ reason: String, _ message: String) {
        #expect {
            _ = try ActionRequest.throttle(acme, route: route, limit: limit, for: duration, reason: reason)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func budgetRaisesAndKeys() throws {
        #expect(try ActionRequest.budgetRaise(acme, limit: "75M", for: "24h", reason: "launch") == .budgetRaise(acme, limit: 75_000_000, duration: 86_400, reason: "launch"))
        #expect(throws: ValidationError.self) { try ActionRequest.budgetRaise(acme, limit: "0", for: "24h", reason: "x") }
        #expect(throws: ValidationError.self) { try ActionRequest.budgetRaise(acme, limit: "5", for: "0", reason: "x") }
        #expect(try ActionRequest.keyCreate(acme, label: "ci", scopes: "chat, embeddings", expires: "90d")
                == .keyCreate(acme, label: "ci", scopes: ["chat", "embeddings"], expiresIn: 90 * 86_400))
        #expect(try ActionRequest.keyCreate(acme, label: "ci", scopes: "", expires: "never") == .keyCreate(acme, label: "ci", scopes: [], expiresIn: 0))
        #expect(throws: ValidationError.self) { try ActionRequest.keyCreate(acme, label: "ci", scopes: "Chat!", expires: "") }
        #expect(throws: ValidationError.self) { try ActionRequest.keyCreate(acme, label: "", scopes: "", expires: "") }
        #expect(try ActionRequest.keyRotate(acme, key: "k_1", grace: "0") == .keyRotate(acme, try KeyID("k_1"), grace: 0))
        #expect(throws: ValidationError.self) { try ActionRequest.keyRotate(acme, key: "bad key", grace: "1h") }
        #expect(throws: ValidationError.self) { try ActionRequest.keyRevoke(acme, key: "k_1", reason: "") }
    }

    @Test func theNumberRangeIsTheReadersRange() throws {
        // The largest limit a builder accepts is one the Redis readers parse back.
        let top = try ActionRequest.number("999999999999999999", field: "limit", atLeast: 0)
        #expect(parseDecimal(String(top)) == top)
        #expect(throws: ValidationError.self) { try ActionRequest.number("1000000000000000000", field: "limit", atLeast: 0) }
    }

    @Test func thePolicyAnswersByKindAndTenant() throws {
        let admin = AccessPolicy(op: Operator(name: "a", role: .admin, authenticated: false), readonly: false)
        #expect(ActionKind.allCases.allSatisfy { admin.refusal($0, tenant: nil) == nil })
        let op = AccessPolicy(op: Operator(name: "o", role: .operator, authenticated: false), readonly: false)
        #expect(op.refusal(.throttleSet, tenant: acme) == nil && op.refusal(.keyCreate, tenant: acme) != nil)
        let ro = AccessPolicy(op: Operator(name: "a", role: .admin, authenticated: false), readonly: true)
        #expect(ActionKind.allCases.allSatisfy { ro.refusal($0, tenant: nil)?.contains("read-only") == true })
    }
}
