import Foundation
import PropertyBased
import Testing
import TestSupport
@testable import Backends

@Suite struct PropertyTests {
    @Test func theSanitiserLeavesNothingUnsafe() async {
        await propertyCheck(count: 2000, input: Hostile.string) { s in
            let clean = SafeText.clean(s)
            #expect(!Hostile.hasUnsafe(clean))
            if !Hostile.hasUnsafe(s) { #expect(clean == s) }
            #expect(!Hostile.hasUnsafe(SafeText.quoted(s, limit: 10)))
        }
    }

    /// JSON output: every unsafe character as \uXXXX (a surrogate pair beyond the BMP), and the
    /// document still decodes to the very same text.
    @Test func jsonEscapingKeepsTheTextAndShowsNothingRaw() async throws {
        await propertyCheck(count: 2000, input: Hostile.string) { (s: String) in
            let data = try! JSONEncoder().encode(["v": s])
            let escaped = SafeText.jsonEscapingUnsafe(String(decoding: data, as: UTF8.self))
            #expect(!Hostile.hasUnsafe(escaped))
            let back = try? JSONDecoder().decode([String: String].self, from: Data(escaped.utf8))
            #expect(back?["v"] == s)
        }
    }

    @Test func identifiersAreValidOrRefusedWithACleanMessage() async {
        await propertyCheck(count: 2000, input: Hostile.string) { s in
            for make in [{ try TenantID($0).rawValue }, { try Route($0).rawValue }, { try KeyID($0).rawValue }] as [(String) throws -> String] {
                do {
                    let id = try make(s)
                    #expect(id == s && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") })
                } catch {
                    #expect(!Hostile.hasUnsafe("\(error)"))
                }
            }
        }
    }

    @Test func policiesAndSpansParseOrRefuse() async {
        let alphabet = Array("0123456789/-+ sxmhdw")
        let text = Gen.int(in: 0...1000).array(of: 0...8).map { $0.map { String(alphabet[$0 % alphabet.count]) }.joined() }
        await propertyCheck(count: 1000, input: text) { s in Self.policyOrSpan(s) }
        await propertyCheck(count: 1000, input: Hostile.string) { s in Self.policyOrSpan(s) }
    }

    static func policyOrSpan(_ s: String) {
        do {
            let p = try LimitPolicy(parsing: s)
            #expect(p.limit >= 0 && p.window > 0)
            #expect((try? LimitPolicy(parsing: p.text)) == p)
        } catch {
            #expect(!Hostile.hasUnsafe(error.description))
        }
        do { #expect(try TimeSpan.seconds(s, field: "--since") >= 0) } catch { #expect(!Hostile.hasUnsafe(error.description)) }
    }

    /// A ClickHouse literal reads back as the text it was made from, and holds no raw control byte.
    @Test func sqlLiteralsRoundTrip() async {
        await propertyCheck(count: 2000, input: Hostile.string) { s in
            let literal = SQL.literal(s)
            #expect(!literal.utf8.contains { $0 < 0x20 || $0 == 0x7F })
            #expect(Self.unquote(literal) == s)
        }
    }

    /// TabSeparated as ClickHouse escapes it reads back field for field; random bytes never crash.
    @Test func tabSeparatedRowsRoundTrip() async {
        let fieldsGen = Gen.int(in: 0...255).array(of: 0...64).array(of: 1...5).map { $0.map { $0.map(UInt8.init) } }
        await propertyCheck(count: 1000, input: fieldsGen) { (fields: [[UInt8]]) in
            var body: [UInt8] = []
            for (i, f) in fields.enumerated() {
                if i > 0 { body.append(0x09) }
                for b in f {
                    switch b {
                    case 0x5C: body += [0x5C, 0x5C]
                    case 0x09: body += [0x5C, UInt8(ascii: "t")]
                    case 0x0A: body += [0x5C, UInt8(ascii: "n")]
                    case 0x00: body += [0x5C, UInt8(ascii: "0")]
                    default: body.append(b)
                    }
                }
            }
            body.append(0x0A)
            #expect(TSV.rows(body) == [fields])
            _ = TSV.rows(Array(body.dropLast(1 + body.count / 3)))   // cut anywhere: no crash
        }
    }

    /// Replies of any shape for the contract's parsers: a reading or a reason, never a crash, and
    /// a reason that shows nothing raw.
    @Test func redisRepliesOfAnyShapeAreReadingsOrProblems() async throws {
        /// A number picks the kind of a leaf; strings come from the hostile generator.
        @Sendable func leaf(_ kind: Int, _ text: String) -> RedisValue {
            switch kind % 5 {
            case 0: .string(text)
            case 1: .integer(Int64(kind % 11) - 5)
            case 2: .null
            case 3: .error(text)
            default: .string(String(kind))
            }
        }
        let leaves = Gen.int(in: 0...1000).array(of: 0...6)
        let reply = zip(leaves, Hostile.string, Gen.bool).map { (kinds: [Int], text: String, single: Bool) in
            single || kinds.isEmpty ? leaf(kinds.first ?? 0, text) : .array(kinds.map { leaf($0, text) })
        }
        let t = try TenantID("acme")
        await propertyCheck(count: 2000, input: reply) { v in
            if case .bad(let why) = RedisParse.meta(t, v) { #expect(!Hostile.hasUnsafe(why)) }
            if case .bad(let why) = RedisParse.throttle(v, route: .all, key: "k") { #expect(!Hostile.hasUnsafe(why)) }
            if case .bad(let why) = RedisParse.counter(v, key: { "k" }) { #expect(!Hostile.hasUnsafe(why)) }
            if let h = v.hash, let key = RedisParse.apiKey(try! KeyID("k1"), h) { #expect(key.problem.map(Hostile.hasUnsafe) != true) }
            _ = RedisParse.keyMeta(try! KeyID("k1"), v)
        }
    }

    /// Tokens of any shape: refused with a message that shows nothing raw, never a crash.
    @Test func tokensOfAnyShapeAreRefused() async throws {
        let settings = try KeycloakSettings(base: "http://127.0.0.1:1")
        let verifier = TokenVerifier(settings: settings, http: HTTPClient(label: "keycloak", connectTimeout: 0.2, timeout: 0.5))
        @Sendable func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "") }
        let token = zip(Hostile.string, Gen.int(in: 0...3)).map { (text: String, shape: Int) -> String in
            switch shape {
            case 0: return text
            case 1: return "\(text).\(text).\(text)"
            case 2:
                let kid = String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
                return b64("{\"alg\":\"RS256\",\"kid\":\(kid)}") + "." + b64("{}") + ".c2ln"
            default: return b64(text) + ".e30.e30"
            }
        }
        await propertyCheck(count: 300, input: token) { (t: String) in
            do {
                _ = try await verifier.verify(t)
                Issue.record("a token of no signature was accepted: \(t)")
            } catch let error as BackendError {
                #expect(!Hostile.hasUnsafe(error.description))
            } catch {
                Issue.record("not a BackendError: \(error)")
            }
        }
    }

    /// A test-side reader of ClickHouse string literals (as its parser reads them).
    static func unquote(_ literal: String) -> String? {
        var scalars = Array(literal.unicodeScalars)
        guard scalars.count >= 2, scalars.first == "'", scalars.last == "'" else { return nil }
        scalars = Array(scalars.dropFirst().dropLast())
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "'" { return nil }   // an unescaped quote would end the literal
            guard c == "\\" else { out.append(c); i += 1; continue }
            guard i + 1 < scalars.count else { return nil }
            let e = scalars[i + 1]
            i += 2
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "0": out.append("\0")
            case "x":
                guard i + 1 < scalars.count, let v = UInt8(String(String.UnicodeScalarView(scalars[i...(i + 1)])), radix: 16) else { return nil }
                out.append(Unicode.Scalar(v))
                i += 2
            default: out.append(e)
            }
        }
        return String(out)
    }
}
