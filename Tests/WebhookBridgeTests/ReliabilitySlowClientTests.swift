import AsyncHTTPClient
import Foundation
import Kafka
import NIOCore
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge

extension ReliabilitySuite {
    /// Issue 13 item 6: slow clients on the tenants' listener (DESIGN.md §10).
    @Suite("Reliability: slowloris clients on the admin listener")
    struct SlowClients {
        /// Raises this process's soft limit on open files to `needed` if it is lower (and the
        /// hard limit allows): each attacking connection is a descriptor here, and its accepted
        /// end another while the bridge holds it.
        static func ensureFileDescriptors(_ needed: Int) throws {
            var limit = rlimit()
            try #require(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
            guard limit.rlim_cur < rlim_t(needed) else { return }
            try #require(limit.rlim_max >= rlim_t(needed), "ulimit -n hard limit \(limit.rlim_max) is below the \(needed) descriptors this test needs")
            limit.rlim_cur = rlim_t(needed)
            try #require(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        }

        @Test("500 slowloris connections on the admin listener: deliveries go on, the ops listener answers at once, the admin API answers a normal request, every attacker is cut at the read timeout, never more open than the cap")
        func slowloris() async throws {
            let attackers = 500
            let cap = 100
            try Self.ensureFileDescriptors(attackers + cap + 1_024)
            let topic = BridgeTestCluster.unique("slowloris")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
            try await withReceiver(secret: HashKey("test-key")) { receiver, port in
                var config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: try BridgeTestCluster.group())
                config.http.opsListen = .init(host: "127.0.0.1", port: 0)
                config.http.listenerLimits.readTimeout = .seconds(1)
                config.http.listenerLimits.idleTimeout = .seconds(30)
                config.http.listenerLimits.maxConnections = cap
                try await withBridge(config) { bridge in
                    #expect(await waitFor { bridge.opsPort != nil })
                    let admin = try #require(bridge.adminPort)
                    let ops = try #require(bridge.opsPort)
                    @Sendable func adminGauge() async -> Double? {
                        guard let metrics = try? await httpGet("http://127.0.0.1:\(ops)/metrics").body else { return nil }
                        return PrometheusSamples(metrics).value("webhook_bridge_http_connections", ["listener": "admin"])
                    }

                    // The attack: every connection sends a request head that never ends, a header
                    // line every 200 ms. Past the cap they wait in the accept queue.
                    let start = ContinuousClock.now
                    let connections = await withTaskGroup(of: RawConnection?.self) { group in
                        for _ in 0..<attackers {
                            group.addTask {
                                guard let connection = try? await RawConnection.open(port: admin, connectTimeout: .seconds(60)) else { return nil }
                                try? await connection.send("GET /webhooks HTTP/1.1\r\nHost: bridge\r\nAuthorization: Bearer t\r\n")
                                connection.trickle("X-Slow: 1\r\n", every: .milliseconds(200))
                                return connection
                            }
                        }
                        var connections: [RawConnection] = []
                        for await connection in group { if let connection { connections.append(connection) } }
                        return connections
                    }
                    #expect(connections.count == attackers, "\(attackers - connections.count) attackers could not connect")

                    // Meanwhile: the admin listener's open connections, sampled through the ops listener.
                    let maxOpen = Mutex(0.0)
                    let sampling = Task {
                        while !Task.isCancelled {
                            if let open = await adminGauge() { maxOpen.withLock { $0 = max($0, open) } }
                            try? await Task.sleep(for: .milliseconds(50))
                        }
                    }
                    // The operators' listener answers at once.
                    let opsStart = ContinuousClock.now
                    #expect(try await httpGet("http://127.0.0.1:\(ops)/ready").status == 200)
                    #expect(try await httpGet("http://127.0.0.1:\(ops)/status").status == 200)
                    let opsLatency = ContinuousClock.now - opsStart
                    // Deliveries go on.
                    try await produce(StatusTests.events(topic: topic, entities: 10, perEntity: 5))
                    #expect(await receiver.wait(timeout: .seconds(60)) { Set($0.compactMap { $0.header("message_id") }).count >= 50 })
                    let delivered = ContinuousClock.now - start
                    // A normal request to the admin API waits its turn behind the attackers in the
                    // accept queue, then is answered.
                    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(90))))
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(admin)/webhooks/hook")
                    request.headers.add(name: "Authorization", value: "Bearer c404-test-token-0001")
                    let adminStart = ContinuousClock.now
                    let status = try? await client.execute(request, timeout: .seconds(120)).status.code
                    let adminLatency = ContinuousClock.now - adminStart
                    try await client.shutdown()
                    #expect(status == 200)

                    // Every attacker is cut by the server, none got an answer.
                    var closed = 0
                    for connection in connections where await connection.waitUntilClosed(timeout: .seconds(120)) { closed += 1 }
                    let cleared = ContinuousClock.now - start
                    sampling.cancel()
                    await sampling.value
                    #expect(closed == connections.count)
                    #expect(connections.allSatisfy { $0.received.isEmpty })
                    let samples = PrometheusSamples(try await httpGet("http://127.0.0.1:\(ops)/metrics").body)
                    let readTimeouts = samples.value("webhook_bridge_http_read_timeouts_total", ["listener": "admin"]) ?? 0
                    #expect(Int(readTimeouts) >= connections.count, "\(readTimeouts) read timeouts for \(connections.count) attackers")
                    // NIO may accept a few past the cap in one read loop (4 per read).
                    let peak = maxOpen.withLock { $0 }
                    #expect(peak >= Double(cap / 2) && peak <= Double(cap + 4), "peak \(peak) open admin connections, cap \(cap)")
                    Reliability.report("slowloris", [
                        "attackers": connections.count, "cap": cap, "peak_open": Int(peak), "read_timeouts": Int(readTimeouts),
                        "ops_ms": opsLatency.milliseconds, "deliveries_done_ms": delivered.milliseconds, "admin_request_ms": adminLatency.milliseconds,
                        "admin_status": status.map(String.init) ?? "none", "all_cut_ms": cleared.milliseconds,
                    ])
                }
            }
        }
    }
}
