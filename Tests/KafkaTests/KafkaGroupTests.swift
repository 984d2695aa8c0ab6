import Kafka
import Testing

@Suite("Consumer groups on the embedded cluster")
struct KafkaGroupTests {
    /// Collects a consumer's assignment as rebalances happen.
    actor Membership {
        var owned: Set<TopicPartition> = []
        var records = 0
        func apply(_ event: KafkaConsumerEvent) {
            switch event {
            case .assigned(let partitions): owned.formUnion(partitions.map(\.topicPartition))
            case .revoked(let partitions, let ack):
                owned.subtract(partitions)
                ack.done()
            case .records(let batch): records += batch.count
            }
        }
    }

    @Test("two members split the partitions and a leaving member's partitions move", arguments: ["cooperative-sticky", "range"])
    func splitAndMove(strategy: String) async throws {
        let topic = try TestCluster.topic("group", partitions: 4)
        let group = TestCluster.uniqueName("g")
        let properties = ["partition.assignment.strategy": strategy]
        let a = try TestCluster.consumer(group: group, properties: properties)
        let b = try TestCluster.consumer(group: group, properties: properties)
        let membershipA = Membership()
        let membershipB = Membership()
        try a.subscribe([topic])
        try b.subscribe([topic])

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { for await event in a.events { await membershipA.apply(event) } }
            tasks.addTask { for await event in b.events { await membershipB.apply(event) } }

            // Both hold two partitions once the group has settled.
            try await eventually {
                let ownedA = await membershipA.owned
                let ownedB = await membershipB.owned
                return ownedA.count == 2 && ownedB.count == 2 && ownedA.isDisjoint(with: ownedB)
            }
            #expect(Set(a.assignment).union(b.assignment).count == 4)

            // B leaves: its partitions move to A.
            await b.close()
            try await eventually { await membershipA.owned.count == 4 }
            await a.close()
            try await tasks.waitForAll()
        }
    }
}

extension KafkaGroupTests {
    @Test("closing while a revocation waits for its acknowledgement does not hang", arguments: ["range"])
    func closeDuringRevocation(strategy: String) async throws {
        let topic = try TestCluster.topic("close-revoke", partitions: 2)
        let group = TestCluster.uniqueName("g")
        let properties = ["partition.assignment.strategy": strategy]
        let a = try TestCluster.consumer(group: group, properties: properties)
        try a.subscribe([topic])
        var events = a.events.makeAsyncIterator()
        guard case .assigned = await events.next() else { Issue.record("expected an assignment"); return }
        // A second member joins: A's partitions are revoked (eager), and A's polling thread waits
        // for an acknowledgement A's reader never gives, since it has stopped reading.
        let b = try TestCluster.consumer(group: group, properties: properties)
        try b.subscribe([topic])
        let membershipB = Membership()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { for await event in b.events { await membershipB.apply(event) } }
            // The revocation arrives; the reader keeps its acknowledgement and never calls done().
            var held: RebalanceAcknowledgement?
            while held == nil, let event = await events.next() {
                if case .revoked(_, let acknowledgement) = event { held = acknowledgement }
            }
            #expect(held != nil)
            await a.close()
            try await eventually { await membershipB.owned.count == 2 }
            withExtendedLifetime(held) {}
            await b.close()
            try await tasks.waitForAll()
        }
    }
}

/// Polls a condition until it holds; fails the test after `seconds`. For group membership, where
/// the broker's rebalance is the event and no callback announces "settled".
func eventually(seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("condition not met within \(seconds) s")
    throw CancellationError()
}
