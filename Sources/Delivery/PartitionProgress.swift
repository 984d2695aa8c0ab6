import DequeModule
import Kafka
import Synchronization

/// Which records of each assigned partition are fully done, to know what offset may be stored.
///
/// A record is done when every delivery it fanned out to is acknowledged (or it went to the
/// dead-letter topic, or nothing subscribed to it). The storable offset of a partition is the
/// lowest record not yet done; records are registered in offset order.
public final class PartitionProgress: Sendable {
    struct Partition {
        /// Offsets registered and not yet passed by the storable offset, in order, with the number
        /// of deliveries each still waits for.
        var offsets = Deque<Int64>()
        var remaining: [Int64: Int] = [:]
        /// Offset of the next record after the last one registered.
        var next: Int64 = -1
        /// Changes when the partition is revoked and assigned again, so late completions of an
        /// earlier assignment are ignored.
        var epoch: UInt64
    }

    private let partitions = Mutex<[TopicPartition: Partition]>([:])
    private let epochs = Atomic<UInt64>(0)

    public init() {}

    /// Starts tracking a partition; returns its epoch.
    public func assign(_ partition: TopicPartition) -> UInt64 {
        let epoch = epochs.add(1, ordering: .relaxed).newValue
        partitions.withLock { $0[partition] = Partition(epoch: epoch) }
        return epoch
    }

    public func revoke(_ partition: TopicPartition) {
        partitions.withLock { _ = $0.removeValue(forKey: partition) }
    }

    public func epoch(of partition: TopicPartition) -> UInt64? {
        partitions.withLock { $0[partition]?.epoch }
    }

    /// Registers a record with the number of deliveries it waits for (0: done at once).
    /// Returns the offset that may now be stored, if it moved.
    public func register(_ partition: TopicPartition, offset: Int64, deliveries: Int) -> Int64? {
        partitions.withLock { all in
            guard var state = all[partition] else { return nil }
            defer { all[partition] = state }
            state.next = offset + 1
            if deliveries > 0 {
                state.offsets.append(offset)
                state.remaining[offset] = deliveries
                return nil
            }
            return state.offsets.isEmpty ? state.next : nil
        }
    }

    /// One delivery of a record is done. Returns the offset that may now be stored, if it moved.
    public func complete(_ partition: TopicPartition, offset: Int64, epoch: UInt64) -> Int64? {
        partitions.withLock { all in
            guard var state = all[partition], state.epoch == epoch, let count = state.remaining[offset] else { return nil }
            defer { all[partition] = state }
            if count > 1 {
                state.remaining[offset] = count - 1
                return nil
            }
            state.remaining[offset] = nil
            guard state.offsets.first == offset else {
                state.remaining[offset] = 0
                return nil
            }
            state.offsets.removeFirst()
            while let head = state.offsets.first, state.remaining[head] == 0 {
                state.offsets.removeFirst()
                state.remaining[head] = nil
            }
            return state.offsets.first ?? state.next
        }
    }

    /// Records registered and not yet done, over all partitions.
    public var pendingRecords: Int {
        partitions.withLock { $0.values.reduce(0) { $0 + $1.offsets.count } }
    }
}
