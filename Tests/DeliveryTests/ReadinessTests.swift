import Testing
import WebhookDomain

@testable import Delivery

@Suite("Readiness (DESIGN.md §3)")
struct ReadinessTests {
    let start = ContinuousClock.now

    @Test("not ready until the first assignment is settled with durable start positions")
    func settles() {
        var readiness = ReadinessState(grace: .seconds(6))
        #expect(!readiness.isReady(at: start))
        readiness.observe(healthy: true, at: start)
        #expect(!readiness.isReady(at: start))
        readiness.assignmentSettled()
        #expect(readiness.isReady(at: start))
    }

    @Test("unhealthy (no broker, or the assignment lost) for up to the grace: still ready; past it: not ready; healthy again: ready")
    func followsHealth() {
        var readiness = ReadinessState(grace: .seconds(6))
        readiness.assignmentSettled()
        readiness.observe(healthy: false, at: start)
        readiness.observe(healthy: false, at: start + .seconds(3))
        #expect(readiness.isReady(at: start + .seconds(6)), "the first unhealthy observation counts, not the last")
        #expect(!readiness.isReady(at: start + .seconds(7)))
        readiness.observe(healthy: true, at: start + .seconds(8))
        #expect(readiness.isReady(at: start + .seconds(8)))
        readiness.observe(healthy: false, at: start + .seconds(9))
        #expect(readiness.isReady(at: start + .seconds(14)), "a new episode starts its own grace")
    }

    @Test("stopping is never ready")
    func stops() {
        var readiness = ReadinessState(grace: .seconds(6))
        readiness.assignmentSettled()
        readiness.stop()
        #expect(!readiness.isReady(at: start))
    }

    @Test("the progress of a partition tells a record read again (the consumer went back) from the next one")
    func rereading() {
        let progress = PartitionProgress()
        let partition = SourcePartition("oms.orders", 0)
        _ = progress.assign(partition)
        #expect(!progress.isRereading(partition, offset: 0))
        _ = progress.register(partition, offset: 5, deliveries: 1)
        #expect(!progress.isRereading(partition, offset: 6))
        #expect(progress.isRereading(partition, offset: 5))
        #expect(progress.isRereading(partition, offset: 2))
        #expect(progress.register(partition, offset: 2, deliveries: 0) == nil, "a step back is refused, not a trap")
        #expect(!progress.isRereading(SourcePartition("oms.orders", 1), offset: 0), "an unassigned partition has nothing to compare with")
    }
}
