import Foundation

/// A TCP socket bound to a free loopback port: closed at once to learn a free port, or kept
/// listening (and never answered) to play a server that stalls.
public final class LoopbackSocket {
    public let fd: Int32
    public let port: Int32

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public init(listening: Bool) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = self.fd
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && (!listening || listen(fd, 8) == 0) && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else {
            close(fd)
            throw Failure(description: "no free loopback port")
        }
        port = Int32(UInt16(bigEndian: addr.sin_port))
    }

    deinit { close(fd) }

    public static func freePort() throws -> Int32 { try LoopbackSocket(listening: false).port }
}
