import Foundation
import Kafka
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge

/// A small deterministic generator (xorshift64*), so a failing fuzz run can be repeated.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
}

@Suite("Reliability: fuzzed source records", .serialized)
struct ReliabilityFuzzTests {
    /// One record of the mix and whether the router must dead-letter it.
    static func record(_ index: Int, topic: String, random: inout SeededGenerator) -> (KafkaOutgoingRecord, garbage: Bool) {
        let entity = "E\(index % 97)"
        switch index % 10 {
        case 0, 1:
            // Good: a JSON object, keyed by its entity.
            return (KafkaOutgoingRecord(topic: topic, key: entity, value: #"{"entity":"\#(entity)","index":\#(index)}"#), false)
        case 2:
            // Good, without a key or with an empty one: delivered, ordered as one (empty) entity.
            let key: [UInt8]? = index % 20 == 2 ? nil : []
            return (KafkaOutgoingRecord(topic: topic, key: key, value: Array(#"{"entity":"","index":\#(index)}"#.utf8)), false)
        case 3:
            // Random bytes, never valid UTF-8 (they start with 0xFF).
            let bytes = [0xFF] + (0..<Int.random(in: 0...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            return (KafkaOutgoingRecord(topic: topic, key: Array(entity.utf8), value: bytes), true)
        case 4:
            // Deeply nested arrays.
            let depth = Int.random(in: 100...2_000, using: &random)
            return (KafkaOutgoingRecord(topic: topic, key: entity, value: String(repeating: "[", count: depth) + String(repeating: "]", count: depth)), true)
        case 5 where index % 100 == 5:
            // A huge JSON array (about 50 KB), valid JSON but not an object. (The mock broker keeps
            // about 5 MB per partition, which bounds how many of these a run can have.)
            return (KafkaOutgoingRecord(topic: topic, key: entity, value: "[" + Array(repeating: "123456789", count: 5_000).joined(separator: ",") + "]"), true)
        case 5:
            // A huge key with a JSON object that is not valid UTF-8 inside a string.
            return (KafkaOutgoingRecord(topic: topic, key: Array(repeating: UInt8(ascii: "k"), count: 1_000), value: [UInt8](#"{"entity":""#.utf8) + [0xC3, 0x28] + [UInt8](#""}"#.utf8)), true)
        case 6:
            // Wrong top-level types.
            let values = ["42", "\"text\"", "null", "true", "[]", "[{\"entity\":\"E1\"}]", "-1.5e300"]
            return (KafkaOutgoingRecord(topic: topic, key: entity, value: values[index / 10 % values.count]), true)
        case 7:
            // Truncated or broken objects.
            let values = [#"{"entity":"E1""#, #"{"entity":}"#, "{", #"{'a':1}"#, "{\"a\":\"\u{1}\"}"]
            return (KafkaOutgoingRecord(topic: topic, key: entity, value: values[index / 10 % values.count]), true)
        case 8:
            // Tombstones.
            return (KafkaOutgoingRecord(topic: topic, key: Array(entity.utf8), value: nil), true)
        default:
            // Good: a larger object with odd but valid content (unicode, escapes, nesting).
            return (
                KafkaOutgoingRecord(
                    topic: topic, key: entity, value: #"{"entity":"\#(entity)","index":\#(index),"note":"é \"quoted\" \\ \u00e9","nested":{"a":[1,2,{"b":null}]}}"#),
                false
            )
        }
    }

    /// 1,000 records in the normal suite (a smoke run); `scripts/reliability.sh` runs 10,000.
    @Test("fuzzed records: no crash, every garbage record dead-lettered once, every good record delivered")
    func fuzzedRecords() async throws {
        let total = Int(ProcessInfo.processInfo.environment["RELIABILITY_FUZZ_RECORDS"] ?? "") ?? 1_000
        let topic = BridgeTestCluster.unique("fuzz")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 4)
        // The group's own topics, with a dead-letter topic of 4 partitions (the mock broker keeps
        // about 5 MB per partition).
        let group = BridgeTestCluster.unique("g")
        try BridgeTestCluster.shared.createTopic("\(group)-dlq", partitions: 4)
        try BridgeTestCluster.shared.createTopic("\(group)-control", partitions: 1)
        try BridgeTestCluster.shared.createTopic("\(group)-attempts", partitions: 1)
        var random = SeededGenerator(state: 0x5EED_F00D)
        let mix = (0..<total).map { Self.record($0, topic: topic, random: &random) }
        let good = mix.filter { !$0.garbage }.count
        let garbage = mix.count - good
        try await withReceiver(secret: HashKey("test-key")) { receiver, port in
            var config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: group)
            config.sites[0].maxInFlight = 16
            try await withBridge(config) { bridge in
                let producer = try KafkaProducer(
                    configuration: .init(kafka: KafkaConfig(bootstrapServers: BridgeTestCluster.shared.bootstrapServers)), logger: BridgeTestCluster.logger)
                for (record, _) in mix { producer.enqueue(record) }
                try await producer.flush()
                await producer.close()
                #expect(await receiver.wait(timeout: .seconds(180)) { Set($0.compactMap { $0.header("message_id") }).count >= good })
                // Every record done (delivered or dead-lettered) before the bridge stops.
                #expect(await waitFor(seconds: 60) { bridge.engine.partitionLags().count == 4 && bridge.engine.partitionLags().allSatisfy { $0.lag == 0 } })
                #expect(bridge.engine.readiness.isReady, "still running")
            }
            let requests = receiver.requests
            #expect(Set(requests.compactMap { $0.header("message_id") }).count == good)
            #expect(requests.allSatisfy { $0.hmacVerdict == .valid(keyIndex: 0) })

            let reader = try KafkaPartitionReader(kafka: KafkaConfig(bootstrapServers: BridgeTestCluster.shared.bootstrapServers), logger: BridgeTestCluster.logger)
            try reader.assign((0..<4).map { TopicPartitionOffset(TopicPartition("\(group)-dlq", $0), offset: 0) })
            var letters: [KafkaRecord] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while letters.count < garbage, ContinuousClock.now < deadline { letters += await reader.read() }
            // Nothing more than the garbage arrives.
            letters += await reader.read(timeoutMilliseconds: 500)
            await reader.close()
            #expect(letters.count == garbage)
            // Each letter names a distinct source record, with its reason.
            #expect(letters.allSatisfy { $0.header("dead_letter_reason") != nil && $0.header("source_topic") == topic })
            let sources = letters.compactMap { letter in letter.header("source_partition").flatMap { partition in letter.header("source_offset").map { "\(partition)-\($0)" } } }
            #expect(Set(sources).count == garbage)
            let tombstones = letters.filter { $0.value == nil }.count
            #expect(tombstones == mix.filter { $0.0.value == nil }.count)
            print("RELIABILITY fuzz: records=\(total) good=\(good) garbage=\(garbage) delivered=\(Set(requests.compactMap { $0.header("message_id") }).count) dead_lettered=\(letters.count) tombstones=\(tombstones) crashed=no")
        }
    }
}

@Suite("Reliability: kill -9 restarts", .serialized)
struct ReliabilityKillTests {
    /// 2,000 events and 2 kills in the normal suite (a smoke run); `scripts/reliability.sh` runs
    /// 50,000 events and 10 kills.
    @Test("repeated kill -9 of `run` during a stream: nothing lost, every redelivery with its original message_id and body")
    func killNineRestarts() async throws {
        let environment = ProcessInfo.processInfo.environment
        let events = Int(environment["RELIABILITY_KILL_EVENTS"] ?? "") ?? 2_000
        let kills = Int(environment["RELIABILITY_KILLS"] ?? "") ?? 2
        let entities = 300
        let broker = try ChildProcess(ChildProcess.executable, ["dev-broker", "--partitions", "3", "--topic", "oms.orders", "--topic", "webhook-bridge.control"])
        let bootstrap = try #require(await broker.waitForLine { $0.contains(":") })
        // Counted as requests come: a condition that scanned every request at each new one would
        // make the receiver itself the bottleneck at 50,000 events.
        let seen = Mutex<Set<String>>([])
        try await withReceiver(secret: HashKey("kill-key"), respond: { request in
            if let id = request.header("message_id") { seen.withLock { _ = $0.insert(id) } }
            return .init()
        }) { receiver, port in
            let configPath = FileManager.default.temporaryDirectory.appendingPathComponent("kill-\(UUID().uuidString).yaml")
            try """
                kafka: {bootstrap_servers: "\(bootstrap)", group_id: kill-test, start_from: earliest}
                http: {admin_listen: "127.0.0.1:0", allow_private_destinations: true}
                sites: [{id: c404, token: t, max_in_flight: 16}]
                routes: [{source: oms.orders, site: c404, topic: order_state_changed}]
                webhooks:
                  - {id: kill, site: c404, url: "http://127.0.0.1:\(port)/hooks", topics: [order_state_changed], hash_key: kill-key}
                logging: {level: warning}
                """.write(to: configPath, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: configPath) }

            let producer = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: bootstrap)), logger: BridgeTestCluster.logger)
            for index in 0..<events {
                let entity = "E\(index % entities)"
                producer.enqueue(KafkaOutgoingRecord(topic: "oms.orders", key: entity, value: #"{"entity":"\#(entity)","step":\#(index / entities)}"#))
            }
            try await producer.flush()
            await producer.close()

            @Sendable func unique(_: [WebhookReceiver.Received]) -> Int { seen.withLock { $0.count } }
            var killed = 0
            for kill in 1...kills {
                // Each instance gets a share of the stream delivered, then dies in mid-stream.
                let bridge = try ChildProcess(ChildProcess.executable, ["run", "--config", configPath.path])
                let target = events * kill / (kills + 1)
                #expect(await receiver.wait(timeout: .seconds(120)) { unique($0) >= target }, "kill \(kill): \(bridge.lines.suffix(5))")
                #expect(await bridge.stop(signal: SIGKILL) == SIGKILL)
                killed += 1
            }
            let last = try ChildProcess(ChildProcess.executable, ["run", "--config", configPath.path])
            #expect(await receiver.wait(timeout: .seconds(180)) { unique($0) >= events }, "\(last.lines.suffix(10))")
            #expect(await last.stop() == 0)

            // Every event arrived; each (entity, step) under one id; a resent id carries the same body.
            var bodies: [String: [UInt8]] = [:]
            var idsByEvent: [String: Set<String>] = [:]
            var mismatched = 0
            for request in receiver.requests {
                guard let id = request.header("message_id"), let json = request.json else { continue }
                if let known = bodies[id], known != request.body { mismatched += 1 }
                bodies[id] = request.body
                idsByEvent["\(json["entity"]!)/\(json["step"]!)", default: []].insert(id)
            }
            let requests = receiver.requests.count
            #expect(idsByEvent.count == events)
            #expect(idsByEvent.values.allSatisfy { $0.count == 1 })
            #expect(mismatched == 0)
            #expect(receiver.requests.allSatisfy { $0.hmacVerdict == .valid(keyIndex: 0) })
            print("RELIABILITY kill9: events=\(events) kills=\(killed) delivered=\(idsByEvent.count) lost=\(events - idsByEvent.count) requests=\(requests) redeliveries=\(requests - bodies.count) id_changes=\(idsByEvent.values.filter { $0.count > 1 }.count) body_mismatches=\(mismatched)")
        }
        #expect(await broker.stop() == 0)
    }
}
