import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// An HTTP/1.1 server on loopback that answers each request as its script says and records
/// which connection each came on, with its Host header: for `DeliveryHTTPClient`'s tests.
final class ScriptedHTTPServer: Sendable {
    enum Answer: Sendable {
        /// A complete response, keep-alive unless `close`.
        case status(Int, close: Bool = false)
        /// The head and the first bytes of a 100-byte body, then nothing.
        case stallMidBody
        /// No answer: the connection is closed (as a receiver closes an idle keep-alive connection
        /// when the next request arrives).
        case closeUnanswered
    }

    struct Request: Sendable {
        var connection: Int
        var host: String?
    }

    /// What the server has seen, shared with its connections' handlers.
    final class Record: Sendable {
        let state = Mutex<(connections: Int, requests: [Request])>((0, []))
    }

    private let channel: any Channel
    private let record = Record()
    let port: Int
    var connections: Int { record.state.withLock { $0.connections } }
    var requests: [Request] { record.state.withLock { $0.requests } }

    init(tls: TLSConfiguration? = nil, script: @escaping @Sendable (_ index: Int) -> Answer = { _ in .status(202) }) async throws {
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        let record = record
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = record.state.withLock { state in
                        state.connections += 1
                        return state.connections
                    }
                    if let sslContext { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Responder(connection: connection, record: record, script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    func stop() async {
        try? await channel.close()
    }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let connection: Int
        let record: Record
        let script: @Sendable (Int) -> Answer
        private var host: String?

        init(connection: Int, record: Record, script: @escaping @Sendable (Int) -> Answer) {
            self.connection = connection
            self.record = record
            self.script = script
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): host = head.headers.first(name: "host")
            case .body: break
            case .end: answer(context: context)
            }
        }

        private func answer(context: ChannelHandlerContext) {
            let index = record.state.withLock { state in
                state.requests.append(Request(connection: connection, host: host))
                return state.requests.count - 1
            }
            switch script(index) {
            case .status(let code, let close):
                var headers = HTTPHeaders([("Content-Length", "0")])
                if close { headers.add(name: "Connection", value: "close") }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: code), headers: headers))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                    if close { context.close(promise: nil) }
                }
            case .stallMidBody:
                let headers = HTTPHeaders([("Content-Length", "100")])
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .accepted, headers: headers))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "partial")))), promise: nil)
            case .closeUnanswered:
                context.close(promise: nil)
            }
        }
    }
}
