import CLibrdkafka
import Logging

extension KafkaConsumer {
    /// librdkafka's rebalance callback; runs on the polling thread inside `rd_kafka_consumer_poll`.
    ///
    /// Records polled before the callback were already handed over, so the application sees every
    /// record of a partition before its revocation. Assignment resolves start positions here (the
    /// committed offset, else the watermark `startFrom` names), so that once `.assigned` is reported
    /// no record produced afterwards can be skipped by a late "latest" lookup. A position resolved
    /// from a watermark is kept for `commitStartPositions()`, which makes it the group's committed
    /// offset before anything is delivered: any later owner starts there too (DESIGN.md §3).
    func rebalance(_ err: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(client.handle)) == "COOPERATIVE"
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            let resolved = resolveStartPositions(partitions)
            shared.withLock { shared in
                shared.assignmentLost = false
                for start in resolved { shared.uncommittedStarts[start.topicPartition] = start.offset }
            }
            if cooperative {
                if let error = rd_kafka_incremental_assign(client.handle, partitions) {
                    logger.error("kafka incremental assign", metadata: ["error": "\(KafkaError(consuming: error, context: "assign"))"])
                }
            } else {
                let err = rd_kafka_assign(client.handle, partitions)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.error("kafka assign", metadata: ["error": "\(KafkaError(err, context: "assign"))"])
                }
            }
            buffer.push(.assigned(PartitionList.read(partitions)))
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let revoked = PartitionList.read(partitions).map(\.topicPartition)
            // Lost (the session timed out, or the member was fenced): another member may own them.
            let lost = rd_kafka_assignment_lost(client.handle) != 0
            shared.withLock { shared in
                if lost { shared.assignmentLost = true }
                for partition in revoked { shared.uncommittedStarts[partition] = nil }
            }
            let acknowledgement: RebalanceAcknowledgement? = shared.withLock { shared in
                guard !shared.closing, !shared.stopRequested, !revoked.isEmpty else { return nil }
                shared.pendingRevocation = RebalanceAcknowledgement()
                return shared.pendingRevocation
            }
            if let acknowledgement {
                buffer.push(.revoked(revoked, acknowledgement))
                acknowledgement.wait()
                shared.withLock { $0.pendingRevocation = nil }
            }
            if cooperative {
                if let error = rd_kafka_incremental_unassign(client.handle, partitions) {
                    logger.error("kafka incremental unassign", metadata: ["error": "\(KafkaError(consuming: error, context: "unassign"))"])
                }
            } else {
                _ = rd_kafka_assign(client.handle, nil)
            }
        default:
            logger.error("kafka rebalance error", metadata: ["error": "\(KafkaError(err, context: "rebalance"))"])
            if cooperative {
                if let error = rd_kafka_incremental_unassign(client.handle, partitions) { rd_kafka_error_destroy(error) }
            } else {
                _ = rd_kafka_assign(client.handle, nil)
            }
        }
    }

    /// Fills in each partition's start offset: the committed one, else the watermark `startFrom`
    /// names. Returns the partitions whose start came from a watermark (nothing committed yet).
    /// If the committed offsets cannot be read (after a few tries), the offsets stay unset and
    /// librdkafka resolves them itself (committed offset, else `auto.offset.reset`).
    private func resolveStartPositions(_ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartitionOffset] {
        guard partitions.pointee.cnt > 0 else { return [] }
        var err = RD_KAFKA_RESP_ERR_NO_ERROR
        for attempt in 0..<3 {
            err = rd_kafka_committed(client.handle, partitions, 10_000)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { break }
            logger.warning("kafka committed offsets unavailable", metadata: ["error": "\(KafkaError(err, context: "committed"))", "attempt": "\(attempt + 1)"])
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            logger.error("kafka start positions left to librdkafka: the committed offsets could not be read")
            return []
        }
        var resolved: [TopicPartitionOffset] = []
        for i in 0..<Int(partitions.pointee.cnt) where partitions.pointee.elems[i].offset < 0 {
            let element = partitions.pointee.elems[i]
            let partition = TopicPartition(String(cString: element.topic), element.partition)
            guard let marks = try? client.queryWatermarks(partition) else { continue }
            let start = startFrom == .latest ? marks.high : marks.low
            partitions.pointee.elems[i].offset = start
            resolved.append(TopicPartitionOffset(partition, offset: start))
        }
        return resolved
    }
}
