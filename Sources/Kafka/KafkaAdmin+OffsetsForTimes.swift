extension KafkaAdmin {
    /// The first offset of each partition whose record timestamp is at or after a time
    /// (milliseconds since the epoch), for replay (DESIGN.md §7): Kafka's offsets-for-times, and
    /// where the broker gives no answer (the embedded broker never does) a bisection between the
    /// watermarks that reads record timestamps. A partition with no such record gets its high
    /// watermark.
    public func offsets(atOrAfter milliseconds: Int64, in partitions: [TopicPartition]) async throws(KafkaError) -> [TopicPartition: Int64] {
        let answers = (try? await offsetsForTimes(Dictionary(uniqueKeysWithValues: partitions.map { ($0, milliseconds) }))) ?? [:]
        var offsets: [TopicPartition: Int64] = [:]
        for partition in partitions {
            if let offset = answers[partition], offset >= 0 {
                offsets[partition] = offset
            } else {
                offsets[partition] = try await bisect(partition, atOrAfter: milliseconds)
            }
        }
        return offsets
    }

    /// Timestamps are assumed non-decreasing within a partition (create time set by producers,
    /// or log-append time), as offsets-for-times assumes too.
    private func bisect(_ partition: TopicPartition, atOrAfter milliseconds: Int64) async throws(KafkaError) -> Int64 {
        var (low, high) = try await watermarks(partition)
        let reader = try KafkaPartitionReader(kafka: kafka, logger: logger)
        do {
            while low < high {
                let middle = low + (high - low) / 2
                guard let record = try await record(at: middle, of: partition, reader: reader) else { break }
                if let timestamp = record.timestampMilliseconds, timestamp >= milliseconds {
                    high = record.offset
                } else {
                    low = record.offset < .max ? record.offset + 1 : .max
                }
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        return low
    }

    /// The record at an offset, or the next one (compaction may leave gaps); nil if none comes
    /// within five seconds.
    func record(at offset: Int64, of partition: TopicPartition, reader: KafkaPartitionReader) async throws(KafkaError) -> KafkaRecord? {
        try reader.assign([TopicPartitionOffset(partition, offset: offset)])
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if let record = await reader.read(maxRecords: 1).first(where: { $0.offset >= offset }) { return record }
        }
        return nil
    }
}
