import NIOCore
import NIOHTTP1
import NIOPosix

/// One event loop's keep-alive connections, by endpoint. Bound to its loop: every method runs
/// there, so it needs no lock.
final class LeanHTTPConnectionPool {
    let eventLoop: any EventLoop
    private var idle: [LeanHTTPClient.Endpoint: [any Channel]] = [:]

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func execute(_ request: LeanHTTPClient.Request, deadline: NIODeadline) -> EventLoopFuture<HTTPResponseHead> {
        eventLoop.assertInEventLoop()
        let response = eventLoop.makePromise(of: HTTPResponseHead.self)
        let exchange = LeanHTTPConnectionHandler.Exchange(request: request, deadline: deadline, response: response)
        // An idle connection the server closed is dropped on `channelInactive`, on this loop, so
        // one in the list is open as far as this loop has seen.
        if let channel = idle[request.endpoint]?.popLast() {
            channel.write(exchange, promise: nil)
        } else {
            connect(request.endpoint).assumeIsolated().whenComplete { result in
                switch result {
                case .success(let channel): channel.write(exchange, promise: nil)
                case .failure(let error): response.fail(error)
                }
            }
        }
        return response.futureResult
    }

    private func connect(_ endpoint: LeanHTTPClient.Endpoint) -> EventLoopFuture<any Channel> {
        let pool = NIOLoopBound(self, eventLoop: eventLoop)
        return ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    // The handler keeps the pool (and so its loop's idle connections) alive while
                    // its channel is open; `closeAll()` breaks that at shutdown.
                    try channel.pipeline.syncOperations.addHandler(LeanHTTPConnectionHandler(pool: pool.value, endpoint: endpoint))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
    }

    /// A connection whose response ended with keep-alive is ready for the next request.
    func release(_ channel: any Channel, to endpoint: LeanHTTPClient.Endpoint) {
        idle[endpoint, default: []].append(channel)
    }

    /// A closed connection is never handed out again.
    func forget(_ channel: any Channel, of endpoint: LeanHTTPClient.Endpoint) {
        idle[endpoint]?.removeAll { $0 === channel }
    }

    func closeAll() {
        let channels = idle.values.joined()
        idle = [:]
        for channel in channels { channel.close(promise: nil) }
    }
}
