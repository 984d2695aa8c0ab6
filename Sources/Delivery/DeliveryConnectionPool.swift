import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One event loop's delivery connections, by endpoint. Bound to its loop: every method runs
/// there, so it needs no lock. A connection is idle (in `idle`, ready for a request) or carries
/// exactly one exchange; `open` counts both and the ones being made, never above the cap.
final class DeliveryConnectionPool {
    struct Settings {
        var connectionsPerEndpoint: Int
        var idleLifetime: TimeAmount
        var connectTimeout: TimeAmount
    }

    private struct Endpoint {
        var idle: [(channel: any Channel, since: NIODeadline)] = []
        var open = 0
        /// Of `open`, those being made (connecting, or in their TLS handshake).
        var connecting = 0
        var waiting: [DeliveryExchange] = []
        /// Connections that failed to be made in a row, and why the last one did (the reason a
        /// waiting request fails with at its deadline).
        var failures = 0
        var lastFailure: (any Error)?
        var retryScheduled = false
    }

    let eventLoop: any EventLoop
    private let settings: Settings
    private let tls: ReceiverTLS
    private var endpoints: [DeliveryEndpoint: Endpoint] = [:]
    private var sweep: Scheduled<Void>?
    private var isShutDown = false

    init(eventLoop: any EventLoop, settings: Settings, tls: ReceiverTLS) {
        self.eventLoop = eventLoop
        self.settings = settings
        self.tls = tls
    }

    func execute(_ exchange: DeliveryExchange) {
        guard !isShutDown else { return exchange.fail(DeliveryHTTPClient.Failure.shutDown) }
        let pool = NIOLoopBound(self, eventLoop: eventLoop)
        exchange.timeout = eventLoop.assumeIsolated().scheduleTask(deadline: exchange.deadline) {
            pool.value.cutShort(exchange, as: .deadlineExceeded)
        }
        let key = exchange.request.endpoint
        if let channel = endpoints[key]?.idle.popLast()?.channel { return send(exchange, on: channel) }
        endpoints[key, default: Endpoint()].waiting.append(exchange)
        connectIfNeeded(key)
    }

    /// The deadline fired or the request was cancelled: a waiting request fails at once (with the
    /// last connection failure, as AsyncHTTPClient's does); one on a connection closes it.
    func cutShort(_ exchange: DeliveryExchange, as reason: DeliveryHTTPClient.Failure) {
        switch exchange.state {
        case .done:
            return
        case .waiting:
            let key = exchange.request.endpoint
            endpoints[key]?.waiting.removeAll { $0 === exchange }
            let endpoint = endpoints[key]
            // No reason to give but the deadline, and no connection made: AsyncHTTPClient's
            // `connectTimeout`.
            let established = (endpoint?.open ?? 0) - (endpoint?.connecting ?? 0)
            let connecting = if case .deadlineExceeded = reason, established == 0 { true } else { false }
            exchange.fail(endpoint?.lastFailure ?? (connecting ? DeliveryHTTPClient.Failure.connectTimeout : reason))
            forgetIfUnused(key)
        case .sending(let channel):
            exchange.cutShort = reason
            channel.close(promise: nil)
        }
    }

    func cancel(_ exchange: DeliveryExchange) { cutShort(exchange, as: .cancelled) }

    /// A request whose reused connection was lost before any of its response came
    /// (`DeliveryConnectionHandler`): first in line for the next connection, within its deadline.
    func resend(_ exchange: DeliveryExchange) {
        guard !isShutDown else { return exchange.fail(DeliveryHTTPClient.Failure.shutDown) }
        exchange.state = .waiting
        let key = exchange.request.endpoint
        if let channel = endpoints[key]?.idle.popLast()?.channel { return send(exchange, on: channel) }
        endpoints[key, default: Endpoint()].waiting.insert(exchange, at: 0)
        connectIfNeeded(key)
    }

    /// A connection whose response ended with keep-alive: to the next waiting request, or idle.
    func release(_ channel: any Channel, to key: DeliveryEndpoint) {
        guard !isShutDown else { return channel.close(promise: nil) }
        if let next = endpoints[key]?.waiting.first {
            endpoints[key]?.waiting.removeFirst()
            return send(next, on: channel)
        }
        endpoints[key, default: Endpoint()].idle.append((channel, .now()))
        scheduleSweep()
    }

    /// A connection closed (by either side): never handed out again; its place may go to a
    /// waiting request.
    func closed(_ channel: any Channel, of key: DeliveryEndpoint) {
        guard var endpoint = endpoints[key] else { return }
        endpoint.idle.removeAll { $0.channel === channel }
        endpoint.open -= 1
        endpoints[key] = endpoint
        connectIfNeeded(key)
        forgetIfUnused(key)
    }

    func shutdown() {
        isShutDown = true
        sweep?.cancel()
        for endpoint in endpoints.values {
            for waiting in endpoint.waiting { waiting.fail(DeliveryHTTPClient.Failure.shutDown) }
            for (channel, _) in endpoint.idle { channel.close(promise: nil) }
        }
    }

    func connectionCount(_ key: DeliveryEndpoint) -> Int { endpoints[key]?.open ?? 0 }

