import Testing
import WebhookDomain

@testable import Delivery

/// The storable offset of each source partition: the commit invariant's bookkeeping.
@Suite("Partition progress")
struct PartitionProgressTests {
    static let partition = SourcePartition("oms.orders", 0)

    @Test("a record with no delivery moves the storable offset at once; one with deliveries only once each is settled, lowest first")
    func storableOffset() {
        let progress = PartitionProgress()
        let epoch = progress.assign(Self.partition)
        #expect(progress.register(Self.partition, offset: 0, deliveries: 0) == 1, "nothing to wait for: past it at once")
        #expect(progress.register(Self.partition, offset: 1, deliveries: 2) == nil)
        #expect(progress.register(Self.partition, offset: 2, deliveries: 1) == nil)
        #expect(progress.pendingRecords == 2)
        #expect(progress.settle(Self.partition, offset: 2, epoch: epoch) == nil, "offset 1 still open below it")
        #expect(progress.settle(Self.partition, offset: 1, epoch: epoch) == nil, "one of offset 1's two deliveries")
        #expect(progress.settle(Self.partition, offset: 1, epoch: epoch) == 3, "both settled: past offset 2")
        #expect(progress.pendingRecords == 0)
    }

    @Test("a settlement of an earlier assignment (a stale epoch) or of a revoked partition changes nothing")
    func staleEpochs() {
        let progress = PartitionProgress()
        let first = progress.assign(Self.partition)
        _ = progress.register(Self.partition, offset: 5, deliveries: 1)
        let second = progress.assign(Self.partition)
        #expect(second != first)
        _ = progress.register(Self.partition, offset: 5, deliveries: 1)
        #expect(progress.settle(Self.partition, offset: 5, epoch: first) == nil, "the old assignment's delivery")
        #expect(progress.pendingRecords == 1)
        #expect(progress.settle(Self.partition, offset: 5, epoch: second) == 6)
        progress.revoke(Self.partition)
        #expect(progress.register(Self.partition, offset: 6, deliveries: 0) == nil, "not tracked once revoked")
        #expect(progress.settle(Self.partition, offset: 6, epoch: second) == nil)
    }

    @Test("pending records count over every partition")
    func pendingOverPartitions() {
        let progress = PartitionProgress()
        let other = SourcePartition("oms.orders", 1)
        _ = progress.assign(Self.partition)
        _ = progress.assign(other)
        _ = progress.register(Self.partition, offset: 0, deliveries: 3)
        _ = progress.register(other, offset: 0, deliveries: 1)
        _ = progress.register(other, offset: 1, deliveries: 0)
        #expect(progress.pendingRecords == 2)
    }
}
