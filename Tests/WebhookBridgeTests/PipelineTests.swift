import Foundation
import Kafka
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

/// Real pipelines end to end (DESIGN.md §3): Avro through a schema registry stand-in, and topic
/// patterns that pick up topics created later.
@Suite("Kafka pipelines", .serialized)
struct PipelineTests {
    /// The writer schema the registry serves as id 7.
    static let schema = #"{"type":"record","name":"Order","fields":[{"name":"order_id","type":"string"},{"name":"total","type":"long"},{"name":"note","type":["null","string"],"default":null}]}"#

    /// Avro binary of an `Order`, in the registry's wire format.
    static func order(_ id: String, total: Int64, note: String?, schemaID: UInt32 = 7) -> [UInt8] {
        var writer = AvroWriter(schemaID: schemaID)
        writer.string(id)
        writer.long(total)
        writer.optionalString(note)
        return writer.bytes
    }

    /// The first `count` records of a one-partition topic (or fewer after 10 s).
    static func records(of topic: String, count: Int) async throws -> [KafkaRecord] {
        let reader = try KafkaPartitionReader(kafka: KafkaConfig(bootstrapServers: BridgeTestCluster.shared.bootstrapServers), logger: BridgeTestCluster.logger)
        try reader.assign([TopicPartitionOffset(TopicPartition(topic, 0), offset: 0)])
        var records: [KafkaRecord] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while records.count < count, ContinuousClock.now < deadline { records += await reader.read() }
        await reader.close()
        return records
    }

