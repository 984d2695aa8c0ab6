import AsyncHTTPClient
import ControlPlane
import Foundation
import Hummingbird
import HummingbirdTesting
import Kafka
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge

/// Operators' endpoints apart from the tenants' API, and the limits of both listeners
/// (DESIGN.md §10, issue 13 item 6). The heavy case (500 slowloris connections) is in the
/// Reliability suites.
@Suite("HTTP listeners: operators apart from tenants, timeouts, cap, header size")
struct ListenerTests {
    static let opsRoutes = ["/health", "/ready", "/metrics", "/status", "/explain"]

    @Test("the admin router serves the operators' routes unless they have a listener of their own; the ops router serves only them")
    func routers() async throws {
        try await withReceiver(secret: nil) { _, port in
            let config = try testConfig(sources: [(BridgeTestCluster.unique("routers"), "order_state_changed")], receiverPort: port, group: try BridgeTestCluster.group())
            let tenantPaths = ["/openapi.yaml", "/webhooks"]
            let (all, tenants, ops) = try await withBridge(config) { bridge in
                let api = AdminAPI(backend: bridge.adminBackend, logger: BridgeTestCluster.logger)
                return (
                    try await Self.statuses(api.router(), Self.opsRoutes + tenantPaths),
                    try await Self.statuses(api.router(includingOps: false), Self.opsRoutes + tenantPaths),
                    try await Self.statuses(api.opsRouter(), Self.opsRoutes + tenantPaths))
            }
            for path in Self.opsRoutes {
                #expect(all[path] != 404, "\(path)")
                #expect(tenants[path] == 404, "\(path)")
                #expect(ops[path] != 404, "\(path)")
            }
            for path in tenantPaths {
                #expect(all[path] == 200 && tenants[path] == 200, "\(path)")
                #expect(ops[path] == 404, "\(path)")
            }
        }
    }

    /// The status of a GET of each path (with the test site's token) from `router`.
    static func statuses(_ router: Hummingbird.Router<AdminRequestContext>, _ paths: [String]) async throws -> [String: Int] {
        try await Application(router: router).test(.router) { client in
            var statuses: [String: Int] = [:]
            for path in paths {
                statuses[path] = Int(try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer c404-test-token-0001"]).status.code)
            }
            return statuses
        }
    }

    @Test("with http.ops_listen a running bridge serves /health, /ready, /metrics, /status there and 404 for them on admin_listen")
    func opsListener() async throws {
        let topic = BridgeTestCluster.unique("ops")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        try await withReceiver(secret: nil) { receiver, port in
            var config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: try BridgeTestCluster.group())
            config.http.opsListen = .init(host: "127.0.0.1", port: 0)
            try await withBridge(config) { bridge in
                #expect(await waitFor { bridge.opsPort != nil })
                let ops = try #require(bridge.opsPort)
                let admin = try #require(bridge.adminPort)
                #expect(ops != admin)
                try await produce([KafkaOutgoingRecord(topic: topic, key: "E1", value: #"{"entity":"E1"}"#)])
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 1 })
                #expect(try await httpGet("http://127.0.0.1:\(ops)/health").status == 200)
                #expect(try await httpGet("http://127.0.0.1:\(ops)/ready").status == 200)
                #expect(try await httpGet("http://127.0.0.1:\(ops)/metrics").body.contains("webhook_bridge_ready 1"))
                #expect(try await httpGet("http://127.0.0.1:\(ops)/status").body.contains(#""id":"hook""#))
                #expect(try await httpGet("http://127.0.0.1:\(ops)/webhooks").status == 404)
                for path in Self.opsRoutes { #expect(try await httpGet("http://127.0.0.1:\(admin)\(path)").status == 404, "\(path)") }
                #expect(try await httpGet("http://127.0.0.1:\(admin)/webhooks/hook").status == 200)
                // Each listener counts its own connections.
                #expect(try await httpGet("http://127.0.0.1:\(ops)/metrics").body.contains(#"webhook_bridge_http_connections{listener="ops"}"#))
            }
        }
    }

    /// A pipeline like the listener's: the read timeout, the HTTP decoder, the end observer.
    final class Tally: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        func increment() { count.withLock { $0 += 1 } }
    }

    static func pipeline(timeout: TimeAmount, timeouts: Tally) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let reader = RequestReadTimeoutHandler(timeout: timeout) { timeouts.increment() }
        try channel.pipeline.syncOperations.addHandler(reader)
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        try channel.pipeline.syncOperations.addHandler(RequestEndObserver(reader: reader))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test("read timeout: a request must arrive whole within it from its first byte, however its bytes trickle; none between requests")
    func readTimeout() throws {
        let timeouts = Tally()
        // A header that never ends.
        let header = try Self.pipeline(timeout: .seconds(10), timeouts: timeouts)
        try header.writeInbound(ByteBuffer(string: "GET /webhooks HTTP/1.1\r\nHost: a\r\n"))
        for _ in 0..<9 {
            header.embeddedEventLoop.advanceTime(by: .seconds(1))
            try header.writeInbound(ByteBuffer(string: "X: y\r\n"))
        }
        #expect(header.isActive)
        header.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!header.isActive)
        #expect(timeouts.value == 1)

        // A body that trickles in.
        let body = try Self.pipeline(timeout: .seconds(10), timeouts: timeouts)
        try body.writeInbound(ByteBuffer(string: "POST /webhooks HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"))
        for _ in 0..<9 {
            body.embeddedEventLoop.advanceTime(by: .seconds(1))
            try body.writeInbound(ByteBuffer(string: "x"))
        }
        #expect(body.isActive)
        body.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!body.isActive)

