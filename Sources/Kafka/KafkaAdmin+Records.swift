extension KafkaAdmin {
    /// The record at an offset, or the next one if there is none there (compaction, or a
    /// transaction marker); nil if none comes within five seconds. Reads with an assign-mode
    /// reader of its own, closed before returning.
    public func record(at offset: Int64, of partition: TopicPartition) async throws(KafkaError) -> KafkaRecord? {
        let reader = try KafkaPartitionReader(kafka: kafka, logger: logger)
        let record: KafkaRecord?
        do throws(KafkaError) {
            record = try await self.record(at: offset, of: partition, reader: reader)
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        return record
    }
}
