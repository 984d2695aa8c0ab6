import Kafka
import Synchronization
import WebhookDomain

/// Which records of each assigned partition are done, to know what offset may be stored.
///
/// A record is done when each of its deliveries is settled: acknowledged, or covered by the
/// webhook's durable cursor (see `WebhookLane.settle`), or dead-lettered, or had no subscriber.
/// The storable offset of a partition is its lowest open record.
public final class PartitionProgress: Sendable {
    struct Partition {
        var window = OffsetWindow()
        /// Changes when the partition is assigned again, so settlements from an earlier
        /// assignment are ignored.
        var epoch: UInt64
    }

    let partitions = Mutex<[SourcePartition: Partition]>([:])
    private let epochs = Atomic<UInt64>(0)

    public init() {}

    /// Starts tracking a partition; returns its epoch.
    public func assign(_ partition: SourcePartition) -> UInt64 {
        let epoch = epochs.add(1, ordering: .relaxed).newValue
        partitions.withLock { $0[partition] = Partition(epoch: epoch) }
        return epoch
    }

    public func revoke(_ partition: SourcePartition) {
        partitions.withLock { _ = $0.removeValue(forKey: partition) }
    }

    /// Whether a record at `offset` is at or below one already registered: the consumer went back.
    public func isRereading(_ partition: SourcePartition, offset: Int64) -> Bool {
        partitions.withLock { all in all[partition]?.window.next.map { offset < $0 } ?? false }
    }

    /// Registers a record with the number of deliveries it waits for (0: done at once).
    /// Returns the offset that may now be stored, if it moved.
    public func register(_ partition: SourcePartition, offset: Int64, deliveries: Int) -> Int64? {
        partitions.withLock { all in
            // Taken out while it changes, so that its window is not copied (copy-on-write).
            guard var progress = all.removeValue(forKey: partition) else { return nil }
            defer { all[partition] = progress }
            guard progress.window.open(offset, count: deliveries) else { return nil }
            return deliveries == 0 && progress.window.isEmpty ? progress.window.low : nil
        }
    }

    /// One delivery of a record is settled. Returns the offset that may now be stored, if it moved.
    public func settle(_ partition: SourcePartition, offset: Int64, epoch: UInt64) -> Int64? {
        partitions.withLock { all in
            guard all[partition]?.epoch == epoch, var progress = all.removeValue(forKey: partition) else { return nil }
            defer { all[partition] = progress }
            return progress.window.close(offset)
        }
    }

    /// Records registered and not yet done, over all partitions.
    public var pendingRecords: Int {
        partitions.withLock { $0.values.reduce(0) { $0 + $1.window.openCount } }
    }
}

extension SourceRecord {
    /// The domain's view of a record read from Kafka (live or by a catch-up reader).
    init(_ record: KafkaRecord) {
        self.init(
            topic: record.topic, partition: record.partition, offset: record.offset, key: record.key, value: record.value,
            // Not valid UTF-8 is kept (with replacement characters) so that it is refused and counted, not taken for no header.
            messageIDHeader: record.headers.first { $0.key == "message_id" }.map { String(decoding: $0.value ?? [], as: UTF8.self) },
            timestampMilliseconds: record.timestampMilliseconds, headers: record.headers.map { ($0.key, $0.value) })
    }
}

extension TopicPartition {
    public var source: SourcePartition { SourcePartition(topic, partition) }
}

extension SourcePartition {
    public var kafka: TopicPartition { TopicPartition(topic, partition) }
}
