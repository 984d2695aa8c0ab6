import Delivery
import Foundation
import Kafka
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

@Suite("End to end: Kafka → bridge → HTTP receiver", .serialized)
struct EndToEndTests {
    static func events(topic: String, entities: Int, perEntity: Int) -> [KafkaOutgoingRecord] {
        (0..<perEntity).flatMap { step in
            (0..<entities).map { entity in
                KafkaOutgoingRecord(topic: topic, key: "E\(entity)", value: #"{"entity":"E\#(entity)","step":\#(step)}"#)
            }
        }
    }

    @Test("events arrive signed, with stable ids and per-entity order; a restart does not resend acknowledged events")
    func deliverAndRestart() async throws {
        let topic = BridgeTestCluster.unique("orders")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 3)
        let group = try BridgeTestCluster.group()
        try await withReceiver(secret: HashKey("test-key-0123456789")) { receiver, port in
            let config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: group)

            try await withBridge(config) { _ in
                try await produce(Self.events(topic: topic, entities: 10, perEntity: 10))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 100 })
            }
            let first = receiver.requests
            #expect(first.count == 100)
            #expect(first.allSatisfy { $0.hmacVerdict == .valid(keyIndex: 0) })
            #expect(first.allSatisfy { $0.header("topic") == "order_state_changed" && $0.header("webhook_id") == "hook" })
            #expect(Set(first.compactMap { $0.header("message_id") }).count == 100)
            for (entity, offsets) in offsetsByEntity(first) {
                #expect(offsets == offsets.sorted() && offsets.count == 10, "entity \(entity): \(offsets)")
            }
            // Per-entity order means the steps arrive 0, 1, 2, … for each entity.
            for entity in 0..<10 {
                let steps = first.compactMap { $0.json }.filter { $0["entity"] as? String == "E\(entity)" }.compactMap { $0["step"] as? Int }
                #expect(steps == Array(0..<10))
            }

            // Same group again: only the new events come, nothing acknowledged is resent.
            try await withBridge(config) { _ in
                try await produce(Self.events(topic: topic, entities: 5, perEntity: 1))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 105 })
            }
            let all = receiver.requests
            #expect(all.count == 105)
            #expect(Set(all.compactMap { $0.header("message_id") }).count == 105)
        }
    }

    @Test("a second instance joining mid-stream takes partitions over while the first has requests in flight and messages queued: revocation loses nothing and keeps per-entity order")
    func rebalanceMidStream() async throws {
        let topic = BridgeTestCluster.unique("rebalance")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 4)
        let group = try BridgeTestCluster.group()
        // The first 50 requests are answered at once; the next ones wait at the gate, in flight,
        // until the partitions have begun to move.
        let gate = Gate()
        let arrivals = Atomic<Int>(0)
        try await withReceiver(secret: HashKey("test-key-0123456789"), respond: { _ in
            if arrivals.add(1, ordering: .relaxed).newValue > 50 { await gate.pass() }
            return .init(status: 202)
        }) { receiver, port in
            var settings = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: group)
            // Held requests must not time out while the second instance joins.
            settings.sites[0].ackTimeout = .seconds(60)
            let config = settings
            try await withBridge(config) { first in
                defer { gate.open() }
                let lane = try #require(first.engine.lane("hook"))
                @Sendable func runtime(_ bridge: Bridge) -> WebhookRuntime? { bridge.engine.runtime().first { $0.id == "hook" } }
                try await produce(Self.events(topic: topic, entities: 20, perEntity: 20))
                // All 400 read: 50 acknowledged, the other 350 in flight at the gate or queued.
                #expect(await waitFor {
                    guard let counts = runtime(first) else { return false }
                    return counts.acknowledgedMessages == 50 && counts.inFlightRequests + counts.queuedMessages == 350
                }, "\(String(describing: runtime(first)))")
                let queuedBefore = lane.queuedCount
                let second = try await Bridge(config: config, logger: BridgeTestCluster.logger)
                try await whileRunning(second.serviceGroup(signals: []), ready: {}) {
                    // The first instance's revocation drops the queued messages of the partitions it
                    // gives up (their new owner reads them again), then waits for its requests in
                    // flight: with those held, only a revocation can shrink the queue.
                    #expect(await waitFor { lane.queuedCount < queuedBefore }, "no partition moved while requests were in flight")
                    #expect((runtime(first)?.inFlightRequests ?? 0) > 0)
                    gate.open()
                    try await waitUntilReady(second)
                    #expect(await waitFor { !second.engine.assignedPartitions.isEmpty && first.engine.assignedPartitions.count < 4 })
                    let (mine, theirs) = (Set(first.engine.assignedPartitions), Set(second.engine.assignedPartitions))
                    #expect(mine.isDisjoint(with: theirs) && mine.union(theirs).count == 4, "\(mine) and \(theirs)")
                    #expect(await receiver.wait(timeout: .seconds(60)) { Set($0.compactMap { $0.header("message_id") }).count >= 400 })
                    // Part of the first batch, read by the first instance, was delivered by the second.
                    #expect((runtime(second)?.acknowledgedMessages ?? 0) > 0)
                    try await produce(Self.events(topic: topic, entities: 20, perEntity: 5))
                    #expect(await receiver.wait(timeout: .seconds(60)) { Set($0.compactMap { $0.header("message_id") }).count >= 500 })
                }
            }
            let requests = receiver.requests
            #expect(Set(requests.compactMap { $0.header("message_id") }).count == 500)
            // Per entity, first arrivals are in offset order (a redelivery may repeat one).
            for (entity, offsets) in offsetsByEntity(requests) {
                #expect(offsets == offsets.sorted(), "entity \(entity): \(offsets)")
                #expect(offsets.count == 25)
            }
        }
    }

    @Test("a failed delivery is not committed and is sent again with the same message_id")
    func failedDeliveryRetried() async throws {
        let topic = BridgeTestCluster.unique("flaky")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        let failures = FailureScript(failFirst: 3)
        try await withReceiver(secret: HashKey("test-key-0123456789"), respond: { _ in await failures.next() }) { receiver, port in
            let config = try testConfig(sources: [(topic, "parcel_state_changed")], receiverPort: port, group: try BridgeTestCluster.group())
            try await withBridge(config) { _ in
                try await produce(Self.events(topic: topic, entities: 1, perEntity: 3))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.header("message_id") != nil }.count >= 6 })
            }
            let requests = receiver.requests
            let ids = requests.compactMap { $0.header("message_id") }
            // The first message was refused three times, then acknowledged, all with one id;
            // the entity's later messages waited for it.
            #expect(ids.count == 6)
            #expect(Set(ids.prefix(4)).count == 1)
            #expect(Set(ids).count == 3)
            #expect(requests.compactMap { $0.json?["step"] as? Int } == [0, 0, 0, 0, 1, 2])
        }
    }

    @Test("garbage and tombstones go to the dead-letter topic with a reason; the partition goes on")
    func deadLetters() async throws {
        let topic = BridgeTestCluster.unique("mixed")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        let group = try BridgeTestCluster.group()
                try await withReceiver(secret: HashKey("test-key-0123456789")) { receiver, port in
            let config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: group)
            try await withBridge(config) { _ in
                try await produce([
                    KafkaOutgoingRecord(topic: topic, key: Array("E1".utf8), value: [0xff, 0x00, 0xfe], headers: [KafkaHeader(key: "trace", string: "t1")]),
                    KafkaOutgoingRecord(topic: topic, key: "E1", value: #"{"entity":"E1","step":0}"#),
                    KafkaOutgoingRecord(topic: topic, key: Array("E2".utf8), value: nil),
                    KafkaOutgoingRecord(topic: topic, key: "E1", value: #"{"entity":"E1","step":1}"#),
                ])
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 2 })
            }
            #expect(receiver.requests.compactMap { $0.json?["step"] as? Int } == [0, 1])

            let reader = try KafkaPartitionReader(kafka: KafkaConfig(bootstrapServers: BridgeTestCluster.shared.bootstrapServers), logger: BridgeTestCluster.logger)
            try reader.assign([TopicPartitionOffset(TopicPartition("\(group)-dlq", 0), offset: 0)])
            var letters: [KafkaRecord] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while letters.count < 2, ContinuousClock.now < deadline { letters += await reader.read() }
            await reader.close()
            #expect(letters.count == 2)
            #expect(letters.first?.value == [0xff, 0x00, 0xfe])
            #expect(letters.first?.key == Array("E1".utf8))
            #expect(letters.first?.header("trace") == "t1")
            #expect(letters.first?.header("dead_letter_reason") == "not a JSON object")
            #expect(letters.first?.header("source_offset") == "0")
            #expect(letters.last?.value == nil)
            #expect(letters.last?.header("dead_letter_reason")?.hasPrefix("tombstone") == true)
        }
    }
}

