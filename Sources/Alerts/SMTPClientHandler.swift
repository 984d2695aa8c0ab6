import NIOCore

/// Pairs commands with replies through a FIFO of promises, on the channel's event loop. The
/// greeting is the reply to the first promise, registered before anything is sent.
final class SMTPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = SMTPReply
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var waiting: [EventLoopPromise<SMTPReply>] = []
    private var failure: (any Error)?

    /// Registers interest in the next reply. Call on the event loop.
    func expectReply(_ promise: EventLoopPromise<SMTPReply>) {
        if let failure {
            promise.fail(failure)
        } else {
            waiting.append(promise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        guard !waiting.isEmpty else { return }  // an unsolicited reply: nothing waits for it
        waiting.removeFirst().succeed(reply)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(SMTPError(.transient, "the SMTP server closed the connection"))
        context.fireChannelInactive()
    }

    /// The pipeline is torn down (also when connecting failed and the channel never became
    /// active): nothing will answer what still waits.
    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(SMTPError(.transient, "the connection to the SMTP server ended"))
    }

    private func failAll(_ error: any Error) {
        failure = failure ?? error
        let promises = waiting
        waiting = []
        for promise in promises { promise.fail(error) }
    }
}
