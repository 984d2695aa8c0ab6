import Foundation
import Kafka
import Logging
import Testing
import WebhookDomain

@testable import WebhookBridge

/// Issue 12, item 4: a dead-letter topic that refuses writes holds back only the offset of the
/// record it refuses, never the other records or partitions.
@Suite("Dead letters when the dead-letter topic refuses writes", .serialized)
struct DeadLetterFaultTests {
    static let group = "dead-letter-faults"

    /// Two brokers: broker 2 leads the dead-letter topic and nothing else, so its faults hit only
    /// dead-letter writes (the group, the control and attempts topics, the sources are on broker 1).
    static func cluster() throws -> EmbeddedKafkaCluster {
        let cluster = try EmbeddedKafkaCluster(brokers: 2, logger: BridgeTestCluster.logger)
        try cluster.createTopic("oms.orders", partitions: 4)
        for topic in ["control", "attempts", "dlq"] { try cluster.createTopic(topic, partitions: 1) }
        for partition in Int32(0)..<4 { try cluster.setLeader("oms.orders", partition: partition, broker: 1) }
        try cluster.setLeader("control", partition: 0, broker: 1)
        try cluster.setLeader("attempts", partition: 0, broker: 1)
        try cluster.setLeader("dlq", partition: 0, broker: 2)
        try cluster.setGroupCoordinator(group, broker: 1)
        return cluster
    }

    /// Polls the group's committed offsets of `oms.orders` (the broker has no event for them; -1
    /// when none) until `condition` holds, with a consumer that reads them without joining.
    static func waitForCommitted(
        _ partitions: [Int32], consumer: KafkaConsumer, timeout: Duration = .seconds(20), until condition: ([Int32: Int64]) -> Bool
    ) async throws -> [Int32: Int64] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let offsets = try await consumer.committed(partitions.map { TopicPartition("oms.orders", $0) })
            let byPartition = Dictionary(offsets.map { ($0.topicPartition.partition, max($0.offset, -1)) }, uniquingKeysWith: max)
            if condition(byPartition) || ContinuousClock.now >= deadline { return byPartition }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test("while the dead-letter topic refuses writes the other records and partitions are delivered and committed; the dead letter lands once writes work, its offset committed only then")
    func refusingTopic() async throws {
        let cluster = try Self.cluster()
        let log = CapturedLog()
        // 29: TOPIC_AUTHORIZATION_FAILED, what a broker answers when an ACL refuses writes: a
        // permanent error, handed back to the bridge, which tries again after its backoff. Each
        // refusal comes 1.5 s after the request, so the refusing lasts several seconds.
        let refusals = 4
        cluster.pushRequestErrors(.produce, broker: 2, Array(repeating: 29, count: refusals), delayMilliseconds: 1_500)
        // Reads the group's committed offsets without joining it. Not closed: `close()` waits for
        // a polling thread that only `subscribe` starts; releasing it destroys the handle.
        let offsets = try KafkaConsumer(
            configuration: .init(kafka: KafkaConfig(bootstrapServers: cluster.bootstrapServers), groupID: Self.group, startFrom: .earliest), logger: BridgeTestCluster.logger)
        let admin = try KafkaAdmin(kafka: KafkaConfig(bootstrapServers: cluster.bootstrapServers), logger: BridgeTestCluster.logger)
        try await withReceiver(secret: HashKey("hash-key-for-tests")) { receiver, port in
            var config = try ReliabilitySuite.BrokerFaults.config(cluster: cluster, port: port, group: Self.group)
            config.kafka.deadLetterRetry = (.milliseconds(50), .milliseconds(400))
            let bridge = try await Bridge(config: config, logger: log.logger("dead-letters", level: .info))
            try await whileRunning(bridge.serviceGroup(signals: []), ready: { try await waitUntilReady(bridge) }) {
                // A bad record, then a good one behind it on partition 0; good ones on the others.
                let records = [
                    KafkaOutgoingRecord(topic: "oms.orders", partition: 0, key: Array("E0".utf8), value: Array("not json".utf8), headers: [KafkaHeader(key: "trace", string: "t-0")]),
                    KafkaOutgoingRecord(topic: "oms.orders", partition: 0, key: Array("E0".utf8), value: Array(#"{"entity":"E0","step":1}"#.utf8)),
                ] + (Int32(1)..<4).flatMap { partition in
                    (0..<3).map { step in
                        KafkaOutgoingRecord(topic: "oms.orders", partition: partition, key: Array("E\(partition)".utf8), value: Array(#"{"entity":"E\#(partition)","step":\#(step)}"#.utf8))
                    }
                }
                try await Reliability.produce(records, bootstrap: cluster.bootstrapServers)
                // Every good record arrives, the one behind the bad record on its partition too,
                // and the other partitions' offsets are committed.
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 10 }, "\(receiver.requests.count) of 10 delivered")
                let meanwhile = try await Self.waitForCommitted([0, 1, 2, 3], consumer: offsets) { offsets in (1..<4).allSatisfy { offsets[$0] == 3 } }
                let lettersMeanwhile = try await admin.watermarks(TopicPartition("dlq", 0)).high
                // Asked last: a refusal still to come means the dead letter was not written yet
                // when the observations above were made.
                let refusalsLeft = cluster.pendingRequestErrors(.produce, broker: 2)
                #expect(refusalsLeft > 0, "the dead letter was written before the other partitions were committed: the test proves nothing")
                #expect(refusalsLeft < refusals, "the bridge had not tried to write the dead letter")
                #expect((1..<4).allSatisfy { meanwhile[$0] == 3 }, "other partitions committed meanwhile: \(meanwhile)")
                #expect(lettersMeanwhile == 0)
                // The bad record (offset 0) is not written yet, so nothing past it is committed.
                #expect((meanwhile[0] ?? -1) <= 0, "partition 0 committed \(String(describing: meanwhile[0])) before its dead letter was written")

                // The refusals run out; the writer's next try lands.
                let letters = try await ReliabilitySuite.Fuzz.readAll(topic: "dlq", partitions: 1, from: [:], atLeast: 1, timeout: .seconds(60), bootstrap: cluster.bootstrapServers)
                #expect(cluster.pendingRequestErrors(.produce, broker: 2) == 0, "every refusal was met")
                #expect(letters.count == 1, "one dead letter: \(letters.count)")
                let letter = try #require(letters.first)
                #expect(letter.key == Array("E0".utf8) && letter.value == Array("not json".utf8) && letter.header("trace") == "t-0")
                #expect(letter.header("dead_letter_reason") == "not a JSON object" && letter.header("source_partition") == "0" && letter.header("source_offset") == "0")
                let after = try await Self.waitForCommitted([0], consumer: offsets) { $0[0] == 2 }
                #expect(after[0] == 2, "partition 0 committed past the bad record once its dead letter landed: \(after)")
            }
        }
        // Each refusal came back to the writer (librdkafka may also refuse tries locally while it
        // still holds the topic's authorization error), and the waits between tries doubled up
        // to the cap: 0.05, 0.1, 0.2, 0.4, 0.4 … s.
        let waits = log.all.filter { $0.contains("dead-letter write failed; trying again") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("retry_in=") }.flatMap { Double($0.dropFirst("retry_in=".count)) }
        }
        #expect(waits.count >= refusals, "each refusal was handed back and tried again: \(waits)")
        #expect(waits == waits.indices.map { min(0.05 * Double(1 << min($0, 10)), 0.4) }, "\(waits)")
    }
}
