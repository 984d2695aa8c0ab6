import ControlPlane
import Foundation
import Kafka
import Testing
import WebhookDomain

@testable import WebhookBridge

@Suite("Two instances in one group share the control topic", .serialized)
struct TwoInstanceTests {
    @Test("paused through A stops on both within 1 s; enabled through B its backlog arrives in order; created through A it is delivered from B's partitions too")
    func convergence() async throws {
        let topic = BridgeTestCluster.unique("shared")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 4)
        try await withReceiver(secret: HashKey("hash-key-for-tests")) { receiver, port in
            let config = try StatusTests.twoWebhooks(topic: topic, port: port, group: try BridgeTestCluster.group(), site: "{id: c404, token: c404-test-token-0001}")
            try await withBridge(config) { a in
                try await withBridge(config) { b in
                    // Both hold partitions once the group has settled.
                    #expect(await waitFor { a.engine.assignedPartitions.count + b.engine.assignedPartitions.count == 4 && !b.engine.assignedPartitions.isEmpty && !a.engine.assignedPartitions.isEmpty })

                    var paused = a.catalog.state("bad")
                    // The time matters: a webhook paused longer than message_retention is dead.
                    _ = paused.apply(.pauseRequested, policy: .init(site: Site(id: "c404", token: "c404-test-token-0001")), now: Int64(Date().timeIntervalSince1970 * 1000))
                    let written = ContinuousClock.now
                    try await a.catalog.save(state: paused, webhookID: "bad")
                    #expect(await waitFor { b.engine.lane("bad")?.status.status == .paused && a.engine.lane("bad")?.status.status == .paused })
                    let convergence = ContinuousClock.now - written
                    print("control-topic convergence between two instances: \(convergence)")
                    #expect(convergence < .seconds(1))

                    try await produce(StatusTests.events(topic: topic, entities: 8, perEntity: 5))
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/good") }.count >= 40 })
                    #expect(receiver.requests.filter { $0.uri.hasPrefix("/bad") }.isEmpty)

                    var enabled = b.catalog.state("bad")
                    _ = enabled.apply(.enableRequested, policy: .init(site: Site(id: "c404", token: "c404-test-token-0001")), now: Int64(Date().timeIntervalSince1970 * 1000))
                    try await b.catalog.save(state: enabled, webhookID: "bad")
                    #expect(await receiver.wait(timeout: .seconds(30)) { Set($0.filter { $0.uri.hasPrefix("/bad") }.compactMap { $0.header("message_id") }).count >= 40 })
                    let backlog = StatusTests.uniqueInOrder(receiver.requests.filter { $0.uri.hasPrefix("/bad") })
                    #expect(backlog.count == 40)
                    for (entity, steps) in StatusTests.steps(backlog) { #expect(steps == Array(0..<5), "\(entity)") }

                    let created = Webhook(id: "created", siteID: "c404", url: "http://127.0.0.1:\(port)/created", topics: ["order_state_changed"], hashKeys: [HashKey("hash-key-for-tests")])
                    try await a.catalog.save(created)
                    #expect(await waitFor { a.engine.lane("created") != nil && b.engine.lane("created") != nil })
                    try await produce(StatusTests.events(topic: topic, entities: 8, perEntity: 2, from: 5))
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/created") }.count >= 16 })
                    let partitions = Set(receiver.requests.filter { $0.uri.hasPrefix("/created") }.compactMap { $0.header("sequence")?.split(separator: "-").first })
                    #expect(partitions.count == 4, "delivered from every partition, whichever instance owns it: \(partitions)")
                }
            }
        }
    }
}

@Suite("Retry ownership moves with the probe's partition", .serialized)
struct RetryOwnershipTests {
    @Test("the instance that takes the probe's partition carries the retries on and recovers the webhook")
    func retryMovesWithPartition() async throws {
        let topic = BridgeTestCluster.unique("owner")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        let answer = Switch(503)
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in .init(status: request.uri.hasPrefix("/bad") ? answer.status : 202) }) { receiver, port in
            let config = try StatusTests.twoWebhooks(
                topic: topic, port: port, group: try BridgeTestCluster.group(),
                // Enough retries (100 × 0.4 s) that the webhook is still retrying when B has started,
                // however loaded the machine.
                site: "{id: c404, token: c404-test-token-0001, max_in_flight: 1, retry_intervals: [\(Array(repeating: "0.4", count: 100).joined(separator: ", "))], retries_until_failure: 100}")
            let a = try await Bridge(config: config, logger: BridgeTestCluster.logger)
            let b = try await Bridge(config: config, logger: BridgeTestCluster.logger)
            let groupA = a.serviceGroup(signals: [])
            let groupB = b.serviceGroup(signals: [])
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await groupA.run() }
                try await waitUntilReady(a)
                try await produce(StatusTests.events(topic: topic, entities: 1, perEntity: 2))
                #expect(await waitFor { a.engine.lane("bad")?.status.pause == .auto })
                tasks.addTask { try await groupB.run() }
                try await waitUntilReady(b)
                #expect(await waitFor { b.engine.lane("bad")?.status.pause == .auto }, "B follows A's status")

                // A goes away: B gets the partition, and with it the probe's retries.
                await groupA.triggerGracefulShutdown()
                #expect(await waitFor { b.engine.assignedPartitions.count == 1 })
                let retriesBefore = b.engine.lane("bad")?.status.retries ?? 0
                #expect(await waitFor { (b.engine.lane("bad")?.status.retries ?? 0) > retriesBefore }, "B retries the probe")
                answer.status = 202
                #expect(await waitFor { b.engine.lane("bad")?.status.status == .enabled })
                #expect(await receiver.wait(timeout: .seconds(30)) { Set($0.filter { $0.uri.hasPrefix("/bad") && $0.header("message_id") != nil }.compactMap { $0.header("message_id") }).count >= 2 })
                await groupB.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let steps = StatusTests.steps(StatusTests.uniqueInOrder(receiver.requests.filter { $0.uri.hasPrefix("/bad") }))
            #expect(steps["E0"] == [0, 1])
        }
    }
}
