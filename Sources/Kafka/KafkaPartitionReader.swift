import CLibrdkafka
import Logging

/// An assign-mode reader: no group, no commits; reads given partitions from given offsets.
/// Used to catch up a webhook from its cursors and to look at record timestamps.
public final class KafkaPartitionReader: Sendable {
    private let client: RDKafkaClient

    public init(kafka: KafkaConfig, logger: Logger) throws(KafkaError) {
        // One-off reads (probes, look-ups): prefetch 1 MB, not librdkafka's 64 MB.
        client = try RDKafkaClient(role: .consumer, properties: Self.properties(kafka, prefetchKilobytes: 1024), context: .init(logger: logger))
        rd_kafka_poll_set_consumer(client.handle)
    }

    /// An assign-mode reader's settings: no group is joined and nothing is committed.
    static func properties(_ kafka: KafkaConfig, prefetchKilobytes: Int) -> [String: String] {
        kafka.flattened(defaults: [
            "group.id": "webhook-bridge-reader",  // required by librdkafka; never joined or committed
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": "50",
            "enable.partition.eof": "false",
            "queued.max.messages.kbytes": String(prefetchKilobytes),
        ])
    }

    /// Reads these partitions from these offsets, replacing any earlier assignment.
    public func assign(_ positions: [TopicPartitionOffset]) throws(KafkaError) {
        let list = PartitionList.make(positions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_assign(client.handle, list), "assign \(positions.map(\.topicPartition))")
    }

    /// Up to `maxRecords` records, waiting at most `timeoutMilliseconds` for the first one.
    public func read(maxRecords: Int = 500, timeoutMilliseconds: Int32 = 100) async -> [KafkaRecord] {
        let client = self.client
        return try! await BlockingCalls.run { () throws(KafkaError) in
            var records: [KafkaRecord] = []
            client.pollRecords(maxRecords: maxRecords, timeoutMilliseconds: timeoutMilliseconds, into: &records)
            return records
        }
    }

    /// A partition's high watermark as this reader's fetches last saw it (nil before the first).
    public func highWatermark(_ partition: TopicPartition) -> Int64? { client.cachedHighWatermark(partition) }

    /// Low and high watermark of a partition.
    public func watermarks(_ partition: TopicPartition) async throws(KafkaError) -> (low: Int64, high: Int64) {
        let client = self.client
        return try await BlockingCalls.run(cancellable: true) { () throws(KafkaError) in try client.queryWatermarks(partition) }
    }

    /// Stops reading. The handle is destroyed when the reader is released.
    public func close() async {
        let client = self.client
        _ = try? await BlockingCalls.run { () throws(KafkaError) in _ = rd_kafka_consumer_close(client.handle) }
    }
}
