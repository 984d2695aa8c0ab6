import NIOCore
import NIOHTTP1
import NIOPosix

/// A prototype HTTP/1.1 client on SwiftNIO's own codecs (issue 17 item 3), measured against
/// AsyncHTTPClient by `webhook-bridge-bench http-clients`; not part of the product.
///
/// - `HTTPRequestEncoder` and `HTTPResponseDecoder`, nothing else in the pipeline but
///   `LeanHTTPConnectionHandler`;
/// - keep-alive connections per endpoint (scheme, host, port) per event loop, one request at a
///   time on each (no pipelining);
/// - a request's head, body and end are written together and flushed once (one `writev`);
/// - a caller on the event loop gets its response there: no task hop per request.
///
/// A prototype: plain HTTP only (no TLS, proxies or redirects), response bodies dropped, no limit
/// on connections per endpoint (one per request in flight on a loop).
public final class LeanHTTPClient: Sendable {
    /// Where connections go; the key of the pools. Parsed once per webhook, not per request.
    public struct Endpoint: Hashable, Sendable {
        public var scheme: String
        public var host: String
        public var port: Int

        public init(scheme: String = "http", host: String, port: Int) {
            self.scheme = scheme
            self.host = host
            self.port = port
        }
    }

    public struct Request: Sendable {
        public var endpoint: Endpoint
        public var method: HTTPMethod
        public var path: String
        public var headers: HTTPHeaders
        public var body: ByteBuffer?

        /// Adds `Host` and `Content-Length`: the encoder would otherwise send the body chunked.
        public init(endpoint: Endpoint, method: HTTPMethod = .POST, path: String, headers: HTTPHeaders, body: ByteBuffer?) {
            self.endpoint = endpoint
            self.method = method
            self.path = path
            self.headers = headers
            self.headers.add(name: "Host", value: endpoint.port == 80 ? endpoint.host : "\(endpoint.host):\(endpoint.port)")
            self.headers.add(name: "Content-Length", value: String(body?.readableBytes ?? 0))
            self.body = body
        }
    }

    public enum Failure: Error, Sendable {
        case unsupportedScheme(String)
        case notThisClientsEventLoop
        case connectionClosed
        case deadlineExceeded
    }

    private let group: any EventLoopGroup
    /// One pool per event loop, only ever touched on its loop.
    private let pools: [ObjectIdentifier: NIOLoopBoundBox<LeanHTTPConnectionPool>]

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
        var pools: [ObjectIdentifier: NIOLoopBoundBox<LeanHTTPConnectionPool>] = [:]
        for loop in group.makeIterator() {
            // Made here and sent to its loop, where alone it is used from then on.
            pools[ObjectIdentifier(loop)] = .makeBoxSendingValue(LeanHTTPConnectionPool(eventLoop: loop), eventLoop: loop)
        }
        self.pools = pools
    }

    /// Sends `request` on a connection of `eventLoop`'s pool; the response head, once its body
    /// has been read to the end, completes the future on that loop. Called on the loop, nothing
    /// is scheduled; from elsewhere, one hop onto it.
    public func execute(_ request: Request, on eventLoop: any EventLoop, deadline: NIODeadline) -> EventLoopFuture<HTTPResponseHead> {
        guard request.endpoint.scheme == "http" else { return eventLoop.makeFailedFuture(Failure.unsupportedScheme(request.endpoint.scheme)) }
        guard let pool = pools[ObjectIdentifier(eventLoop)] else { return eventLoop.makeFailedFuture(Failure.notThisClientsEventLoop) }
        if eventLoop.inEventLoop { return pool.value.execute(request, deadline: deadline) }
        return eventLoop.flatSubmit { pool.value.execute(request, deadline: deadline) }
    }

    /// Closes every idle connection (requests in flight finish or fail on their own).
    public func shutdown() async {
        for loop in group.makeIterator() {
            guard let pool = pools[ObjectIdentifier(loop)] else { continue }
            try? await loop.submit { pool.value.closeAll() }.get()
        }
    }
}
