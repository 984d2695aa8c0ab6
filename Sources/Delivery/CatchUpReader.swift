import Kafka
import Logging
import Waiting
import WebhookDomain

/// The Kafka client a webhook's catch-ups read with: one client for all its parked partitions
/// (each read from its own queue), made for the first and closed with the last. A client per
/// partition would multiply librdkafka's buffers and threads by the partitions parked
/// (docs/benchmarks.md, "Figures behind the code's choices").
final class CatchUpReader: Sendable {
    private struct State {
        var reader: KafkaSharedReader?
        var open: Set<SourcePartition> = []
    }

    private let state = Waitable(State())

    /// Partitions read at once: each prefetches up to 4 MB (and librdkafka's bookkeeping about as
    /// much again), and the webhook's window (`max_pending`) takes only so much anyway, so the
    /// others wait their turn rather than add their buffers to peak memory (docs/benchmarks.md).
    static let maxPartitions = 4

    /// Starts reading a partition, once fewer than `maxPartitions` are being read. A partition
    /// still open (a catch-up that was just superseded and has not closed yet) is waited for: a
    /// client reads a partition once.
    func open(_ partition: SourcePartition, from offset: Int64, kafka: KafkaConfig, logger: Logger) async throws(KafkaError) -> KafkaSharedReader.Partition {
        let opened = await state.wait { state -> Bool? in
            guard !state.open.contains(partition), state.open.count < Self.maxPartitions else { return nil }
            state.open.insert(partition)
            return true
        }
        guard opened != nil else { throw KafkaError(code: .closed, message: "catch-up cancelled") }
        do throws(KafkaError) {
            let reader = try state.withLock { (state: inout State) throws(KafkaError) -> KafkaSharedReader in
                if let reader = state.reader { return reader }
                let reader = try KafkaSharedReader(kafka: kafka, logger: logger)
                state.reader = reader
                return reader
            }
            return try reader.open(TopicPartitionOffset(partition.kafka, offset: offset))
        } catch {
            await close(partition, nil)
            throw error
        }
    }

    /// Stops reading a partition; the client closes with its last partition.
    func close(_ partition: SourcePartition, _ reading: KafkaSharedReader.Partition?) async {
        reading?.close()
        let last: KafkaSharedReader? = state.withLock { state in
            state.open.remove(partition)
            guard state.open.isEmpty else { return nil }
            defer { state.reader = nil }
            return state.reader
        }
        await last?.close()
    }
}
