import Foundation
import Testing
@testable import Backends

@Suite struct IdentifierTests {
    static let hostile: [String] = [
        "", " ", "acme ", " acme", "ac me", "acme\n", "acme\r\nx", "ac\u{1B}[31mme", "acme\u{0}", "*", "acme*", "a?c",
        "[a-z]", "acme:meta", "{acme}", "ac{me", "acme}", "ACME", "Acme", "-acme", "acme-", "acmé", "ａｃｍｅ", "аcme",
        "acme\u{202E}", "a\tb", "../etc", "acme/eu", "acme.eu", "a_b", String(repeating: "a", count: 64),
        String(repeating: "a", count: 1000), "'; DROP TABLE x; --", "\u{FEFF}acme", "acme\u{7F}", "acme\u{85}",
    ]

    @Test(arguments: hostile)
    func tenantIDRefusesHostileValues(_ raw: String) throws {
        let error = try #require(throws: ValidationError.self) { try TenantID(raw) }
        #expect(error.field == "tenant_id")
        #expect(error.description.contains("must match"))
        // The message names the value safely: no raw control or bidi characters.
        #expect(!error.description.unicodeScalars.contains(where: SafeText.isUnsafe))
    }

    @Test(arguments: ["a", "acme", "acme-eu", "0", "a1-b2-c3", String(repeating: "z", count: 63)])
    func tenantIDAcceptsContractValues(_ raw: String) throws {
        #expect(try TenantID(raw).rawValue == raw)
    }

    @Test func tenantIDMessageQuotesEscapes() throws {
        let e = try #require(throws: ValidationError.self) { try TenantID("ac\u{1B}[2Jme") }
        #expect(e.description.hasPrefix("invalid tenant_id \"ac\\\\x1B[2Jme\"") || e.description.contains("\\x1B"))
    }

    @Test(arguments: ["", "chat:completions", "chat completions", "a*", "{x}", "x\n", "\u{1B}", "é", String(repeating: "r", count: 129), "a?b", "a\\b"])
    func routeRefusesHostileValues(_ raw: String) {
        #expect(throws: ValidationError.self) { try Route(raw) }
    }

    @Test(arguments: ["chat.completions", "tools/search", "_all", "v1/chat.completions-2", String(repeating: "r", count: 128)])
    func routeAcceptsContractValues(_ raw: String) throws {
        #expect(try Route(raw).rawValue == raw)
    }

    @Test(arguments: ["", "k.1", "k:1", "k 1", "k*", "k/1", "k\u{0}", String(repeating: "k", count: 65), "ключ"])
    func keyIDRefusesHostileValues(_ raw: String) {
        #expect(throws: ValidationError.self) { try KeyID(raw) }
    }

    @Test(arguments: ["k_7GQ2M4XW", "K-1", "_", String(repeating: "k", count: 64)])
    func keyIDAcceptsContractValues(_ raw: String) throws {
        #expect(try KeyID(raw).rawValue == raw)
    }
}

@Suite struct SafeTextTests {
    @Test func escapesControlAndBidi() {
        #expect(SafeText.clean("a\u{1B}[31mb") == "a\\x1B[31mb")
        #expect(SafeText.clean("x\u{0}y\u{7F}z\u{9B}") == "x\\x00y\\x7Fz\\x9B")
        #expect(SafeText.clean("abc\u{202E}def") == "abc\\u{202E}def")
        #expect(SafeText.clean("line\nnext\ttab") == "line\\x0Anext\\x09tab")
    }

    @Test func leavesPrintableTextAlone() {
        for s in ["plain", "数据中心", "café", "👩‍💻", "e\u{301}"] { #expect(SafeText.clean(s) == s) }
    }

    @Test func invalidUTF8BecomesReplacementCharacter() {
        let text = String(decoding: [0x61, 0xFF, 0xFE, 0x62] as [UInt8], as: UTF8.self)
        #expect(SafeText.clean(text) == "a\u{FFFD}\u{FFFD}b")
    }

    @Test func quotedCutsLongValues() {
        let q = SafeText.quoted(String(repeating: "x", count: 500), limit: 10)
        #expect(q == "\"xxxxxxxxxx…\"")
        #expect(SafeText.quoted("a\"b\\c") == "\"a\\\"b\\\\c\"")
    }
}

/// JSON output: JSONEncoder escapes C0 controls only; the rest of what a terminal would act on
/// (DEL, C1, bidi overrides, invisible format characters) is escaped too, and reads back the same.
@Suite struct JSONSafetyTests {
    @Test func everyUnsafeCharacterIsEscapedAndReadsBack() throws {
        let hostile = "a\u{7F}b\u{9B}31m\u{202E}lper\u{2066}x\u{200B}\u{FEFF}\u{2028}z\u{1B}[2J"
        let json = SafeText.jsonEscapingUnsafe(String(decoding: try JSONEncoder().encode(["v": hostile]), as: UTF8.self))
        #expect(json.unicodeScalars.allSatisfy { !SafeText.isUnsafe($0) }, "\(json.debugDescription)")
        #expect(json.contains("\\u202E") && json.contains("\\u009B") && json.contains("\\u007F") && json.contains("\\uFEFF"))
        let back = try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
        #expect(back["v"] == hostile)
    }

    /// Found by PropertyTests: a tag character (beyond the BMP) was written as `\uE0041`, which JSON
    /// reads as U+E004 and a "1". It is a surrogate pair.
    @Test func charactersBeyondTheBMPAreSurrogatePairs() throws {
        let tags = "\u{E0041}\u{E0042}"
        let json = SafeText.jsonEscapingUnsafe(String(decoding: try JSONEncoder().encode(["v": tags]), as: UTF8.self))
        #expect(json.contains("\\uDB40\\uDC41\\uDB40\\uDC42"), "\(json)")
        #expect(try JSONDecoder().decode([String: String].self, from: Data(json.utf8))["v"] == tags)
        #expect(SafeText.clean(tags) == "\\u{E0041}\\u{E0042}")
    }
}
