import ControlPlane
import Foundation
import Hummingbird
import HummingbirdTesting
import Kafka
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge

@Suite("The admin API drives a running bridge", .serialized)
struct AdminThroughBridgeTests {
    @Test("a new hash_key shows in the next delivery's signature (h0 new, h1 old); replay delivers everything again, one replay at a time")
    func rotationAndReplay() async throws {
        let topic = BridgeTestCluster.unique("rotate")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
        // The replayed deliveries (past the first six) wait here until the test has asked for a
        // second replay, so the first is surely still in flight then.
        let replayHeld = Gate()
        let answered = Mutex(0)
        try await withReceiver(secret: nil, respond: { _ in
            if answered.withLock({ count in
                count += 1
                return count > 6
            }) {
                await replayHeld.pass()
            }
            return .init()
        }) { receiver, port in
            // The webhook is the API's: a file webhook rotates its keys in the file (409 here).
            var config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: try BridgeTestCluster.group())
            config.webhooks = []
            try await withBridge(config) { bridge in
                let api = AdminAPI(backend: bridge.adminBackend, logger: BridgeTestCluster.logger)
                try await Application(router: api.router()).test(.router) { client in
                    let created = try await client.execute(
                        uri: "/webhooks", method: .post, headers: [.authorization: "Bearer c404-test-token-0001", .contentType: "application/json"],
                        body: ByteBuffer(string: #"{"site_id":"c404","webhook":{"url":"http://127.0.0.1:\#(port)/hooks","http_method":"POST","topics":["order_state_changed"],"hash_key":"test-key-0123456789"}}"#))
                    #expect(created.status == .created, "\(String(buffer: created.body))")
                    let id = try #require(bridge.catalog.webhooks.first?.id)
                    #expect(await waitFor { bridge.engine.lane(id) != nil })
                    try await produce(StatusTests.events(topic: topic, entities: 3, perEntity: 1))
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 3 })

                    let patched = try await client.execute(
                        uri: "/webhooks/\(id)", method: .patch, headers: [.authorization: "Bearer c404-test-token-0001", .contentType: "application/json"],
                        body: ByteBuffer(string: #"{"hash_key":"new-key-0123456789"}"#))
                    #expect(patched.status == .ok)
                    #expect(await waitFor { bridge.engine.lane(id)?.webhook.hashKeys.first == HashKey("new-key-0123456789") })
                    try await produce(StatusTests.events(topic: topic, entities: 3, perEntity: 1, from: 1))
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 6 })
                    for request in receiver.requests.suffix(3) {
                        let header = request.header("x-webhook-signature")
                        #expect(WebhookSignature.verifyHMAC(header: header, secret: HashKey("new-key-0123456789"), body: request.body) == .valid(keyIndex: 0))
                        #expect(WebhookSignature.verifyHMAC(header: header, secret: HashKey("test-key-0123456789"), body: request.body) == .valid(keyIndex: 1))
                    }

                    func replay() async throws -> TestResponse {
                        try await client.execute(
                            uri: "/webhooks/\(id)/replay", method: .post, headers: [.authorization: "Bearer c404-test-token-0001", .contentType: "application/json"],
                            body: ByteBuffer(string: #"{"since":0}"#))
                    }
                    #expect(try await replay().status == .accepted)
                    // Its catch-up cannot have joined the live path: its deliveries are held.
                    let second = try await replay()
                    #expect(second.status == .tooManyRequests, "\(String(buffer: second.body))")
                    replayHeld.open()
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 12 })
                    // Once every partition's catch-up has joined and its cursor is gone, the next one is taken.
                    #expect(await waitFor { !bridge.adminBackend.replayInFlight(webhookID: id) })
                    #expect(try await replay().status == .accepted)
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 18 })
                }
            }
            let requests = receiver.requests
            #expect(Set(requests.compactMap { $0.header("message_id") }).count == 6)
            #expect(Set(requests.suffix(6).compactMap { $0.header("message_id") }).count == 6, "the replay resent all six, with their ids")
        }
    }
}

extension AdminThroughBridgeTests {
    /// A running bridge's probes: `/ready` follows the consumer's real state. On a cluster of its
    /// own, the group's JoinGroup requests are refused (each after 1 s) so that the bridge
    /// serves HTTP well before it can hold any partition.
    @Test("/health answers 200 while the bridge serves; /ready answers 503 until its consumer holds its partitions, then 200; /metrics says the same")
    func probes() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: BridgeTestCluster.logger)
        try cluster.createTopic("oms.orders", partitions: 2)
        for topic in ["control", "attempts", "dlq"] { try cluster.createTopic(topic, partitions: 1) }
        // 15: COORDINATOR_NOT_AVAILABLE, retried by librdkafka.
        let refusals = 3
        cluster.pushRequestErrors(.joinGroup, broker: 1, Array(repeating: 15, count: refusals), delayMilliseconds: 1_000)
        try await withReceiver(secret: nil) { _, port in
            let config = try ReliabilitySuite.BrokerFaults.config(cluster: cluster, port: port, group: "probes")
            let bridge = try await Bridge(config: config, logger: BridgeTestCluster.logger)
            let (ports, portFound) = AsyncStream.makeStream(of: Int.self)
            let group = bridge.serviceGroup(signals: [], onAdminRunning: { portFound.yield($0) })
            try await whileRunning(group, ready: {}) {
                var bound = ports.makeAsyncIterator()
                _ = await bound.next()
                let health = try await adminGET(bridge, "/health")
                let early = try await adminGET(bridge, "/ready")
                // Asked after the answer: a JoinGroup refusal still to come means the consumer had
                // not joined its group when /ready answered.
                let refusalsLeft = cluster.pendingRequestErrors(.joinGroup, broker: 1)
                #expect(health.status == 200)
                #expect(refusalsLeft > 0, "the group was joined before /ready was asked: the check proves nothing")
                #expect(early.status == 503, "\(early.body)")
                #expect(PrometheusSamples(try await adminGET(bridge, "/metrics").body).value("webhook_bridge_ready") == 0)

                try await waitUntilReady(bridge)
                #expect(cluster.pendingRequestErrors(.joinGroup, broker: 1) == 0)
                #expect(!bridge.engine.assignedPartitions.isEmpty)
                let ready = try await adminGET(bridge, "/ready")
                #expect(ready.status == 200, "\(ready.body)")
                #expect(PrometheusSamples(try await adminGET(bridge, "/metrics").body).value("webhook_bridge_ready") == 1)
                #expect(try await adminGET(bridge, "/health").status == 200)
            }
            portFound.finish()
        }
    }
}

