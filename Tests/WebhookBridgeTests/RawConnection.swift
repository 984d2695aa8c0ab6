import NIOCore
import NIOPosix
import Synchronization

/// A TCP connection that writes whatever it is told, byte by byte if need be, and records what
/// comes back and when the server closed it: for the listener limits (slow, partial and
/// oversized requests), which an HTTP client will not send.
final class RawConnection: Sendable {
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex<[UInt8]>([])

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { $0 += buffer.readableBytesView }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A reset by the server closes the channel; that is what the tests wait for.
            context.close(promise: nil)
        }
    }

    let channel: any Channel
    private let collector: Collector
    private final class CloseTime: Sendable {
        let instant = Mutex<ContinuousClock.Instant?>(nil)
    }
    private let closedAt = CloseTime()

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
        channel.closeFuture.whenComplete { [closedAt] _ in closedAt.instant.withLock { $0 = .now } }
    }

    /// When the connection closed (either side), nil while open.
    var closedTime: ContinuousClock.Instant? { closedAt.instant.withLock { $0 } }

    static func open(port: Int, connectTimeout: TimeAmount = .seconds(30)) async throws -> RawConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, collector: collector)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// Writes `text` every `interval` until the connection closes (a slowloris client).
    func trickle(_ text: String, every interval: TimeAmount) {
        let channel = self.channel
        let task = channel.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { task in
            guard channel.isActive else {
                task.cancel()
                return
            }
            channel.writeAndFlush(ByteBuffer(string: text), promise: nil)
        }
        channel.closeFuture.whenComplete { _ in task.cancel() }
    }

    var received: String { String(decoding: collector.received.withLock { $0 }, as: UTF8.self) }

    /// Waits until the server closes the connection; false if it is still open after `timeout`.
    func waitUntilClosed(timeout: Duration) async -> Bool {
        let promise = channel.eventLoop.makePromise(of: Bool.self)
        let done = Mutex(false)
        @Sendable func finish(_ closed: Bool) {
            if done.withLock({ done in defer { done = true }; return !done }) { promise.succeed(closed) }
        }
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { finish(false) }
        channel.closeFuture.whenComplete { _ in
            timer.cancel()
            finish(true)
        }
        return (try? await promise.futureResult.get()) ?? false
    }

    func close() { channel.close(promise: nil) }
}
