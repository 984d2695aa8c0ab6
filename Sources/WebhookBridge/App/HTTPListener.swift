import CoreMetrics
import ControlPlane
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// One HTTP listener of the bridge (the tenants' admin API, or the operators' endpoints on
/// `http.ops_listen`) with `http.listener_limits` applied (DESIGN.md §10): an idle timeout
/// (Hummingbird's), a read timeout per request (`RequestReadTimeoutHandler`), a cap on open
/// connections (further ones wait in the kernel's accept queue, costing no descriptor here) and
/// a bound on header sizes (the NIO decoder's; Hummingbird answers 400 and closes beyond it).
enum HTTPListener {
    /// The Hummingbird application serving `router` on `address`; `name` labels its metrics
    /// (`webhook_bridge_http_connections{listener}`, …) and logs.
    static func application(
        name: String, router: Hummingbird.Router<AdminRequestContext>, address: BridgeConfig.ListenAddress, limits: BridgeConfig.ListenerLimits,
        metrics: any MetricsFactory, logger: Logger, onRunning: @escaping @Sendable (Int) -> Void
    ) -> some Service {
        let readTimeouts = Counter(label: "webhook_bridge_http_read_timeouts_total", dimensions: [("listener", name)], factory: metrics)
        let cap = ConnectionCap(listener: name, max: limits.maxConnections, metrics: metrics, logger: logger)
        let channel = HTTP1Channel.Configuration(
            idleTimeout: TimeAmount(limits.idleTimeout),
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes, maxHeaderFieldCount: maxHeaderFields))
        let readTimeout = TimeAmount(limits.readTimeout)
        let server = HTTPServerBuilder { responder in
            LimitedHTTP1Channel(inner: HTTP1Channel(responder: responder, configuration: channel), readTimeout: readTimeout) { readTimeouts.increment() }
        }
        let listening = Listening()
        let application = Application(
            router: router, server: server,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "webhook-bridge", availableConnectionsDelegate: cap),
            onServerRunning: { channel in
                listening.flag.store(true, ordering: .releasing)
                onRunning(channel.localAddress?.port ?? 0)
            },
            logger: logger)
        return Named(application: application, key: "http.\(name)_listen", address: address, listening: listening)
    }

    /// The listener's service: a failure to listen (the port taken, say) names the setting and
    /// the address, not only the system call.
    private struct Named<Inner: Service>: Service {
        let application: Inner
        let key: String
        let address: BridgeConfig.ListenAddress
        let listening: Listening

        func run() async throws {
            do {
                try await application.run()
            } catch where !listening.flag.load(ordering: .acquiring) {
                throw ListenFailure(description: "\(key) \(address.host):\(address.port): cannot listen: \(error)")
            }
        }
    }

    /// Whether the server got as far as listening.
    private final class Listening: Sendable {
        let flag = Atomic(false)
    }

    struct ListenFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Headers per request: the admin API needs a handful.
    static let maxHeaderFields = 100
}

/// Hummingbird's HTTP/1 child channel with the read timeout in front of its decoder.
struct LimitedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let readTimeout: TimeAmount
    let onReadTimeout: @Sendable () -> Void

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        // On the channel's event loop, before any byte is read: the timeout handler first, the
        // HTTP pipeline behind it, then the end-of-request observer right after the decoder.
        let reader = NIOLoopBound(RequestReadTimeoutHandler(timeout: readTimeout, onTimeout: onReadTimeout), eventLoop: channel.eventLoop)
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(reader.value, position: .first)
        }.flatMap {
            inner.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(RequestEndObserver(reader: reader.value), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// At most `max` open connections on one listener: at the cap the listener stops accepting, and
/// new connections wait in the kernel's accept queue until one closes (the idle and read timeouts
/// see to it). The count is a gauge; reaching the cap is counted and logged (at most once a minute).
struct ConnectionCap: AvailableConnectionsDelegate {
    /// Shared by the copies Hummingbird keeps of this value.
    final class State: Sendable {
        struct Counts {
            var open = 0
            var lastWarning: ContinuousClock.Instant?
        }
        let counts = Mutex(Counts())
        let open: Gauge
        let capReached: Counter

        init(listener: String, metrics: any MetricsFactory) {
            open = Gauge(label: "webhook_bridge_http_connections", dimensions: [("listener", listener)], factory: metrics)
            capReached = Counter(label: "webhook_bridge_http_connection_cap_reached_total", dimensions: [("listener", listener)], factory: metrics)
        }
    }

    let listener: String
    let max: Int
    let logger: Logger
    let state: State

    init(listener: String, max: Int, metrics: any MetricsFactory, logger: Logger) {
        self.listener = listener
        self.max = max
        self.logger = logger
        state = State(listener: listener, metrics: metrics)
    }

    mutating func connectionOpened() {
        let (open, warn) = state.counts.withLock { counts -> (Int, Bool) in
            counts.open += 1
            guard counts.open == max else { return (counts.open, false) }
            let now = ContinuousClock.now
            let warn = counts.lastWarning.map { now - $0 >= .seconds(60) } ?? true
            if warn { counts.lastWarning = now }
            return (counts.open, warn)
        }
        state.open.record(open)
        if open == max {
            state.capReached.increment()
            if warn {
                logger.warning(
                    "HTTP listener at its connection cap: new connections wait (http.listener_limits.max_connections)",
                    metadata: ["listener": "\(listener)", "max_connections": "\(max)"])
            }
        }
    }

    mutating func connectionClosed() {
        state.open.record(state.counts.withLock { counts in
            counts.open -= 1
            return counts.open
        })
    }

    func isAcceptingNewConnections() -> Bool { state.counts.withLock { $0.open } < max }
}
