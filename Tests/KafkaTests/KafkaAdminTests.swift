import Kafka
import Testing

@Suite("Kafka admin on the embedded cluster")
struct KafkaAdminTests {
    @Test("watermarks and partition counts follow what was produced")
    func watermarks() async throws {
        let topic = try TestCluster.topic("marks", partitions: 3)
        let admin = try KafkaAdmin(kafka: TestCluster.kafka, logger: TestCluster.logger)
        #expect(try await admin.partitionCount(of: topic) == 3)
        let producer = try TestCluster.producer()
        for i in 0..<4 { try await producer.send(KafkaOutgoingRecord(topic: topic, partition: 1, key: nil, value: Array("\(i)".utf8))) }
        let marks = try await admin.watermarks(TopicPartition(topic, 1))
        #expect(marks.low == 0 && marks.high == 4)
        await producer.close()
    }

    @Test("the embedded cluster creates topics with the partitions asked for")
    func embeddedCreate() async throws {
        let name = TestCluster.uniqueName("created")
        try TestCluster.shared.createTopic(name, partitions: 6)
        let admin = try KafkaAdmin(kafka: TestCluster.kafka, logger: TestCluster.logger)
        #expect(try await admin.partitionCount(of: name) == 6)
    }

    @Test("admin CreateTopics reports the mock cluster's missing support as a retriable timeout")
    func createTopicsOnMock() async throws {
        // librdkafka 2.0.2's mock cluster never answers CreateTopics (DESIGN.md §12); the bridge
        // then falls back to the embedded cluster's own topic creation or broker auto-creation.
        let admin = try KafkaAdmin(kafka: TestCluster.kafka, logger: TestCluster.logger)
        let name = TestCluster.uniqueName("compacted")
        let error = await #expect(throws: KafkaError.self) {
            try await admin.createTopics([.init(name: name, partitions: 1, configs: ["cleanup.policy": "compact"])], timeoutMilliseconds: 1_000)
        }
        #expect(error?.isRetriable == true)
    }

    @Test("topic configs: the embedded cluster keeps none, and says so at once")
    func topicConfigsOnMock() async throws {
        // librdkafka 2.0.2's mock cluster never answers DescribeConfigs (asked, it times out);
        // KafkaAdmin recognises it and reports no configs, so the bridge's cleanup.policy check
        // is skipped rather than waited for.
        let topic = try TestCluster.topic("configs", partitions: 1)
        let admin = try KafkaAdmin(kafka: TestCluster.kafka, logger: TestCluster.logger)
        #expect(try await admin.topicConfigs(topic, timeoutMilliseconds: 1_000) == nil)
    }

    @Test("an assign-mode reader reads a partition from a given offset")
    func partitionReader() async throws {
        let topic = try TestCluster.topic("reader", partitions: 2)
        let producer = try TestCluster.producer()
        for i in 0..<6 { try await producer.send(KafkaOutgoingRecord(topic: topic, partition: 0, key: nil, value: Array("\(i)".utf8))) }
        let reader = try KafkaPartitionReader(kafka: TestCluster.kafka, logger: TestCluster.logger)
        try reader.assign([TopicPartitionOffset(TopicPartition(topic, 0), offset: 3)])
        var records: [KafkaRecord] = []
        while records.count < 3 { records += await reader.read() }
        #expect(records.map(\.offset) == [3, 4, 5])
        await reader.close()
        await producer.close()
    }

    @Test("a shared reader reads each partition from its own offset; partitions come and go without moving the others")
    func sharedReader() async throws {
        let topic = try TestCluster.topic("shared", partitions: 2)
        let producer = try TestCluster.producer()
        for i in 0..<10 {
            for partition: Int32 in [0, 1] {
                producer.enqueue(KafkaOutgoingRecord(topic: topic, partition: partition, key: nil, value: Array("p\(partition)-\(i)".utf8)))
            }
        }
        try await producer.flush()
        let reader = try KafkaSharedReader(kafka: TestCluster.kafka, logger: TestCluster.logger)
        func read(_ partition: KafkaSharedReader.Partition, count: Int) async -> [KafkaRecord] {
            var records: [KafkaRecord] = []
            for _ in 0..<100 where records.count < count { records += await partition.read(maxRecords: min(3, count - records.count)) }
            return records
        }
        let zero = try reader.open(TopicPartitionOffset(TopicPartition(topic, 0), offset: 7))
        let one = try reader.open(TopicPartitionOffset(TopicPartition(topic, 1), offset: 2))
        let fromZero = await read(zero, count: 3)
        #expect(fromZero.map(\.offset) == [7, 8, 9] && fromZero.allSatisfy { $0.partition == 0 })
        let firstOfOne = await read(one, count: 4)
        #expect(firstOfOne.map(\.offset) == [2, 3, 4, 5] && firstOfOne.allSatisfy { $0.partition == 1 }, "\(firstOfOne.map { "\($0.partition)@\($0.offset)" })")
        zero.close()
        // Partition 1 goes on where it was; partition 0 can be opened again at another offset.
        for i in 10..<12 { producer.enqueue(KafkaOutgoingRecord(topic: topic, partition: 1, key: nil, value: Array("p1-\(i)".utf8))) }
        try await producer.flush()
        #expect(await read(one, count: 6).map(\.offset) == [6, 7, 8, 9, 10, 11])
        let zeroAgain = try reader.open(TopicPartitionOffset(TopicPartition(topic, 0), offset: 1))
        #expect(await read(zeroAgain, count: 2).map(\.offset) == [1, 2])
        #expect(zeroAgain.highWatermark == 10)
        zeroAgain.close()
        one.close()
        await reader.close()
        await producer.close()
    }

    @Test("offsets at or after a time: the first record not older, by bisection on the embedded broker; the high watermark when none is")
    func offsetsAtOrAfter() async throws {
        let topic = try TestCluster.topic("by-time", partitions: 2)
        let producer = try TestCluster.producer()
        let base: Int64 = 1_700_000_000_000
        for i in 0..<10 {
            try await producer.send(KafkaOutgoingRecord(topic: topic, partition: 0, key: nil, value: Array("{}".utf8), timestampMilliseconds: base + Int64(i) * 1_000))
        }
        await producer.close()
        let admin = try KafkaAdmin(kafka: TestCluster.kafka, logger: TestCluster.logger)
        let first = TopicPartition(topic, 0)
        let empty = TopicPartition(topic, 1)
        let between = try await admin.offsets(atOrAfter: base + 6_500, in: [first, empty])
        #expect(between == [first: 7, empty: 0])
        #expect(try await admin.offsets(atOrAfter: base + 6_000, in: [first]) == [first: 6], "a record exactly at the time is included")
        #expect(try await admin.offsets(atOrAfter: base - 1, in: [first]) == [first: 0])
        #expect(try await admin.offsets(atOrAfter: base + 60_000, in: [first]) == [first: 10], "no record that late: the high watermark")
    }
}
