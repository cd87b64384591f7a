import CHiredis

/// A reply as hiredis parsed it, read in place. It is valid only inside the `decode` closure it is
/// handed to: a decoder turns it into what its caller needs (a `RedisValue`, or numbers for the
/// hot read) without building anything in between.
public struct RedisReply {
    private let raw: UnsafeMutablePointer<redisReply>
    init(_ raw: UnsafeMutablePointer<redisReply>) { self.raw = raw }

    enum Kind { case string, status, error, integer, null, array, unknown }

    var kind: Kind {
        switch raw.pointee.type {
        case REDIS_REPLY_STRING: .string
        case REDIS_REPLY_STATUS: .status
        case REDIS_REPLY_ERROR: .error
        case REDIS_REPLY_INTEGER: .integer
        case REDIS_REPLY_NIL: .null
        case REDIS_REPLY_ARRAY: .array
        default: .unknown
        }
    }

    var integer: Int64 { raw.pointee.integer }
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: raw.pointee.str, count: raw.pointee.str == nil ? 0 : Int(raw.pointee.len)) }
    /// Bulk, status and error text; invalid UTF-8 becomes U+FFFD.
    var text: String { String(decoding: bytes, as: UTF8.self) }
    var count: Int { kind == .array ? Int(raw.pointee.elements) : 0 }
    /// The `i`th element of an array reply; nil for a missing element.
    subscript(i: Int) -> RedisReply? { raw.pointee.element[i].map(RedisReply.init) }

    /// A bulk string that is a whole number >= 0, read straight from the reply's bytes.
    var decimal: Int? { kind == .string ? parseDecimal(utf8: bytes) : nil }

    /// The general decoding: the whole reply as a value tree.
    public var value: RedisValue {
        switch kind {
        case .string: return .string(text)
        case .status: return .status(text)
        case .error: return .error(text)
        case .integer: return .integer(integer)
        case .null: return .null
        case .array:
            var items: [RedisValue] = []
            items.reserveCapacity(count)
            for i in 0..<count { if let e = self[i] { items.append(e.value) } }
            return .array(items)
        case .unknown: return .error("unknown reply type \(raw.pointee.type)")
        }
    }
}
