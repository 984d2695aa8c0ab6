import NIOCore
import NIOHTTP1

/// Closes a connection whose request does not arrive whole within `timeout` of its first byte:
/// a slowloris client that trickles a header (or a body) never holds a connection longer than
/// that (DESIGN.md §10). Connections with no request under way are the idle timeout's business
/// (Hummingbird's `HTTPConnectionStateHandler`), so a keep-alive client is not hurried.
///
/// It sits first in the child channel's pipeline, before the HTTP decoder, to see the first byte
/// of each request; `RequestEndObserver`, after the decoder, tells it when the request ended.
/// Both run on the channel's event loop, so the state needs no lock.
final class RequestReadTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private let onTimeout: @Sendable () -> Void
    /// The deadline of the request being read; nil between requests.
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount, onTimeout: @escaping @Sendable () -> Void) {
        self.timeout = timeout
        self.onTimeout = onTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if deadline == nil {
            // The first byte of a request (or of the bytes after the previous one ended).
            let channel = context.channel
            let onTimeout = self.onTimeout
            deadline = context.eventLoop.scheduleTask(in: timeout) {
                onTimeout()
                channel.close(promise: nil)
            }
        }
        // The decoder below may end the request within this call (`requestEnded()`).
        context.fireChannelRead(data)
    }

    /// The request's last part went through the decoder: no deadline until the next byte.
    func requestEnded() {
        deadline?.cancel()
        deadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        requestEnded()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        requestEnded()
    }
}

/// After the HTTP decoder: tells `RequestReadTimeoutHandler` that a request has arrived whole.
final class RequestEndObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let reader: RequestReadTimeoutHandler

    init(reader: RequestReadTimeoutHandler) { self.reader = reader }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { reader.requestEnded() }
        context.fireChannelRead(data)
    }
}
