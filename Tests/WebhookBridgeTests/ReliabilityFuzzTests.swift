import Foundation
import Kafka
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge

extension ReliabilitySuite {
    /// Case 5: fuzzed source records mixed with good ones.
    @Suite("Reliability: fuzzed source records")
    struct Fuzz {
        /// xorshift64*: a fixed seed, so a failing mix can be made again.
        struct Generator: RandomNumberGenerator {
            var state: UInt64
            mutating func next() -> UInt64 {
                state ^= state >> 12
                state ^= state << 25
                state ^= state >> 27
                return state &* 2_685_821_657_736_338_717
            }
        }

        /// Record `index` of the mix and whether it must be dead-lettered. The route takes the site
        /// from the `site_id` field, so a JSON object without it, or with a wrong type, is garbage too.
        static func record(_ index: Int, topic: String, random: inout Generator) -> (record: KafkaOutgoingRecord, garbage: Bool, kind: String) {
            let entity = "E\(index % 97)"
            let tag = KafkaHeader(key: "fuzz_index", string: String(index))
            func make(_ key: [UInt8]?, _ value: [UInt8]?, _ headers: [KafkaHeader] = [], garbage: Bool, _ kind: String) -> (KafkaOutgoingRecord, Bool, String) {
                (KafkaOutgoingRecord(topic: topic, key: key, value: value, headers: [tag] + headers), garbage, kind)
            }
            let good = #"{"site_id":"c404","entity":"\#(entity)","n":\#(index)}"#
            switch index % 20 {
            case 0, 1, 2, 3:
                return make(Array(entity.utf8), Array(good.utf8), garbage: false, "good")
            case 4:
                return make([], Array(good.utf8), garbage: false, "good_empty_key")
            case 5:
                return make(nil, Array(good.utf8), garbage: false, "good_missing_key")
            case 6:
                // Unicode, escapes, nesting, a site id given as a number-free string, odd headers.
                let value = #"{"site_id":"c404","n":\#(index),"note":"é ü 日本 \"q\" \\ \u00e9 \ud83d\ude00","deep":{"a":[1,2,{"b":null}]}}"#
                return make(Array(entity.utf8), Array(value.utf8), [KafkaHeader(key: "bin", value: [0, 255, 128]), KafkaHeader(key: "empty", value: nil)], garbage: false, "good_unicode")
            case 7:
                // Random bytes (never valid UTF-8: they start with 0xFF), with headers to keep.
                let bytes = [0xFF] + (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                return make(Array(entity.utf8), bytes, [KafkaHeader(key: "trace", string: "t-\(index)"), KafkaHeader(key: "raw", value: [0xC3, 0x28])], garbage: true, "random_bytes")
            case 8 where index % 200 == 8:
                // Deep nesting: 10,000 levels of arrays or of objects (few of them: the mock broker
                // keeps about 5 MB per partition).
                let depth = 10_000
                let value = index % 400 == 8 ? String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                    : String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
                return make(Array(entity.utf8), Array(value.utf8), garbage: true, "deep")
            case 8:
                return make(Array(entity.utf8), Array("plain text \(index), not JSON".utf8), garbage: true, "text")
            case 9:
                // Wrong types for the routing field.
                let values = [#"{"site_id":404}"#, #"{"site_id":true}"#, #"{"site_id":["c404"]}"#, #"{"site_id":{"id":"c404"}}"#, #"{"site_id":null}"#]
                return make(Array(entity.utf8), Array(values[index / 20 % values.count].utf8), garbage: true, "wrong_type")
            case 10:
                // The routing field missing; an empty object.
                return make(Array(entity.utf8), Array((index / 20 % 2 == 0 ? #"{"entity":"x"}"# : "{}").utf8), garbage: true, "missing_field")
            case 11:
                return make(Array(entity.utf8), nil, [KafkaHeader(key: "trace", string: "tomb")], garbage: true, "tombstone")
            case 12:
                // Invalid UTF-8 inside a JSON string, under a 1,000-byte key.
                return make(Array(repeating: UInt8(ascii: "k"), count: 1_000), Array(#"{"site_id":"c404","x":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8), garbage: true, "bad_utf8_in_string")
            case 13:
                let values = ["42", "\"text\"", "null", "true", "[]", #"[{"site_id":"c404"}]"#, "-1.5e300"]
                return make(Array(entity.utf8), Array(values[index / 20 % values.count].utf8), garbage: true, "not_an_object")
            case 14:
                let values = [#"{"site_id":"c404""#, #"{"site_id":}"#, "{", #"{'site_id':'c404'}"#, #"{"site_id" "c404"}"#]
                return make(Array(entity.utf8), Array(values[index / 20 % values.count].utf8), garbage: true, "broken_json")
            case 15:
                // An empty value (not a tombstone).
                return make(Array(entity.utf8), [], garbage: true, "empty_value")
            case 16:
                // An unknown site.
                return make(Array(entity.utf8), Array(#"{"site_id":"nobody","n":\#(index)}"#.utf8), garbage: true, "unknown_site")
            case 17:
                // NUL bytes and control characters.
                return make(Array(entity.utf8), [0, 0, 0, 0, 1, 2, 3], garbage: true, "nul_bytes")
            default:
                return make(Array(entity.utf8), Array(good.utf8), garbage: false, "good")
            }
        }

        @Test("fuzzed records (random bytes, 10,000-deep and 4 MB JSON, wrong types, empty and missing keys, tombstones, non-UTF-8) with good ones: no crash, every garbage record dead-lettered with key, value and headers, every good one delivered")
        func fuzzedRecords() async throws {
            let total = Reliability.size(full: 10_000, smoke: 1_000)
            let topic = BridgeTestCluster.unique("fuzz")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 4)
            // The group's own topics; the dead letters spread over 16 partitions, since the mock
            // broker keeps only about 5 MB per partition.
            let group = BridgeTestCluster.unique("g")
            try BridgeTestCluster.shared.createTopic("\(group)-control", partitions: 1)
            try BridgeTestCluster.shared.createTopic("\(group)-attempts", partitions: 1)

            var random = Generator(state: 0x9E37_79B9_7F4A_7C15)
            var mix = (0..<total).map { Self.record($0, topic: topic, random: &random) }
            // One 4 MB JSON object (valid, but without site_id), produced once the rest is done:
            // the mock broker drops a partition's oldest records beyond about 5 MB (a 5 MB record deletes itself).
            let huge = "{\"pad\":\"" + String(repeating: "x", count: 4 * 1024 * 1024) + "\"}"
            mix.append((KafkaOutgoingRecord(topic: topic, key: Array("huge".utf8), value: Array(huge.utf8), headers: [KafkaHeader(key: "fuzz_index", string: String(total))]), true, "huge_4mb"))
            let garbage = mix.filter(\.garbage)
            let records = mix.map(\.record)
            let goodIndices = Set(mix.enumerated().filter { !$0.element.garbage }.map(\.offset))
            let dlqPartitions: Int32 = 16
            try BridgeTestCluster.shared.createTopic("\(group)-dlq", partitions: dlqPartitions)

            let delivered = Mutex<[Int: Int]>([:])
            let (letters, servingAtEnd) = try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in
                if let n = request.json?["n"] as? Int { delivered.withLock { $0[n, default: 0] += 1 } }
                return .init()
            }) { _, port in
                // The bridge's clients take records up to 16 MB, so the 4 MB record is dead-lettered
                // whole (with the default, 1 MB, it would go without its value: see
                // `largeRecordDefaultLimits`).
                var config = try BridgeConfig.parse(yaml: """
                    kafka: {bootstrap_servers: "\(BridgeTestCluster.shared.bootstrapServers)", group_id: \(group), start_from: earliest, dead_letter_topic: \(group)-dlq, control_topic: \(group)-control, attempts_topic: \(group)-attempts, properties: {message.max.bytes: "16000000"}}
                    http: {admin_listen: "127.0.0.1:0", allow_private_destinations: true}
                    sites: [{id: c404, token: c404-test-token-0001, max_in_flight: 16}]
                    routes: [{source: \(topic), site_field: site_id, topic: order_state_changed}]
                    webhooks:
                      - {id: hook, site: c404, url: "http://127.0.0.1:\(port)/hooks", topics: [order_state_changed], hash_key: hash-key-for-tests}
                    """)
                config.http.adminPort = 0
                return try await withBridge(config) { bridge in
                    let producer = try KafkaProducer(
                        configuration: .init(kafka: KafkaConfig(bootstrapServers: BridgeTestCluster.shared.bootstrapServers, properties: ["message.max.bytes": "16000000"])),
                        logger: BridgeTestCluster.logger)
                    for record in records.dropLast() { producer.enqueue(record) }
                    try await producer.flush(timeoutMilliseconds: 120_000)
                    #expect(await waitFor(seconds: 120) { delivered.withLock { $0.count } >= goodIndices.count }, "\(delivered.withLock { $0.count }) of \(goodIndices.count) good records")
                    var letters = try await Self.readAll(topic: "\(group)-dlq", partitions: dlqPartitions, from: [:], atLeast: garbage.count - 1)
                    let next = Dictionary(letters.map { ($0.partition, $0.offset + 1) }, uniquingKeysWith: max)
                    producer.enqueue(records.last!)
                    try await producer.flush(timeoutMilliseconds: 120_000)
                    await producer.close()
                    // Stop only when every dead letter is written.
                    letters += try await Self.readAll(topic: "\(group)-dlq", partitions: dlqPartitions, from: next, atLeast: 1)
                    // Not crashed: after every record, the bridge still answers /health, is ready
                    // (its consumer holds its partitions) and then stops gracefully (withBridge throws otherwise).
                    let health = try await adminGET(bridge, "/health").status
                    return (letters, health == 200 && bridge.engine.readiness.isReady)
                }
            }

            let byIndex = Dictionary(grouping: letters) { letter in
                letter.headers.first { $0.key == "fuzz_index" }.flatMap { $0.value }.map { String(decoding: $0, as: UTF8.self) }.flatMap { Int($0) } ?? -1
            }
            var intact = 0
            for (index, entry) in mix.enumerated() where entry.garbage {
                let found = byIndex[index] ?? []
                #expect(found.count == 1, "record \(index) (\(entry.kind)): \(found.count) dead letters")
                guard let letter = found.first else { continue }
                let keptHeaders = Array(letter.headers.prefix(entry.record.headers.count))
                let reason = letter.headers.first { $0.key == "dead_letter_reason" }?.value
                let same = letter.key == entry.record.key && letter.value == entry.record.value && keptHeaders == entry.record.headers && reason != nil
                #expect(same, "record \(index) (\(entry.kind)) changed in the dead-letter topic")
                if same { intact += 1 }
            }
            let deliveredIndices = delivered.withLock { $0 }
            #expect(Set(deliveredIndices.keys) == goodIndices)
            #expect(servingAtEnd, "the bridge no longer answered /health or was no longer ready after the fuzzed records")
            let kinds = Dictionary(grouping: garbage, by: \.kind).mapValues(\.count)
            Reliability.report("fuzz", [
                "records": mix.count, "good": goodIndices.count, "garbage": garbage.count,
                "delivered": deliveredIndices.count, "lost_good": goodIndices.subtracting(deliveredIndices.keys).count,
                "dead_lettered": letters.count, "intact_letters": intact, "crashed": servingAtEnd ? "no" : "yes",
                "kinds": kinds.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","),
            ])
        }

        /// A source record over librdkafka's default `message.max.bytes` (1 MB), which the source
        /// producer could write (its own limit raised): with the bridge's default client settings
        /// it is dead-lettered without its value (saying so), and the records after it flow.
        @Test("a 2 MB garbage record with default client settings is dead-lettered without its value and does not stall its partition")
        func largeRecordDefaultLimits() async throws {
            let topic = BridgeTestCluster.unique("fuzz-large")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
            let group = try BridgeTestCluster.group()
            let big = "[" + String(repeating: "1,", count: 1_000_000) + "1]"
            let delivered = try await withReceiver(secret: HashKey("hash-key-for-tests")) { receiver, port in
                let config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: group)
                return try await withBridge(config) { _ in
                    let producer = try KafkaProducer(
                        configuration: .init(kafka: KafkaConfig(bootstrapServers: BridgeTestCluster.shared.bootstrapServers, properties: ["message.max.bytes": "16000000"])),
                        logger: BridgeTestCluster.logger)
                    producer.enqueue(KafkaOutgoingRecord(topic: topic, key: "big", value: big, headers: [KafkaHeader(key: "trace", string: "t-1")]))
                    producer.enqueue(KafkaOutgoingRecord(topic: topic, key: "E1", value: #"{"entity":"E1","step":1}"#))
                    try await producer.flush()
                    await producer.close()
                    return await receiver.wait(timeout: .seconds(30)) { !$0.isEmpty }
                }
            }
            let letters = try await Self.readAll(topic: "\(group)-dlq", partitions: 1, from: [:], atLeast: 1, timeout: .seconds(10))
            #expect(letters.count == 1)
            #expect(delivered, "the record after it is delivered")
            let letter = try #require(letters.first)
            func header(_ key: String) -> String? { letter.headers.first { $0.key == key }?.value.map { String(decoding: $0, as: UTF8.self) } }
            #expect(letter.key == Array("big".utf8) && letter.value == nil && header("trace") == "t-1")
            #expect(header("dead_letter_dropped") == "value (too large: value \(big.utf8.count) bytes, key 3 bytes)")
            #expect(header("dead_letter_reason") == "not a JSON object" && header("source_offset") == "0")
            Reliability.report("fuzz_large_default", [
                "record_bytes": big.utf8.count, "dead_lettered": letters.count, "value_dropped": letter.value == nil ? "yes" : "no",
                "next_record_delivered": delivered ? "yes" : "no",
            ])
        }

        /// The records of a topic's partitions from these offsets (0 if absent), until `atLeast` or `timeout`.
        static func readAll(
            topic: String, partitions: Int32, from offsets: [Int32: Int64], atLeast: Int, timeout: Duration = .seconds(60),
            bootstrap: String = BridgeTestCluster.shared.bootstrapServers
        ) async throws -> [KafkaRecord] {
            let reader = try KafkaPartitionReader(
                kafka: KafkaConfig(bootstrapServers: bootstrap, properties: ["fetch.message.max.bytes": "16000000"]),
                logger: BridgeTestCluster.logger)
            try reader.assign((0..<partitions).map { TopicPartitionOffset(TopicPartition(topic, $0), offset: offsets[$0] ?? 0) })
            var records: [KafkaRecord] = []
            let deadline = ContinuousClock.now + timeout
            while records.count < atLeast, ContinuousClock.now < deadline {
                records += await reader.read(maxRecords: 1_000, timeoutMilliseconds: 200)
            }
            // Anything more (a duplicate) would arrive soon after.
            records += await reader.read(maxRecords: 1_000, timeoutMilliseconds: 500)
            await reader.close()
            return records
        }
    }
}
