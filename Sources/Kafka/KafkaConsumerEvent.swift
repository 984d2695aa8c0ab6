import Dispatch
import Synchronization

/// What a group consumer reports, in the order it happened: records of a partition are never
/// reported after that partition's revocation.
public enum KafkaConsumerEvent: Sendable {
    /// Records in partition order (records of different partitions may interleave).
    case records([KafkaRecord])
    /// Partitions added to this member, each with the position reading starts from (the committed
    /// offset, or the start position the configuration asks for when none was committed).
    case assigned([TopicPartitionOffset])
    /// Partitions about to be taken away. The consumer waits, without fetching, until
    /// `acknowledgement.done()` is called (or the acknowledgement is dropped): do the last
    /// offset stores and the commit first.
    case revoked([TopicPartition], RebalanceAcknowledgement)
}

/// Lets the polling thread wait until the application has handled a revocation.
public final class RebalanceAcknowledgement: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let signalled = Atomic<Bool>(false)

    init() {}

    /// The application has stored and committed what it must for the revoked partitions.
    public func done() {
        if !signalled.exchange(true, ordering: .acquiringAndReleasing) { semaphore.signal() }
    }

    /// Called on the polling thread only.
    func wait() { semaphore.wait() }

    deinit { done() }
}