    private func send(_ exchange: DeliveryExchange, on channel: any Channel) {
        exchange.state = .sending(channel)
        channel.writeAndFlush(exchange).assumeIsolated().whenFailure { error in
            // An open connection is closed, and its handler settles the exchange (it may send it
            // again); one already closed has seen its handler's last word.
            if channel.isActive { channel.close(promise: nil) } else { exchange.fail(error) }
        }
    }

    /// Makes a connection when requests wait and the cap allows, unless a failed one's backoff runs.
    private func connectIfNeeded(_ key: DeliveryEndpoint) {
        guard let endpoint = endpoints[key], !isShutDown, !endpoint.waiting.isEmpty, !endpoint.retryScheduled,
            endpoint.open < settings.connectionsPerEndpoint
        else { return }
        endpoints[key]?.open += 1
        endpoints[key]?.connecting += 1
        let pool = NIOLoopBound(self, eventLoop: eventLoop)
        connect(key).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel): pool.value.connected(channel, to: key)
            case .failure(let error): pool.value.failedToConnect(key, error)
            }
        }
    }

    private func connected(_ channel: any Channel, to key: DeliveryEndpoint) {
        endpoints[key]?.connecting -= 1
        endpoints[key]?.failures = 0
        endpoints[key]?.lastFailure = nil
        release(channel, to: key)
    }

    /// As AsyncHTTPClient: the next connection after a backoff (100 ms × 1.25ⁿ, at most 60 s)
    /// while requests wait; they fail at their deadlines with this error.
    private func failedToConnect(_ key: DeliveryEndpoint, _ error: any Error) {
        guard var endpoint = endpoints[key] else { return }
        endpoint.open -= 1
        endpoint.connecting -= 1
        endpoint.failures += 1
        endpoint.lastFailure = error
        guard !endpoint.waiting.isEmpty, !isShutDown else {
            endpoints[key] = endpoint
            return forgetIfUnused(key)
        }
        endpoint.retryScheduled = true
        endpoints[key] = endpoint
        let backoff = min(100 * pow(1.25, Double(endpoint.failures - 1)), 60_000)
        let pool = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(backoff))) {
            pool.value.endpoints[key]?.retryScheduled = false
            pool.value.connectIfNeeded(key)
            pool.value.forgetIfUnused(key)
        }
    }

    /// An endpoint with no connection, no request and no backoff running is dropped (its failure
    /// count with it).
    private func forgetIfUnused(_ key: DeliveryEndpoint) {
        guard let endpoint = endpoints[key], endpoint.open == 0, endpoint.waiting.isEmpty, !endpoint.retryScheduled else { return }
        endpoints[key] = nil
    }

    /// Closes connections idle longer than `idleLifetime`, looked for every tenth of it while any
    /// are idle.
    private func scheduleSweep() {
        guard sweep == nil else { return }
        let pool = NIOLoopBound(self, eventLoop: eventLoop)
        sweep = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(settings.idleLifetime.nanoseconds / 10)) {
            pool.value.sweep = nil
            pool.value.closeIdle(before: .now() - pool.value.settings.idleLifetime)
        }
    }

    private func closeIdle(before limit: NIODeadline) {
        var anyIdle = false
        for (key, endpoint) in endpoints {
            for (channel, since) in endpoint.idle where since < limit {
                // Out of `idle` now; `closed` counts it out of `open` when its close is seen.
                endpoints[key]?.idle.removeAll { $0.channel === channel }
                channel.close(promise: nil)
            }
            anyIdle = anyIdle || !(endpoints[key]?.idle.isEmpty ?? true)
        }
        if anyIdle { scheduleSweep() }
    }

    private func connect(_ key: DeliveryEndpoint) -> EventLoopFuture<any Channel> {
        let sslContext: NIOSSLContext?
        do { sslContext = key.isTLS ? try tls.context(for: key.tls) : nil } catch { return eventLoop.makeFailedFuture(error) }
        let pool = NIOLoopBound(self, eventLoop: eventLoop)
        let ready = eventLoop.makePromise(of: Void.self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(settings.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        // The name for SNI and the certificate check, also when pinned to an address.
                        try pipeline.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: key.hostIsAddress ? nil : key.host))
                    }
                    try pipeline.addHTTPClientHandlers()
                    // The handler keeps the pool alive while its channel is open.
                    try pipeline.addHandler(DeliveryConnectionHandler(pool: pool.value, endpoint: key, ready: ready))
                }
            }
        let connected: EventLoopFuture<any Channel>
        if let address = key.address ?? (key.hostIsAddress ? key.host : nil) {
            do { connected = bootstrap.connect(to: try SocketAddress(ipAddress: address, port: key.port)) } catch {
                ready.fail(error)
                return eventLoop.makeFailedFuture(error)
            }
        } else {
            connected = bootstrap.connect(host: key.host, port: key.port)
        }
        // Ready once connected and, with TLS, once the handshake has succeeded.
        return connected.flatMap { channel in ready.futureResult.map { channel } }.flatMapErrorThrowing { error in
            ready.fail(error)
            throw error
        }
    }
}
