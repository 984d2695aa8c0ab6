import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The HTTP/1.1 client of direct deliveries (issue 17 item 3: about a third of AsyncHTTPClient's
/// CPU per request, docs/benchmarks.md), on SwiftNIO's own codecs:
/// - keep-alive connections per `DeliveryEndpoint` (scheme, host, port, pinned address, TLS) per
///   event loop, one request at a time on each, at most `connectionsPerLoop` per endpoint (more
///   requests wait for one), closed after `idleLifetime` unused;
/// - a request's head, body and end written and flushed together;
/// - a deadline for the whole response (head and body); a connection it fires on is closed, as is
///   one answered with `Connection: close`, failed, or cut short by `cancel`;
/// - connections that cannot be made are tried again with a backoff until the deadline, which
///   then fails with the last reason (as AsyncHTTPClient does);
/// - a request whose reused connection is lost before any of the response came is sent once
///   more on another (`DeliveryConnectionHandler`);
/// - no redirects, no decompression; bodies read and dropped but for the first `bodyLimit` bytes.
///
/// `shutdown()` closes the idle connections.
final class DeliveryHTTPClient: Sendable {
    enum Failure: Error, Sendable, CustomStringConvertible {
        case invalidURL(String)
        case deadlineExceeded
        case connectTimeout
        case connectionClosed
        case cancelled
        case shutDown

        var description: String {
            switch self {
            case .invalidURL(let url): "invalid URL: \(url)"
            case .deadlineExceeded: "deadline exceeded"
            case .connectTimeout: "connect timeout"
            case .connectionClosed: "remote connection closed"
            case .cancelled: "cancelled"
            case .shutDown: "client shut down"
            }
        }
    }

    struct Response: Sendable {
        var head: HTTPResponseHead
        var body: [UInt8]
    }

    private let group: MultiThreadedEventLoopGroup
    /// One pool per event loop, only ever touched on its loop.
    private let pools: [ObjectIdentifier: NIOLoopBoundBox<DeliveryConnectionPool>]
    let tls: ReceiverTLS

    init(
        group: MultiThreadedEventLoopGroup = .singleton, maxConnectionsPerEndpoint: Int = 64, idleLifetime: TimeAmount = .seconds(60),
        connectTimeout: TimeAmount = .seconds(5), tls: ReceiverTLS = ReceiverTLS()
    ) {
        self.group = group
        self.tls = tls
        let loops = Array(group.makeIterator())
        // The cap is shared out over the loops, as AsyncHTTPClient's per host is over its pool.
        let perLoop = max(1, (maxConnectionsPerEndpoint + loops.count - 1) / loops.count)
        var pools: [ObjectIdentifier: NIOLoopBoundBox<DeliveryConnectionPool>] = [:]
        for loop in loops {
            let settings = DeliveryConnectionPool.Settings(
                connectionsPerEndpoint: perLoop, idleLifetime: idleLifetime, connectTimeout: connectTimeout)
            // Made here and used on its loop only from then on.
            pools[ObjectIdentifier(loop)] = .makeBoxSendingValue(DeliveryConnectionPool(eventLoop: loop, settings: settings, tls: tls), eventLoop: loop)
        }
        self.pools = pools
    }

    /// Sends `request` and waits for its response, body included, until `deadline`. `abort` and
    /// the task's cancellation cut it short (its connection is closed).
    func execute(_ request: DeliveryRequest, deadline: NIODeadline, bodyLimit: Int = 0, abort: RequestAbort? = nil) async throws -> Response {
        let loop = group.next()
        guard let pool = pools[ObjectIdentifier(loop)] else { throw Failure.shutDown }
        let exchange = DeliveryExchange(request: request, deadline: deadline, bodyLimit: bodyLimit, promise: loop.makePromise())
        loop.execute { pool.value.execute(exchange) }
        abort?.onAbort { loop.execute { pool.value.cancel(exchange) } }
        return try await withTaskCancellationHandler {
            try await exchange.promise.futureResult.get()
        } onCancel: {
            loop.execute { pool.value.cancel(exchange) }
        }
    }

    /// Closes every idle connection; requests after it fail.
    func shutdown() async {
        for loop in group.makeIterator() {
            guard let pool = pools[ObjectIdentifier(loop)] else { continue }
            try? await loop.submit { pool.value.shutdown() }.get()
        }
    }

    /// Connections open or being made, over all loops (for tests).
    func connectionCount(_ endpoint: DeliveryEndpoint) async -> Int {
        var count = 0
        for loop in group.makeIterator() {
            guard let pool = pools[ObjectIdentifier(loop)] else { continue }
            count += (try? await loop.submit { pool.value.connectionCount(endpoint) }.get()) ?? 0
        }
        return count
    }
}

/// A request and where its response goes. Its mutable state is touched on its loop only (by the
/// pool and the connection handler), hence `@unchecked Sendable`: it crosses to the loop once.
final class DeliveryExchange: @unchecked Sendable {
    enum State {
        case waiting
        case sending(any Channel)
        case done
    }

    let request: DeliveryRequest
    let deadline: NIODeadline
    let bodyLimit: Int
    let promise: EventLoopPromise<DeliveryHTTPClient.Response>
    var state = State.waiting
    var timeout: Scheduled<Void>?
    /// The deadline fired, or the request was cancelled, while on a connection: how it fails
    /// when that connection closes.
    var cutShort: DeliveryHTTPClient.Failure?
    /// Sent once more after its reused connection was lost unanswered (at most once).
    var resent = false

    init(request: DeliveryRequest, deadline: NIODeadline, bodyLimit: Int, promise: EventLoopPromise<DeliveryHTTPClient.Response>) {
        self.request = request
        self.deadline = deadline
        self.bodyLimit = bodyLimit
        self.promise = promise
    }

    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    func succeed(_ response: DeliveryHTTPClient.Response) {
        guard !isDone else { return }
        state = .done
        timeout?.cancel()
        promise.succeed(response)
    }

    func fail(_ error: any Error) {
        guard !isDone else { return }
        state = .done
        timeout?.cancel()
        promise.fail(error)
    }
}
