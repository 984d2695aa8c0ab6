import Kafka
import Testing

@Suite("Kafka layer against the embedded cluster")
struct KafkaRoundTripTests {
    @Test("records keep key, value, headers and partition order")
    func roundTrip() async throws {
        let topic = try TestCluster.topic("roundtrip", partitions: 3)
        let producer = try TestCluster.producer()
        for i in 0..<30 {
            try await producer.send(
                KafkaOutgoingRecord(topic: topic, key: "entity-\(i % 5)", value: "{\"n\":\(i)}", headers: [KafkaHeader(key: "message_id", string: "m\(i)")]))
        }
        let consumer = try TestCluster.consumer(group: TestCluster.uniqueName("g"))
        try consumer.subscribe([topic])
        let records = await readRecords(consumer, count: 30)
        #expect(records.count == 30)
        #expect(Set(records.compactMap { $0.header("message_id") }) == Set((0..<30).map { "m\($0)" }))
        for entity in 0..<5 {
            let values = records.filter { $0.key == Array("entity-\(entity)".utf8) }.map { String(decoding: $0.value!, as: UTF8.self) }
            #expect(values == stride(from: entity, to: 30, by: 5).map { "{\"n\":\($0)}" })
        }
        await consumer.close()
        await producer.close()
    }

    @Test("records sent together are each acknowledged, in order, also past a full local queue")
    func sendTogether() async throws {
        let topic = try TestCluster.topic("together", partitions: 1)
        // A local queue of 50 records: 500 sent at once fill it ten times over.
        var kafka = TestCluster.kafka
        kafka.properties = ["queue.buffering.max.messages": "50"]
        let producer = try KafkaProducer(configuration: .init(kafka: kafka), logger: TestCluster.logger)
        let records = (0..<500).map { KafkaOutgoingRecord(topic: topic, partition: 0, key: Array("k\($0)".utf8), value: Array("\($0)".utf8)) }
        let reports = await producer.send(records)
        let offsets = try reports.map { try $0.get().offset }
        #expect(Set(offsets).count == 500)
        let consumer = try TestCluster.consumer(group: TestCluster.uniqueName("g"))
        try consumer.subscribe([topic])
        let read = await readRecords(consumer, count: 500)
        // Each report names the offset its own record was written at.
        let valueAt = Dictionary(uniqueKeysWithValues: read.map { ($0.offset, String(decoding: $0.value!, as: UTF8.self)) })
        #expect(offsets.enumerated().allSatisfy { valueAt[$1] == "\($0)" })
        #expect(await producer.send([]).isEmpty)
        await consumer.close()
        await producer.close()
    }

    @Test("a tombstone, a missing key and non-UTF-8 bytes are read without harm")
    func oddRecords() async throws {
        let topic = try TestCluster.topic("odd", partitions: 1)
        let producer = try TestCluster.producer()
        try await producer.send(KafkaOutgoingRecord(topic: topic, key: Array("k".utf8), value: nil))
        try await producer.send(KafkaOutgoingRecord(topic: topic, key: nil, value: [0xff, 0xfe, 0x00, 0xc3]))
        try await producer.send(KafkaOutgoingRecord(topic: topic, key: [], value: [], headers: [KafkaHeader(key: "empty", value: nil)]))
        let consumer = try TestCluster.consumer(group: TestCluster.uniqueName("g"))
        try consumer.subscribe([topic])
        let records = await readRecords(consumer, count: 3)
        #expect(records.map(\.offset) == [0, 1, 2])
        #expect(records[0].value == nil)
        #expect(records[0].key == Array("k".utf8))
        #expect(records[1].key == nil)
        #expect(records[1].value == [0xff, 0xfe, 0x00, 0xc3])
        #expect(records[2].headers == [KafkaHeader(key: "empty", value: nil)])
        #expect(records[2].header("empty") == nil)
        await consumer.close()
        await producer.close()
    }

    @Test("a restarted consumer resumes after its committed offset")
    func resumeFromCommitted() async throws {
        let topic = try TestCluster.topic("resume", partitions: 2)
        let group = TestCluster.uniqueName("g")
        let producer = try TestCluster.producer()
        for i in 0..<10 { try await producer.send(KafkaOutgoingRecord(topic: topic, key: "k\(i)", value: "\(i)")) }

        let first = try TestCluster.consumer(group: group)
        try first.subscribe([topic])
        let firstRecords = await readRecords(first, count: 10, store: true)
        try await first.commit()
        await first.close()
        #expect(firstRecords.count == 10)

        for i in 10..<15 { try await producer.send(KafkaOutgoingRecord(topic: topic, key: "k\(i)", value: "\(i)")) }
        let second = try TestCluster.consumer(group: group)
        try second.subscribe([topic])
        let secondRecords = await readRecords(second, count: 5)
        #expect(Set(secondRecords.map { String(decoding: $0.value!, as: UTF8.self) }) == Set((10..<15).map(String.init)))
        await second.close()
        await producer.close()
    }

    @Test("the latest start position skips what was there before the assignment")
    func startFromLatest() async throws {
        let topic = try TestCluster.topic("latest", partitions: 1)
        let producer = try TestCluster.producer()
        try await producer.send(KafkaOutgoingRecord(topic: topic, key: "old", value: "old"))
        let consumer = try TestCluster.consumer(group: TestCluster.uniqueName("g"), startFrom: .latest)
        try consumer.subscribe([topic])
        var iterator = consumer.events.makeAsyncIterator()
        // Once the assignment is reported, positions are resolved: a record sent now is read.
        guard case .assigned(let positions) = await iterator.next() else { Issue.record("expected an assignment"); return }
        #expect(positions.map(\.offset) == [1])
        try await producer.send(KafkaOutgoingRecord(topic: topic, key: "new", value: "new"))
        guard case .records(let records) = await iterator.next() else { Issue.record("expected records"); return }
        #expect(records.map(\.offset) == [1])
        await consumer.close()
        await producer.close()
    }

    @Test("a record over the producer's message.max.bytes is refused locally as too large")
    func tooLargeForTheProducer() async throws {
        let topic = try TestCluster.topic("too-large", partitions: 1)
        let producer = try TestCluster.producer()
        let error = await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaOutgoingRecord(topic: topic, key: nil, value: Array(repeating: 0x31, count: 2_000_000)))
        }
        #expect(error?.isRecordTooLarge == true, "\(String(describing: error))")
        #expect(error?.isRetriable == false)
        // The producer goes on.
        try await producer.send(KafkaOutgoingRecord(topic: topic, key: "k", value: "small"))
        await producer.close()
    }

    @Test("a record the broker refuses as too large fails with that error; the idempotent producer goes on")
    func tooLargeForTheBroker() async throws {
        // A cluster of its own: the injected error would hit any other test's produce request.
        let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: TestCluster.logger)
        try cluster.createTopic("letters", partitions: 1)
        let producer = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: cluster.bootstrapServers)), logger: TestCluster.logger)
        try await producer.send(KafkaOutgoingRecord(topic: "letters", key: "k", value: "first"))
        // 10: the broker's MESSAGE_TOO_LARGE (a record batch over the topic's max.message.bytes).
        cluster.pushRequestErrors(.produce, [10])
        let error = await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaOutgoingRecord(topic: "letters", key: "k", value: "refused"))
        }
        #expect(error?.isRecordTooLarge == true, "\(String(describing: error))")
        let written = try await producer.send(KafkaOutgoingRecord(topic: "letters", key: "k", value: "after"))
        #expect(written.offset == 1)
        await producer.close()
    }
}
