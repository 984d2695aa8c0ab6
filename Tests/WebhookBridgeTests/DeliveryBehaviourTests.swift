import Foundation
import Kafka
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge

/// Counts requests in progress at the receiver and remembers the most seen at once.
final class ConcurrencyGauge: Sendable {
    private let state = Mutex<(current: Int, peak: Int)>((0, 0))
    var peak: Int { state.withLock { $0.peak } }
    func enter() { state.withLock { $0.current += 1; $0.peak = max($0.peak, $0.current) } }
    func leave() { state.withLock { $0.current -= 1 } }
}

@Suite("Methods, batching and concurrency (DESIGN.md §4, §6)", .serialized)
struct DeliveryBehaviourTests {
    static func config(topic: String, port: Int, webhooks: String, site: String = "{id: c404, token: c404-test-token-0001}") throws -> BridgeConfig {
        let group = try BridgeTestCluster.group()
        var config = try BridgeConfig.parse(yaml: """
            \(testKafkaAndHTTP(group: group))
            sites: [\(site)]
            routes: [{source: \(topic), site: c404, topic: order_state_changed}]
            webhooks:
            \(webhooks)
            """)
        config.http.adminPort = 0
        return config
    }

    @Test("all six methods reach the receiver as DESIGN.md §4 defines them, signed")
    func sixMethods() async throws {
        let topic = BridgeTestCluster.unique("methods")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        try await withReceiver(secret: HashKey("hash-key-for-tests")) { receiver, port in
            let webhooks = HTTPMethod.allCases.map {
                "  - {id: \($0.rawValue.lowercased()), site: c404, url: \"http://127.0.0.1:\(port)/\($0.rawValue.lowercased())\", http_method: \($0.rawValue), topics: [order_state_changed], hash_key: hash-key-for-tests}"
            }.joined(separator: "\n")
            try await withBridge(Self.config(topic: topic, port: port, webhooks: webhooks)) { _ in
                try await produce([KafkaOutgoingRecord(topic: topic, key: "DV1", value: #"{"order_id":"DV1","note":"a&b=c"}"#)])
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 6 })
            }
            for method in HTTPMethod.allCases {
                let path = "/" + method.rawValue.lowercased()
                let request = try #require(receiver.requests.first { $0.uri.hasPrefix(path) }, "\(method)")
                #expect(request.method == method.wireMethod)
                #expect(request.hmacVerdict == .valid(keyIndex: 0), "\(method)")
                #expect(request.json?["note"] as? String == "a&b=c", "\(method)")
                if method == .get {
                    #expect(request.body.isEmpty && request.uri.contains("payload="))
                } else {
                    #expect(String(decoding: request.body, as: UTF8.self) == #"{"order_id":"DV1","note":"a&b=c"}"#)
                }
            }
        }
    }

    @Test("batching sends up to max_batch_size messages per signed request, each entity in order")
    func batching() async throws {
        let topic = BridgeTestCluster.unique("batch")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 3)
        try await withReceiver(secret: HashKey("hash-key-for-tests")) { receiver, port in
            let webhooks = "  - {id: batcher, site: c404, url: \"http://127.0.0.1:\(port)/b\", topics: [order_state_changed], hash_key: hash-key-for-tests, options: {batching: true, max_batch_size: 10, batch_linger: 50ms, signature: both}}"
            try await withBridge(Self.config(topic: topic, port: port, webhooks: webhooks)) { _ in
                try await produce(StatusTests.events(topic: topic, entities: 7, perEntity: 10))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.reduce(0) { $0 + (Int($1.header("message_count") ?? "0") ?? 0) } >= 70 })
            }
            var steps: [String: [Int]] = [:]
            var ids: [String] = []
            for request in receiver.requests {
                #expect(request.hmacVerdict == .valid(keyIndex: 0))
                #expect(request.standardVerdict == .valid(keyIndex: 0))
                #expect(request.header("batch_id") != nil && request.header("webhook-id") == request.header("batch_id"))
                let messages = try #require(request.json?["messages"] as? [[String: Any]])
                #expect(messages.count <= 10 && messages.count == Int(request.header("message_count") ?? ""))
                for message in messages {
                    let headers = try #require(message["headers"] as? [String: String])
                    ids.append(headers["message_id"] ?? "")
                    #expect(headers["topic"] == "order_state_changed" && headers["sequence"] != nil)
                    let data = try #require(message["data"] as? [String: Any])
                    steps[data["entity"] as! String, default: []].append(data["step"] as! Int)
                }
            }
            #expect(ids.count == 70 && Set(ids).count == 70)
            #expect(receiver.requests.count < 70)
            for (entity, entitySteps) in steps { #expect(entitySteps == Array(0..<10), "\(entity)") }
        }
    }

    @Test("different entities go up to max_in_flight at once (20 here); one entity goes one at a time")
    func concurrency() async throws {
        let topic = BridgeTestCluster.unique("concurrency")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 4)
        let many = ConcurrencyGauge()
        let single = ConcurrencyGauge()
        // The first 20 requests to `many` are held until all 20 are in flight together (a bridge
        // that sent fewer at once would never release them), later ones pass: the peak is then
        // exactly max_in_flight however slowly the events are produced.
        let twenty = Barrier(parties: 20)
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in
            let isMany = request.uri.hasPrefix("/many")
            let gauge = isMany ? many : single
            gauge.enter()
            if isMany { await twenty.arrive() }
            try? await Task.sleep(for: .milliseconds(100))
            gauge.leave()
            return .init(status: 202)
        }) { receiver, port in
            let webhooks = "  - {id: many, site: c404, url: \"http://127.0.0.1:\(port)/many\", topics: [order_state_changed], hash_key: hash-key-for-tests}"
            let site = "{id: c404, token: c404-test-token-0001, max_in_flight: 20}"
            try await withBridge(Self.config(topic: topic, port: port, webhooks: webhooks, site: site)) { _ in
                try await produce(StatusTests.events(topic: topic, entities: 60, perEntity: 1))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 60 })
            }
            #expect(many.peak == 20)

            let oneEntity = BridgeTestCluster.unique("one-entity")
            try BridgeTestCluster.shared.createTopic(oneEntity, partitions: 1)
            let singleHook = "  - {id: single, site: c404, url: \"http://127.0.0.1:\(port)/single\", topics: [order_state_changed], hash_key: hash-key-for-tests}"
            try await withBridge(Self.config(topic: oneEntity, port: port, webhooks: singleHook, site: site)) { _ in
                try await produce(StatusTests.events(topic: oneEntity, entities: 1, perEntity: 10))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 70 })
            }
            #expect(single.peak == 1)
        }
    }

    /// `http.max_concurrent_requests` holds across webhooks: 12 webhooks that could send 5 at once
    /// each share 3 slots, every one of them gets all its messages in order, and none starves.
    @Test("the process-wide request cap holds across webhooks, and every webhook is served")
    func processWideCap() async throws {
        let topic = BridgeTestCluster.unique("slots")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
        let gauge = ConcurrencyGauge()
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { _ in
            gauge.enter()
            try? await Task.sleep(for: .milliseconds(20))
            gauge.leave()
            return .init(status: 202)
        }) { receiver, port in
            let webhooks = (0..<12).map {
                "  - {id: w\($0), site: c404, url: \"http://127.0.0.1:\(port)/w\($0)\", topics: [order_state_changed], hash_key: hash-key-for-tests}"
            }.joined(separator: "\n")
            var config = try Self.config(topic: topic, port: port, webhooks: webhooks, site: "{id: c404, token: c404-test-token-0001, max_in_flight: 5}")
            config.http.maxConcurrentRequests = 3
            try await withBridge(config) { _ in
                try await produce(StatusTests.events(topic: topic, entities: 10, perEntity: 4))
                #expect(await receiver.wait(timeout: .seconds(60)) { $0.count >= 12 * 40 })
            }
            #expect(gauge.peak == 3)
            for webhook in 0..<12 {
                let requests = receiver.requests.filter { $0.uri == "/w\(webhook)" }
                #expect(requests.count == 40, "w\(webhook)")
                #expect(StatusTests.steps(requests).values.allSatisfy { $0 == Array(0..<4) }, "w\(webhook)")
            }
        }
    }

    @Test("a notification routes to its custom topic and its time_value delay is honoured")
    func notificationDelay() async throws {
        let topic = BridgeTestCluster.unique("notifications")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        try await withReceiver(secret: HashKey("hash-key-for-tests")) { receiver, port in
            let group = try BridgeTestCluster.group()
            var config = try BridgeConfig.parse(yaml: """
                \(testKafkaAndHTTP(group: group))
                sites:
                  - id: c404
                    token: c404-test-token-0001
                    custom_topics: [{topic: email_sent_to_client_topic, ordered: true}]
                    notifications:
                      email_sent_to_client: {media: {webhook_topic: [email_sent_to_client_topic]}, time_type: duration, time_value: 700ms}
                routes: [{source: \(topic), site_field: site, notification_field: notification, payload_field: payload}]
                webhooks:
                  - {id: n, site: c404, url: "http://127.0.0.1:\(port)/n", topics: [email_sent_to_client_topic], hash_key: hash-key-for-tests}
                """)
            config.http.adminPort = 0
            try await withBridge(config) { _ in
                let sent = Date()
                try await produce([KafkaOutgoingRecord(topic: topic, key: "66fd0d", value: #"{"site":"c404","notification":"email_sent_to_client","payload":{"object_id":"66fd0d","object_type":"parcel"}}"#)])
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 1 })
                let request = try #require(receiver.requests.first)
                #expect(request.header("topic") == "email_sent_to_client_topic")
                #expect(request.json?["object_type"] as? String == "parcel")
                #expect(request.receivedAt.timeIntervalSince(sent) >= 0.7)
            }
        }
    }

    /// Found in production: a `message_id` header with CR LF made every attempt fail inside the
    /// HTTP client, so the webhook paused for ever on that record.
    @Test("a record whose message_id header is not a safe token is delivered and acked with a derived id, and counted")
    func unsafeMessageIDHeader() async throws {
        let topic = BridgeTestCluster.unique("message-id")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        try await withReceiver(secret: HashKey("hash-key-for-tests")) { receiver, port in
            let webhooks = "  - {id: ids, site: c404, url: \"http://127.0.0.1:\(port)/ids\", topics: [order_state_changed], hash_key: hash-key-for-tests}"
            try await withBridge(Self.config(topic: topic, port: port, webhooks: webhooks)) { bridge in
                try await produce([
                    KafkaOutgoingRecord(topic: topic, key: "DV1", value: #"{"step":0}"#, headers: [KafkaHeader(key: "message_id", string: "m-1\r\nX-Injected: yes")]),
                    KafkaOutgoingRecord(topic: topic, key: "DV1", value: #"{"step":1}"#, headers: [KafkaHeader(key: "message_id", string: "m-2")]),
                ])
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 2 })
                // Both acknowledged: nothing left behind in the partition, the webhook still enabled.
                #expect(await waitFor { bridge.engine.partitionLags().allSatisfy { $0.lag == 0 } })
                #expect(bridge.engine.lane("ids")?.status.status == .enabled)
                let metrics = PrometheusSamples(try await adminGET(bridge, "/metrics").body)
                #expect(metrics.value("webhook_bridge_deliveries_total", ["webhook": "ids", "outcome": "acked"]) == 2)
                #expect(metrics.value("webhook_bridge_message_id_headers_replaced_total", ["topic": topic]) == 1)
            }
            let derived = MessageID.make(for: SourceRecord(topic: topic, partition: 0, offset: 0, key: nil, value: nil), webhookTopic: "order_state_changed")
            #expect(receiver.requests.map { $0.header("message_id") } == [derived, "m-2"])
            #expect(receiver.requests.allSatisfy { $0.header("X-Injected") == nil })
        }
    }
}
