import NIOCore
import NIOHTTP1

/// One connection's requests, one at a time: writes a request as head, body and end with one
/// flush, completes its promise when the response has ended, then hands the connection back to
/// its pool (before the promise, so a caller sending its next request from the callback finds it).
final class LeanHTTPConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Exchange
    typealias OutboundOut = HTTPClientRequestPart

    /// A request and where its response goes.
    struct Exchange {
        var request: LeanHTTPClient.Request
        var deadline: NIODeadline
        var response: EventLoopPromise<HTTPResponseHead>
    }

    private struct InFlight {
        var response: EventLoopPromise<HTTPResponseHead>
        var head: HTTPResponseHead?
        var timeout: Scheduled<Void>
    }

    private let pool: LeanHTTPConnectionPool
    private let endpoint: LeanHTTPClient.Endpoint
    private var inFlight: InFlight?
    private var timedOut = false

    init(pool: LeanHTTPConnectionPool, endpoint: LeanHTTPClient.Endpoint) {
        self.pool = pool
        self.endpoint = endpoint
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        // The pool hands out idle connections only.
        precondition(inFlight == nil, "a second request on a busy connection")
        let channel = context.channel
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(deadline: exchange.deadline) { [self] in
            timedOut = true
            channel.close(promise: nil)
        }
        inFlight = InFlight(response: exchange.response, head: nil, timeout: timeout)
        let request = exchange.request
        context.write(wrapOutboundOut(.head(HTTPRequestHead(version: .http1_1, method: request.method, uri: request.path, headers: request.headers))), promise: nil)
        if let body = request.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            // 1xx heads are informational; the final head follows.
            if head.status.code >= 200 { inFlight?.head = head }
        case .body:
            break
        case .end:
            guard let done = inFlight else { return }
            inFlight = nil
            done.timeout.cancel()
            guard let head = done.head else {
                done.response.fail(LeanHTTPClient.Failure.connectionClosed)
                context.close(promise: nil)
                return
            }
            if head.isKeepAlive { pool.release(context.channel, to: endpoint) } else { context.close(promise: nil) }
            done.response.succeed(head)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pool.forget(context.channel, of: endpoint)
        if let failed = inFlight {
            inFlight = nil
            failed.timeout.cancel()
            failed.response.fail(timedOut ? LeanHTTPClient.Failure.deadlineExceeded : LeanHTTPClient.Failure.connectionClosed)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let failed = inFlight {
            inFlight = nil
            failed.timeout.cancel()
            failed.response.fail(error)
        }
        context.close(promise: nil)
    }
}