    @Test("Avro values are decoded with the registry's schema (basic auth) and delivered as JSON; a registry that is down is waited for, nothing dead-lettered; undecodable values and unknown schemas are dead-lettered")
    func avroThroughTheRegistry() async throws {
        let registryUp = Atomic<Bool>(false)
        try await withReceiver(secret: nil, respond: { request in
            guard registryUp.load(ordering: .relaxed) else { return .init(status: 503) }
            guard request.header("authorization") == "Basic " + Data("bridge:registry-secret".utf8).base64EncodedString() else { return .init(status: 401) }
            switch request.uri {
            case "/schemas/ids/7": return .init(status: 200, body: try! String(data: JSONSerialization.data(withJSONObject: ["schema": Self.schema]), encoding: .utf8))
            default: return .init(status: 404, body: #"{"error_code":40403,"message":"Schema not found"}"#)
            }
        }) { registry, registryPort in
            try await withReceiver(secret: nil) { receiver, port in
                let group = try BridgeTestCluster.group()
                let topic = BridgeTestCluster.unique("avro")
                try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
                var config = try BridgeConfig.parse(
                    yaml: """
                        \(testKafkaAndHTTP(group: group))
                        schema_registry: {url: "http://127.0.0.1:\(registryPort)", username: bridge, password_env: REGISTRY_PASSWORD}
                        sites: [{id: c404, token: c404-test-token-0001}]
                        routes: [{source: \(topic), site: c404, topic: order_state_changed, format: avro}]
                        webhooks: [{id: hook, site: c404, url: "http://127.0.0.1:\(port)/hooks", topics: [order_state_changed], hash_key: avro-key-0123456789}]
                        """, environment: ["REGISTRY_PASSWORD": "registry-secret"])
                config.http.adminPort = 0
                try await withBridge(config) { bridge in
                    try await produce([KafkaOutgoingRecord(topic: topic, key: Array("O1".utf8), value: Self.order("O1", total: 1250, note: "gift"))])
                    // The registry answers 503: the record waits (asked again), nothing is dead-lettered.
                    #expect(await registry.wait(timeout: .seconds(10)) { $0.count >= 2 }, "asked again while down")
                    #expect(receiver.requests.isEmpty)
                    registryUp.store(true, ordering: .relaxed)
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 1 })
                    #expect(receiver.requests.first.map { String(decoding: $0.body, as: UTF8.self) } == #"{"order_id":"O1","total":1250,"note":"gift"}"#)

                    try await produce([
                        KafkaOutgoingRecord(topic: topic, key: Array("O2".utf8), value: Self.order("O2", total: -3, note: nil)),
                        KafkaOutgoingRecord(topic: topic, key: Array("O3".utf8), value: Self.order("O3", total: 1, note: nil, schemaID: 99)),
                        KafkaOutgoingRecord(topic: topic, key: Array("O4".utf8), value: [0, 0, 0, 0, 7, 0xFF]),
                        KafkaOutgoingRecord(topic: topic, key: Array("O5".utf8), value: Array(#"{"plain":"json"}"#.utf8)),
                    ])
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 2 })
                    #expect(receiver.requests.last.map { String(decoding: $0.body, as: UTF8.self) } == #"{"order_id":"O2","total":-3,"note":null}"#)
                    let reasons = try await Self.records(of: "\(group)-dlq", count: 3).compactMap { $0.header("dead_letter_reason") }
                    #expect(reasons.count == 3, "\(reasons)")
                    #expect(reasons.contains { $0.contains("schema id 99 not found") }, "\(reasons)")
                    #expect(reasons.contains { $0.hasPrefix("avro: truncated") }, "\(reasons)")
                    #expect(reasons.contains { $0.contains("magic byte") }, "\(reasons)")
                    #expect(registry.requests.filter { $0.uri == "/schemas/ids/7" && $0.answeredStatus == 200 }.count == 1, "schema 7 fetched once, then cached")
                    #expect(receiver.requests.count == 2)
                }
            }
        }
    }

    @Test("a source_pattern route takes topics created after the start; Debezium deletes and tombstones are skipped and counted, never dead-lettered; trace context reaches the receiver")
    func patternAndDebezium() async throws {
        let prefix = BridgeTestCluster.unique("cdc").replacingOccurrences(of: "-", with: "")
        try BridgeTestCluster.shared.createTopic("\(prefix).orders", partitions: 1)
        try await withReceiver(secret: nil) { receiver, port in
            let group = try BridgeTestCluster.group()
            var config = try BridgeConfig.parse(yaml: """
                \(testKafkaAndHTTP(group: group))
                sites: [{id: c404, token: c404-test-token-0001}]
                routes: [{source_pattern: "^\(prefix)\\\\..*", site: c404, topic: order_state_changed, envelope: debezium}]
                webhooks: [{id: hook, site: c404, url: "http://127.0.0.1:\(port)/hooks", topics: [order_state_changed], hash_key: cdc-key-0123456789}]
                """)
            config.http.adminPort = 0
            let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            try await withBridge(config) { bridge in
                try await produce([
                    KafkaOutgoingRecord(topic: "\(prefix).orders", key: "1", value: #"{"op":"c","before":null,"after":{"id":1,"state":"new"}}"#, headers: [KafkaHeader(key: "traceparent", value: Array(parent.utf8))]),
                    KafkaOutgoingRecord(topic: "\(prefix).orders", key: "1", value: #"{"op":"d","before":{"id":1},"after":null}"#),
                    KafkaOutgoingRecord(topic: "\(prefix).orders", key: "1", value: nil),
                ])
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 1 })
                #expect(receiver.requests.first?.header("traceparent") == parent)
                // A topic created now: picked up at the next metadata refresh (10 s) and rebalance.
                try BridgeTestCluster.shared.createTopic("\(prefix).parcels", partitions: 1)
                let deadline = ContinuousClock.now + .seconds(60)
                var step = 0
                while receiver.requests.count < 2, ContinuousClock.now < deadline {
                    step += 1
                    try await produce([KafkaOutgoingRecord(topic: "\(prefix).parcels", key: "P\(step)", value: #"{"op":"r","after":{"parcel":"P\#(step)"}}"#)])
                    _ = await receiver.wait(timeout: .seconds(2)) { $0.count >= 2 }
                }
                #expect(receiver.requests.count >= 2, "the topic created later was not picked up")
                let metrics = bridge.adminBackend.metricsText()
                #expect(metrics.contains("webhook_bridge_skipped_records_total{topic=\"\(prefix).orders\",reason=\"debezium_delete\"} 1"), "\(metrics)")
                #expect(metrics.contains("webhook_bridge_skipped_records_total{topic=\"\(prefix).orders\",reason=\"tombstone\"} 1"))
                #expect(!metrics.contains("webhook_bridge_dead_letters_total{"), "nothing dead-lettered")
            }
            #expect(receiver.requests.allSatisfy { $0.json?["parcel"] != nil || $0.json?["state"] as? String == "new" })
        }
    }
}
