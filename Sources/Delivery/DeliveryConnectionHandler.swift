import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS

/// One delivery connection: reports it ready (connected, and with TLS once the handshake has
/// succeeded), then carries one exchange at a time: writes its head, body and end with one flush,
/// keeps the response head and the first `bodyLimit` bytes of the body, and when the response
/// has ended hands the connection back to its pool (before completing the exchange, so a caller
/// sending its next request from the callback finds it) or closes it (`Connection: close`).
/// Any error, or a close before the response has ended, fails the exchange and the connection.
final class DeliveryConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = DeliveryExchange
    typealias OutboundOut = HTTPClientRequestPart

    private let pool: DeliveryConnectionPool
    private let endpoint: DeliveryEndpoint
    private let ready: EventLoopPromise<Void>
    private var isReady = false
    private var exchange: DeliveryExchange?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    init(pool: DeliveryConnectionPool, endpoint: DeliveryEndpoint, ready: EventLoopPromise<Void>) {
        self.pool = pool
        self.endpoint = endpoint
        self.ready = ready
    }

    func channelActive(context: ChannelHandlerContext) {
        if !endpoint.isTLS { becomeReady() }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { becomeReady() }
        context.fireUserInboundEventTriggered(event)
    }

    private func becomeReady() {
        isReady = true
        ready.succeed()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        // The pool hands out idle connections only.
        precondition(self.exchange == nil, "a second request on a busy connection")
        self.exchange = exchange
        head = nil
        body = []
        context.write(wrapOutboundOut(.head(exchange.request.head)), promise: nil)
        if let bytes = exchange.request.body { context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            // 1xx heads are informational; the final head follows.
            if head.status.code >= 200 { self.head = head }
        case .body(let part):
            if let limit = exchange?.bodyLimit, body.count < limit { body += part.readableBytesView.prefix(limit - body.count) }
        case .end:
            guard let done = exchange else { return context.close(promise: nil) }
            exchange = nil
            guard let head else {
                done.fail(DeliveryHTTPClient.Failure.connectionClosed)
                return context.close(promise: nil)
            }
            if head.isKeepAlive { pool.release(context.channel, to: endpoint) } else { context.close(promise: nil) }
            done.succeed(.init(head: head, body: body))
            body = []
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if isReady {
            pool.closed(context.channel, of: endpoint)
        } else {
            ready.fail(DeliveryHTTPClient.Failure.connectionClosed)
        }
        if let failed = exchange {
            exchange = nil
            failed.fail(failed.cutShort ?? DeliveryHTTPClient.Failure.connectionClosed)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS peer closing without close_notify: a close like any other (`channelInactive`).
        if case .uncleanShutdown = error as? NIOSSLError { return context.close(promise: nil) }
        ready.fail(error)
        if let failed = exchange {
            exchange = nil
            failed.fail(failed.cutShort ?? error)
        }
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // A connection that failed before it was active.
        ready.fail(DeliveryHTTPClient.Failure.connectionClosed)
    }
}
