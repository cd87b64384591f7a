/// One Redis command: its arguments and their RESP encoding, made once when the command is built
/// and then sent as it is, without being encoded again.
public struct RedisCommand: Sendable, Equatable {
    public let arguments: [String]
    /// `*N\r\n` then `$len\r\narg\r\n` per argument: binary-safe, no terminators.
    let resp: [UInt8]

    public init(_ arguments: [String]) {
        self.arguments = arguments
        var size = 16
        for a in arguments { size += a.utf8.count + 16 }
        var out: [UInt8] = []
        out.reserveCapacity(size)
        Self.header(UInt8(ascii: "*"), arguments.count, &out)
        for a in arguments {
            Self.header(UInt8(ascii: "$"), a.utf8.count, &out)
            out.append(contentsOf: a.utf8)
            out.append(0x0D)
            out.append(0x0A)
        }
        resp = out
    }

    private static func header(_ kind: UInt8, _ n: Int, _ out: inout [UInt8]) {
        out.append(kind)
        out.append(contentsOf: String(n).utf8)
        out.append(0x0D)
        out.append(0x0A)
    }
}