extension AdminThroughBridgeTests {
    @Test("a webhook deleted through the API leaves no series on /metrics; the other webhooks' stay")
    func deletedWebhookLeavesNoMetrics() async throws {
        let topic = BridgeTestCluster.unique("forget")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
        try await withReceiver(secret: nil) { receiver, port in
            let config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: try BridgeTestCluster.group())
            try await withBridge(config) { bridge in
                let api = AdminAPI(backend: bridge.adminBackend, logger: BridgeTestCluster.logger)
                try await Application(router: api.router()).test(.router) { client in
                    let body = #"{"site_id":"c404","token":"c404-test-token-0001","webhook":{"hash_key":"api-key-0123456789","http_method":"POST","topics":["order_state_changed"],"url":"http://127.0.0.1:\#(port)/doomed"}}"#
                    let created = try await client.execute(uri: "/webhooks", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
                    #expect(created.status == .created)
                    let json = try JSONSerialization.jsonObject(with: Data(buffer: created.body)) as? [String: Any]
                    let id = try #require((json?["webhook"] as? [String: Any])?["id"] as? String)
                    #expect(await waitFor { bridge.engine.lane(id) != nil })
                    try await produce(StatusTests.events(topic: topic, entities: 3, perEntity: 1))
                    #expect(await receiver.wait(timeout: .seconds(30)) { requests in
                        requests.filter { $0.uri.hasPrefix("/doomed") }.count >= 3 && requests.filter { $0.uri.hasPrefix("/hooks") }.count >= 3
                    })
                    let series = "webhook=\"\(id)\""
                    #expect(await waitFor { PrometheusSamples(bridge.adminBackend.metricsText()).value("webhook_bridge_deliveries_total", ["webhook": id, "outcome": "acked"]) == 3 })
                    #expect(bridge.adminBackend.metricsText().contains(series))

                    let deleted = try await client.execute(uri: "/webhooks/\(id)", method: .delete, headers: [.authorization: "Bearer c404-test-token-0001"])
                    #expect(deleted.status == .noContent)
                    #expect(await waitFor { !bridge.adminBackend.metricsText().contains(series) }, "\(bridge.adminBackend.metricsText())")
                    let after = PrometheusSamples(bridge.adminBackend.metricsText())
                    #expect(after.value("webhook_bridge_deliveries_total", ["webhook": "hook", "outcome": "acked"]) == 3)
                    #expect(after.value("webhook_bridge_webhook_status", ["webhook": "hook", "status": "enabled"]) == 1)
                }
            }
        }
    }
}

@Suite("API-made webhooks live in the control topic", .serialized)
struct APIMadeWebhookTests {
    @Test("a webhook created through the API survives a restart and keeps receiving")
    func survivesRestart() async throws {
        let topic = BridgeTestCluster.unique("api-made")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
        try await withReceiver(secret: HashKey("api-key-0123456789")) { receiver, port in
            let config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: try BridgeTestCluster.group())
            let id: String = try await withBridge(config) { bridge in
                let api = AdminAPI(backend: bridge.adminBackend, logger: BridgeTestCluster.logger)
                return try await Application(router: api.router()).test(.router) { client in
                    let body = #"{"site_id":"c404","token":"c404-test-token-0001","webhook":{"hash_key":"api-key-0123456789","http_method":"POST","topics":["order_state_changed"],"url":"http://127.0.0.1:\#(port)/api-made"}}"#
                    let created = try await client.execute(uri: "/webhooks", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
                    #expect(created.status == .created)
                    let json = try JSONSerialization.jsonObject(with: Data(buffer: created.body)) as? [String: Any]
                    return try #require((json?["webhook"] as? [String: Any])?["id"] as? String)
                }
            }
            try await withBridge(config) { bridge in
                #expect(bridge.engine.lane(id) != nil)
                try await produce(StatusTests.events(topic: topic, entities: 2, perEntity: 2))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/api-made") }.count >= 4 })
            }
            #expect(receiver.requests.filter { $0.uri.hasPrefix("/api-made") }.allSatisfy { $0.hmacVerdict == .valid(keyIndex: 0) })
        }
    }
}
