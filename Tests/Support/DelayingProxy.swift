import Foundation
import Synchronization

/// A TCP proxy on loopback in front of a real Redis, that loses one reply the way networks do:
/// it holds the first request holding `EVAL` (or its reply) for a while, or, once that request has
/// gone through, stops answering altogether. Plain threads and blocking sockets.
public final class DelayingProxy: @unchecked Sendable {
    public enum Mode: Sendable {
        /// The first EVAL reaches Redis `seconds` late (the client has given up by then).
        case delayRequest(Double)
        /// The first EVAL is run at once; its reply reaches the client `seconds` late.
        case delayReply(Double)
        /// The first EVAL is run; then no reply, and no connection is accepted any more.
        case vanish
    }

    public let port: Int32
    private let listener: Int32
    private let target: Int32
    private let mode: Mode
    private let armed = Mutex(true)
    private let gone = Mutex(false)
    private let links = Mutex<[Link]>([])

    /// One proxied connection. Ending it shuts both sockets down, which wakes both pumps; the
    /// numbers are closed only when both pumps are done with them (a closed number may at once
    /// belong to another connection of the process).
    final class Link: @unchecked Sendable {
        let client: Int32, server: Int32
        /// Pumps still running, and whether the numbers were closed: once they are, they may
        /// belong to another connection of the process, which a late `end` must not shut down.
        private let state = Mutex((pumps: 2, closed: false))
        /// How long the next reply is held, once the connection's EVAL went through.
        let held = Mutex<Double?>(nil)
        init(client: Int32, server: Int32) { (self.client, self.server) = (client, server) }

        func end() {
            state.withLock { s in
                guard !s.closed else { return }
                shutdown(client, Int32(SHUT_RDWR))
                shutdown(server, Int32(SHUT_RDWR))
            }
        }

        /// A pump is done: the last one closes the sockets.
        func pumpDone() {
            state.withLock { s in
                shutdown(client, Int32(SHUT_RDWR))
                shutdown(server, Int32(SHUT_RDWR))
                s.pumps -= 1
                guard s.pumps == 0 else { return }
                Glibc.close(client)
                Glibc.close(server)
                s.closed = true
            }
        }
    }

    public init(to targetPort: Int32, mode: Mode) throws {
        signal(SIGPIPE, SIG_IGN)   // a write to a connection it dropped must fail, not end the tests
        let l = try LoopbackSocket(listening: true)
        listener = dup(l.fd)
        port = l.port
        target = targetPort
        self.mode = mode
        Thread { [self] in acceptLoop() }.start()
    }

    /// Ends every connection; the listener is closed by its own thread.
    public func stop() {
        gone.withLock { $0 = true }
        for link in links.withLock({ $0 }) { link.end() }
    }

    private func acceptLoop() {
        defer { close(listener) }
        while !gone.withLock({ $0 }) {
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            if gone.withLock({ $0 }) { close(client); return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = in_port_t(UInt16(target).bigEndian)
            let ok = withUnsafePointer(to: &addr) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
            guard ok else { close(client); close(server); continue }
            let link = Link(client: client, server: server)
            links.withLock { $0.append(link) }
            Thread { [self] in pump(link, requests: true) }.start()
            Thread { [self] in pump(link, requests: false) }.start()
        }
    }

    private func pump(_ link: Link, requests: Bool) {
        let (from, to) = requests ? (link.client, link.server) : (link.server, link.client)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(from, &buffer, buffer.count)
            if n <= 0 { break }
            let chunk = Array(buffer[0..<n])
            if requests, String(decoding: chunk, as: UTF8.self).contains("EVAL"), armed.withLock({ a in defer { a = false }; return a }) {
                switch mode {
                case .delayRequest(let s): Thread.sleep(forTimeInterval: s)   // even if the client has hung up meanwhile
                case .delayReply(let s): link.held.withLock { $0 = s }
                case .vanish: link.held.withLock { $0 = Double.infinity }
                }
            }
            if !requests, let hold = link.held.withLock({ h in defer { h = nil }; return h }) {
                if hold == .infinity {
                    stop()
                    break
                }
                Thread.sleep(forTimeInterval: hold)
            }
            var offset = 0
            while offset < chunk.count {
                let w = chunk.withUnsafeBytes { write(to, $0.baseAddress! + offset, chunk.count - offset) }
                if w <= 0 { break }
                offset += w
            }
        }
        link.pumpDone()
    }
}
