import CLibrdkafka
import Logging
import Synchronization

/// An assign-mode client whose partitions are each read from a queue of their own, so that
/// independent readers of different partitions share one librdkafka client (its threads,
/// connections and buffers): a webhook's catch-ups of all its parked partitions use one.
///
/// Partitions are added and removed one at a time (`open`, `Partition.close`) without
/// disturbing the others' positions. Prefetch is bounded per partition.
public final class KafkaSharedReader: Sendable {
    private let client: RDKafkaClient

    public init(kafka: KafkaConfig, logger: Logger) throws(KafkaError) {
        // With a queue per partition the prefetch bound is per partition.
        client = try RDKafkaClient(
            role: .consumer, properties: KafkaPartitionReader.properties(kafka, prefetchKilobytes: 4096), context: .init(logger: logger))
    }

    /// One partition of the reader, read from its own queue.
    public final class Partition: @unchecked Sendable {
        // The queue is used by one reader task at a time; librdkafka queues are thread-safe.
        private let queue: OpaquePointer
        private let client: RDKafkaClient
        public let topicPartition: TopicPartition
        private let closed = Mutex(false)

        fileprivate init(queue: OpaquePointer, client: RDKafkaClient, topicPartition: TopicPartition) {
            self.queue = queue
            self.client = client
            self.topicPartition = topicPartition
        }

        /// Up to `maxRecords` records of this partition, waiting at most `timeoutMilliseconds`
        /// for the first one.
        public func read(maxRecords: Int = 500, timeoutMilliseconds: Int32 = 100) async -> [KafkaRecord] {
            try! await BlockingCalls.run { () throws(KafkaError) in
                // The client's own events (errors, statistics) wait on its main queue.
                rd_kafka_poll(self.client.handle, 0)
                var messages = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: maxRecords)
                let count = rd_kafka_consume_batch_queue(self.queue, timeoutMilliseconds, &messages, maxRecords)
                var records: [KafkaRecord] = []
                records.reserveCapacity(max(count, 0))
                var topics = TopicNames()
                for message in messages.prefix(max(count, 0)) {
                    guard let message else { continue }
                    defer { rd_kafka_message_destroy(message) }
                    if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                        records.append(KafkaRecord(copying: message, topics: &topics))
                    } else if message.pointee.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                        let text = rd_kafka_message_errstr(message).map { String(cString: $0) } ?? ""
                        self.client.context.logger.warning("kafka reader error", metadata: ["partition": "\(self.topicPartition)", "error": "\(text)"])
                    }
                }
                return records
            }
        }

        /// The partition's high watermark as the client's fetches last saw it (nil before the first).
        public var highWatermark: Int64? { client.cachedHighWatermark(topicPartition) }

        /// Stops reading the partition; the other partitions go on. Safe to call more than once.
        public func close() {
            let wasClosed = closed.withLock { closed in
                defer { closed = true }
                return closed
            }
            guard !wasClosed else { return }
            let list = PartitionList.make([topicPartition])
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if let error = rd_kafka_incremental_unassign(client.handle, list) { rd_kafka_error_destroy(error) }
            rd_kafka_queue_destroy(queue)
        }

        deinit { close() }
    }

    /// Starts reading a partition from an offset. The partition's queue is taken off the
    /// client's consumer queue before the partition is assigned, so no record goes astray.
    public func open(_ position: TopicPartitionOffset) throws(KafkaError) -> Partition {
        let partition = position.topicPartition
        guard let queue = rd_kafka_queue_get_partition(client.handle, partition.topic, partition.partition) else {
            throw KafkaError(code: .configuration, message: "no queue for \(partition)")
        }
        rd_kafka_queue_forward(queue, nil)
        let list = PartitionList.make([position])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let error = rd_kafka_incremental_assign(client.handle, list) {
            let message = String(cString: rd_kafka_error_string(error))
            rd_kafka_error_destroy(error)
            rd_kafka_queue_destroy(queue)
            throw KafkaError(code: .configuration, message: "assign \(partition): \(message)")
        }
        return Partition(queue: queue, client: client, topicPartition: partition)
    }

    /// Stops the client. Its partitions must be closed first.
    public func close() async {
        let client = self.client
        _ = try? await BlockingCalls.run { () throws(KafkaError) in _ = rd_kafka_consumer_close(client.handle) }
    }
}
