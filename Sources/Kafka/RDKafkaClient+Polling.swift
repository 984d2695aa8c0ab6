import CLibrdkafka
import Logging

extension RDKafkaClient {
    /// Polls the consumer queue: waits up to `timeoutMilliseconds` for the first message, then takes
    /// whatever else is ready, up to `maxRecords`. Blocks: call it on a polling thread or
    /// through `BlockingCalls`. Error messages are logged and skipped; they never become records.
    func pollRecords(maxRecords: Int, timeoutMilliseconds: Int32, into records: inout [KafkaRecord]) {
        var timeout = timeoutMilliseconds
        var topics = TopicNames()
        while records.count < maxRecords, let message = rd_kafka_consumer_poll(handle, timeout) {
            timeout = 0
            // The message is ours until rd_kafka_message_destroy; the record copies what it needs.
            defer { rd_kafka_message_destroy(message) }
            if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                records.append(KafkaRecord(copying: message, topics: &topics))
            } else if message.pointee.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                let text = rd_kafka_message_errstr(message).map { String(cString: $0) } ?? ""
                context.logger.warning("kafka consumer error", metadata: ["error": "\(text)"])
            }
        }
    }

    /// Low and high watermark of a partition, asked of the broker. Blocks.
    func queryWatermarks(_ partition: TopicPartition, timeoutMilliseconds: Int32 = 10_000) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        try KafkaError.check(
            rd_kafka_query_watermark_offsets(handle, partition.topic, partition.partition, &low, &high, timeoutMilliseconds),
            "watermarks of \(partition)")
        return (low, high)
    }

    /// The high watermark of a partition as last seen by this client's fetches (no broker
    /// round trip); nil before the first fetch response.
    func cachedHighWatermark(_ partition: TopicPartition) -> Int64? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(handle, partition.topic, partition.partition, &low, &high)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0 ? high : nil
    }

    /// The number of partitions of a topic, from broker metadata. Blocks.
    func partitionCount(of topic: String, timeoutMilliseconds: Int32 = 10_000) throws(KafkaError) -> Int32 {
        guard let topicHandle = rd_kafka_topic_new(handle, topic, nil) else {
            throw KafkaError(code: .configuration, message: "topic \(topic): cannot make a handle")
        }
        defer { rd_kafka_topic_destroy(topicHandle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        try KafkaError.check(rd_kafka_metadata(handle, 0, topicHandle, &metadata, timeoutMilliseconds), "metadata of \(topic)")
        defer { rd_kafka_metadata_destroy(metadata) }
        guard let metadata, metadata.pointee.topic_cnt > 0 else { return 0 }
        let topicMetadata = metadata.pointee.topics[0]
        try KafkaError.check(topicMetadata.err, "metadata of \(topic)")
        return topicMetadata.partition_cnt
    }

    /// The brokers the cluster's metadata lists, asked of any reachable broker (no topic). Blocks.
    func brokerCount(timeoutMilliseconds: Int32) throws(KafkaError) -> Int {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        try KafkaError.check(rd_kafka_metadata(handle, 0, nil, &metadata, timeoutMilliseconds), "metadata")
        defer { rd_kafka_metadata_destroy(metadata) }
        return Int(metadata?.pointee.broker_cnt ?? 0)
    }

    /// The names of all topics the cluster knows. Asks for all topics, so that no topic is
    /// auto-created by asking. Blocks.
    func topicNames(timeoutMilliseconds: Int32 = 10_000) throws(KafkaError) -> Set<String> {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        try KafkaError.check(rd_kafka_metadata(handle, 1, nil, &metadata, timeoutMilliseconds), "metadata")
        defer { rd_kafka_metadata_destroy(metadata) }
        guard let metadata else { return [] }
        return Set((0..<Int(metadata.pointee.topic_cnt)).map { String(cString: metadata.pointee.topics[$0].topic) })
    }
}
