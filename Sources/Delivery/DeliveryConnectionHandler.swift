import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS

/// One delivery connection: reports it ready (connected, and with TLS once the handshake has
/// succeeded), then carries one exchange at a time: writes its head, body and end with one flush,
/// keeps the response head and the first `bodyLimit` bytes of the body, and when the response
/// has ended hands the connection back to its pool (before completing the exchange, so a caller
/// sending its next request from the callback finds it) or closes it (`Connection: close`).
/// Any error, or a close before the response has ended, fails the exchange and the connection,
/// but for one case: a connection that had carried a response before and is lost before any byte
/// of the next one came was most likely closed by the receiver while idle, as the request went
/// out (a keep-alive timeout shorter than ours): that request is sent once more, on another
/// connection (`DeliveryConnectionPool.resend`), as browsers and Go's client do. A receiver may
/// then see it twice, which at-least-once delivery allows (its `message_id` is the same).
final class DeliveryConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = DeliveryExchange
    typealias OutboundOut = HTTPClientRequestPart

    private let pool: DeliveryConnectionPool
    private let endpoint: DeliveryEndpoint
    private let ready: EventLoopPromise<Void>
    private var isReady = false
    /// Responses this connection has carried to their end.
    private var carried = 0
    private var exchange: DeliveryExchange?
    /// Whether any of the current exchange's response has come.
    private var answered = false
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
        answered = false
        head = nil
        body = []
        context.write(wrapOutboundOut(.head(exchange.request.head)), promise: nil)
        if let bytes = exchange.request.body { context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        answered = true
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
            carried += 1
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
        lose(DeliveryHTTPClient.Failure.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS peer closing without close_notify: a close like any other (`channelInactive`).
        if case .uncleanShutdown = error as? NIOSSLError { return context.close(promise: nil) }
        ready.fail(error)
        lose(error)
        context.close(promise: nil)
    }

    /// The connection failed or closed while it carried `exchange`: sent once more if the
    /// receiver most likely closed it while idle (see the type's comment), or failed.
    private func lose(_ error: any Error) {
        guard let lost = exchange else { return }
        exchange = nil
        if let reason = lost.cutShort { return lost.fail(reason) }
        if carried > 0, !answered, !lost.isDone, !lost.resent {
            lost.resent = true
            pool.resend(lost)
        } else {
            lost.fail(error)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // A connection that failed before it was active.
        ready.fail(DeliveryHTTPClient.Failure.connectionClosed)
    }
}
