import Foundation
import Synchronization

/// A loopback TCP server that speaks just enough HTTP/1.1 to misbehave on purpose: it reads each
/// connection's request (request line, headers, a Content-Length body), records it as an attempt,
/// and answers as `behaviour` says: a status (after a delay), a reset, or a body dribbled slowly.
/// A connection that starts with a TLS ClientHello is recorded as such and answered in plain HTTP.
///
/// Blocking sockets on threads of its own: one accept thread, one thread per connection, so no
/// answer, however slow, holds up another.
final class FaultServer: Sendable {
    enum Action: Sendable {
        case respond(status: Int, headers: [String: String] = [:], delay: Duration = .zero)
        /// Read the request, then close with a TCP reset.
        case reset
        /// `202` headers at once with a `bytes` long body, then one byte every `interval`.
        case slowBody(bytes: Int, interval: Duration)
    }

    struct Attempt: Sendable {
        var at: Date
        var tls: Bool
        var path: String?
        var messageID: String?
    }

    let port: Int
    private let listener: Int32
    private let recorded = Mutex<[Attempt]>([])
    private let behaviour: @Sendable (_ index: Int, _ path: String) -> Action

    /// `behaviour` gets the index of the attempt among those to `path`s it does not ignore.
    init(behaviour: @escaping @Sendable (_ index: Int, _ path: String) -> Action) throws {
        self.behaviour = behaviour
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var reuse: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard listening else { throw POSIXError(.EADDRINUSE) }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }  // closed by stop()
                Thread.detachNewThread { self.serve(connection) }
            }
        }
    }

    var attempts: [Attempt] { recorded.withLock { $0 } }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        func readMore() -> Bool {
            let count = recv(connection, &chunk, chunk.count, 0)
            guard count > 0 else { return false }
            buffer += chunk[0..<count]
            return true
        }
        guard readMore() else { return }
        if buffer.first == 0x16 {
            // A TLS ClientHello on a plain-HTTP server.
            record(Attempt(at: Date(), tls: true))
            write(connection, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = buffer.indices.dropLast(3).first { Array(buffer[$0..<($0 + 4)]) == separator }
            if headerEnd == nil, !readMore() { return }
        }
        let head = String(decoding: buffer[..<headerEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < headerEnd! + 4 + length { guard readMore() else { return } }
        let path = head.first?.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        let index = record(Attempt(at: Date(), tls: false, path: path, messageID: headers["message_id"]))
        switch behaviour(index, path) {
        case .respond(let status, let extra, let delay):
            if delay > .zero { Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18) }
            let fields = extra.map { "\($0.key): \($0.value)\r\n" }.joined()
            write(connection, "HTTP/1.1 \(status) Scripted\r\n\(fields)Content-Length: 0\r\nConnection: close\r\n\r\n")
        case .reset:
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        case .slowBody(let bytes, let interval):
            guard write(connection, "HTTP/1.1 202 Accepted\r\nContent-Length: \(bytes)\r\nConnection: close\r\n\r\n") else { return }
            for _ in 0..<bytes {
                Thread.sleep(forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
                guard write(connection, "x") else { return }
            }
        }
    }

    /// Records an attempt; returns its index among the attempts so far.
    @discardableResult
    private func record(_ attempt: Attempt) -> Int {
        recorded.withLock { attempts in
            attempts.append(attempt)
            return attempts.count - 1
        }
    }

    @discardableResult
    private func write(_ connection: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }
}