@Suite("The attempts topic", .serialized)
struct AttemptsTopicTests {
    static func attempts(_ group: String, count: Int) async throws -> [[String: Any]] {
        let reader = try KafkaPartitionReader(kafka: KafkaConfig(bootstrapServers: BridgeTestCluster.shared.bootstrapServers), logger: BridgeTestCluster.logger)
        try reader.assign([TopicPartitionOffset(TopicPartition("\(group)-attempts", 0), offset: 0)])
        var records: [KafkaRecord] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while records.count < count, ContinuousClock.now < deadline { records += await reader.read() }
        await reader.close()
        #expect(records.allSatisfy { $0.key == Array("hook".utf8) })
        return records.compactMap { $0.value.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] } }
    }

    @Test("one record per attempt, keyed by webhook id; payloads only with log_payloads")
    func attemptRecords() async throws {
        for logPayloads in [false, true] {
            let topic = BridgeTestCluster.unique("audit")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
            let group = try BridgeTestCluster.group()
            let failures = FailureScript(failFirst: 2)
            try await withReceiver(secret: nil, respond: { _ in await failures.next() }) { receiver, port in
                var config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: group)
                config.logPayloads = logPayloads
                try await withBridge(config) { _ in
                    try await produce(EndToEndTests.events(topic: topic, entities: 1, perEntity: 2))
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 4 })
                }
            }
            let records = try await Self.attempts(group, count: 4)
            #expect(records.count == 4)
            #expect(records.map { $0["outcome"] as? String } == ["status_500", "status_500", "acked", "acked"])
            #expect(records.map { $0["attempt"] as? Int } == [1, 2, 3, 1])
            #expect(records.first?["error"] as? String == "HTTP 500")
            #expect(records.first?["status"] as? Int == 500)
            let messages = records.first?["messages"] as? [[String: String]]
            #expect(messages?.first?["topic"] == "order_state_changed" && messages?.first?["sequence"] == "0-0")
            #expect((records.first?["payloads"] as? [String])?.first == (logPayloads ? #"{"entity":"E0","step":0}"# : nil))
        }
    }
}

/// Answers 500 to the first `failFirst` requests, then 202.
actor FailureScript {
    private var remaining: Int
    init(failFirst: Int) { remaining = failFirst }
    func next() -> WebhookReceiver.Answer {
        guard remaining > 0 else { return .init(status: 202) }
        remaining -= 1
        return .init(status: 500)
    }
}
