import CLibrdkafka
import Logging

extension KafkaConsumer {
    /// librdkafka's rebalance callback; runs on the polling thread inside `rd_kafka_consumer_poll`.
    ///
    /// Records polled before the callback were already handed over, so the application sees every
    /// record of a partition before its revocation. Assignment resolves start positions here (the
    /// committed offset, else the watermark `startFrom` names), so that once `.assigned` is reported
    /// no record produced afterwards can be skipped by a late "latest" lookup.
    func rebalance(_ err: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(client.handle)) == "COOPERATIVE"
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            resolveStartPositions(partitions)
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

    /// Fills in each partition's start offset. On any failure the offset stays unset and
    /// librdkafka resolves it itself (committed offset, else `auto.offset.reset`).
    private func resolveStartPositions(_ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        guard partitions.pointee.cnt > 0 else { return }
        let err = rd_kafka_committed(client.handle, partitions, 10_000)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            logger.warning("kafka committed offsets unavailable", metadata: ["error": "\(KafkaError(err, context: "committed"))"])
            return
        }
        for i in 0..<Int(partitions.pointee.cnt) where partitions.pointee.elems[i].offset < 0 {
            let element = partitions.pointee.elems[i]
            let partition = TopicPartition(String(cString: element.topic), element.partition)
            guard let marks = try? client.queryWatermarks(partition) else { continue }
            partitions.pointee.elems[i].offset = startFrom == .latest ? marks.high : marks.low
        }
    }
}