        // Whole requests: the connection may then stay idle (the idle timeout's business), and the
        // next request gets its own 10 s from its first byte.
        let keepAlive = try Self.pipeline(timeout: .seconds(10), timeouts: timeouts)
        try keepAlive.writeInbound(ByteBuffer(string: "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"))
        keepAlive.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(keepAlive.isActive)
        try keepAlive.writeInbound(ByteBuffer(string: "POST /webhooks HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n"))
        keepAlive.embeddedEventLoop.advanceTime(by: .seconds(9))
        try keepAlive.writeInbound(ByteBuffer(string: "{}"))
        keepAlive.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(keepAlive.isActive)
        try keepAlive.writeInbound(ByteBuffer(string: "GET /st"))
        keepAlive.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!keepAlive.isActive)
        #expect(timeouts.value == 3)
    }

    @Test("a running admin listener: partial and trickling requests closed at the read timeout, idle ones at the idle timeout, big headers refused, connections capped")
    func limitsOnARunningListener() async throws {
        try await withReceiver(secret: nil) { _, port in
            var config = try testConfig(sources: [(BridgeTestCluster.unique("limits"), "order_state_changed")], receiverPort: port, group: try BridgeTestCluster.group())
            config.http.listenerLimits.readTimeout = .milliseconds(500)
            config.http.listenerLimits.idleTimeout = .seconds(3)
            config.http.listenerLimits.maxHeaderBytes = 4_096
            config.http.listenerLimits.maxConnections = 4
            try await withBridge(config) { bridge in
                let admin = try #require(bridge.adminPort)
                @Sendable func metric(_ name: String) -> Double? {
                    PrometheusSamples(bridge.adminBackend.metricsText()).value(name, ["listener": "admin"])
                }

                // A header that never ends, and a body that trickles: closed at the read timeout,
                // long before the idle timeout, with no answer.
                let header = try await RawConnection.open(port: admin)
                try await header.send("GET /webhooks HTTP/1.1\r\nHost: a\r\n")
                header.trickle("X-Slow: 1\r\n", every: .milliseconds(100))
                let body = try await RawConnection.open(port: admin)
                try await body.send("POST /webhooks HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
                body.trickle("x", every: .milliseconds(100))
                let start = ContinuousClock.now
                #expect(await header.waitUntilClosed(timeout: .seconds(20)))
                #expect(await body.waitUntilClosed(timeout: .seconds(20)))
                #expect(ContinuousClock.now - start < .milliseconds(2_500), "closed after \(ContinuousClock.now - start), not by the read timeout")
                #expect(header.received.isEmpty && body.received.isEmpty)
                #expect((metric("webhook_bridge_http_read_timeouts_total") ?? 0) >= 2)

                // A header past max_header_bytes: 400, and the connection closed.
                let big = try await RawConnection.open(port: admin)
                try await big.send("GET /openapi.yaml HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "b", count: 8_000))\r\n\r\n")
                #expect(await big.waitUntilClosed(timeout: .seconds(10)))
                #expect(big.received.hasPrefix("HTTP/1.1 400"), "\(big.received.prefix(80))")

                // A keep-alive connection after its answer: closed by the idle timeout (3 s), not
                // by the read timeout (0.5 s), which only runs while a request arrives.
                let idle = try await RawConnection.open(port: admin)
                try await idle.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(await waitFor(seconds: 10) { idle.received.hasPrefix("HTTP/1.1 200") })
                let answered = ContinuousClock.now
                #expect(await idle.waitUntilClosed(timeout: .seconds(20)))
                #expect(ContinuousClock.now - answered > .seconds(2), "an idle connection closed after \(ContinuousClock.now - answered)")

                // Four silent connections fill the cap; a fifth is accepted only once the idle
                // timeout has closed one of them.
                #expect(await waitFor { metric("webhook_bridge_http_connections") == 0 })
                var silent: [RawConnection] = []
                for _ in 0..<4 { silent.append(try await RawConnection.open(port: admin)) }
                #expect(await waitFor { metric("webhook_bridge_http_connections") == 4 })
                #expect((metric("webhook_bridge_http_connection_cap_reached_total") ?? 0) >= 1)
                let fifth = try await RawConnection.open(port: admin)
                try await fifth.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(await waitFor(seconds: 20) { fifth.received.hasPrefix("HTTP/1.1 200") })
                let firstClosed = silent.compactMap(\.closedTime).min()
                #expect(firstClosed != nil && firstClosed! <= .now, "the fifth was answered while the four were open")
                #expect((metric("webhook_bridge_http_connections") ?? 0) <= 4)
                for connection in silent + [fifth] { connection.close() }
            }
        }
    }
}
