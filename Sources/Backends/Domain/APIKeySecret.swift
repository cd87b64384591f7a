import Crypto

/// A new API key's secret: `tg.{T}.{key_id}.{R}`, R being 32 bytes from the system's
/// cryptographic random source in unpadded base64url. Only `prefix` and `sha256` are ever stored;
/// the plaintext is shown to the operator once. `description` never prints it.
public struct APIKeySecret: Sendable, CustomStringConvertible {
    public let plaintext: String

    public init(tenant: TenantID, key: KeyID) {
        var rng = SystemRandomNumberGenerator()   // getrandom(2) on Linux
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        plaintext = "tg.\(tenant).\(key).\(Self.base64url(bytes))"
    }

    /// A given secret: for tests that need the same one every time.
    init(plaintext: String) { self.plaintext = plaintext }

    /// The first 12 characters, stored so people can recognise a key.
    public var prefix: String { String(plaintext.prefix(12)) }

    /// Hex SHA-256 of the whole secret, what the gateway compares in constant time.
    public var sha256: String { SHA256.hash(data: Array(plaintext.utf8)).map { Self.hex($0) }.joined() }

    public var description: String { "\(prefix)… (secret hidden)" }

    /// `k_` and 8 random characters of Crockford's base32.
    public static func newKeyID() -> KeyID {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var rng = SystemRandomNumberGenerator()
        return try! KeyID("k_" + String((0..<8).map { _ in alphabet[Int.random(in: 0..<32, using: &rng)] }))
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], table[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)]]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }
}
