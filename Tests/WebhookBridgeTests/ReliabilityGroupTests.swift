import Foundation
import Kafka
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge

extension ReliabilitySuite {
    /// Case 2: three `run` subprocesses in one consumer group, killed and started while events flow.
    @Suite("Reliability: three instances in one group")
    struct Group {
        @Test("instances killed (-9 and SIGTERM) and started while events flow: 0 lost, per-entity first arrivals in offset order")
        func threeInstancesChurn() async throws {
            let total = Reliability.size(full: 20_000, smoke: 2_000)
            let entities = 200
            let rounds = total / entities
            let started = ContinuousClock.now
            try await Reliability.withOneWebhookRun(group: "churn", hashKey: "group-key-0123456789") { cluster, tally, config in
                func start() throws -> ChildProcess { try ChildProcess(ChildProcess.executable, ["run", "--config", config.path]) }

                // The stream flows the whole time: a round of every entity every half second (about
                // as long as the changes to the group take).
                let produced = Atomic<Int>(0)
                let producer = Task {
                    let kafka = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: cluster.bootstrapServers)), logger: BridgeTestCluster.logger)
                    for round in 0..<rounds {
                        for record in Reliability.events(topic: "oms.orders", entities: entities, steps: round..<(round + 1)) { kafka.enqueue(record) }
                        try await kafka.flush()
                        produced.add(entities, ordering: .relaxed)
                        try await Task.sleep(for: .milliseconds(Reliability.full ? 500 : 300))
                    }
                    await kafka.close()
                }

                var instances = [try start(), try start(), try start()]
                var kills = 0
                var terms = 0
                var starts = 3
                // Each step waits for progress, then changes the group: kill -9, SIGTERM, start.
                let allSteps: [(String, Int)] = [("kill", 0), ("start", -1), ("term", 1), ("kill", 1), ("start", -1), ("start", -1), ("term", 0), ("kill", 1), ("start", -1)]
                let steps = Reliability.full ? allSteps : Array(allSteps.prefix(3))
                for (index, (action, which)) in steps.enumerated() {
                    let threshold = total * (index + 1) / (steps.count + 2)
                    #expect(await tally.waitForUnique(threshold, timeout: .seconds(120)), "step \(index): \(tally.counts.unique) of \(threshold)")
                    switch action {
                    case "kill":
                        #expect(await instances[which].stop(signal: SIGKILL) == SIGKILL)
                        instances.remove(at: which)
                        kills += 1
                    case "term":
                        let status = await instances[which].stop(signal: SIGTERM)
                        #expect(status == 0, "graceful stop: \(instances[which].lines.suffix(10))")
                        instances.remove(at: which)
                        terms += 1
                    default:
                        instances.append(try start())
                        starts += 1
                    }
                }
                try await producer.value
                #expect(produced.load(ordering: .relaxed) == total)
                #expect(await tally.waitForUnique(total, timeout: .seconds(300)), "\(tally.counts.unique) of \(total)")
                for instance in instances { #expect(await instance.stop() == 0) }

                let counts = tally.counts
                let expected = Set((0..<rounds).flatMap { step in (0..<entities).map { "E\($0)/\(step)" } })
                let lost = expected.subtracting(tally.events).count
                #expect(lost == 0)
                #expect(counts.idChanges == 0 && counts.bodyMismatches == 0 && counts.badSignatures == 0)
                #expect(counts.orderViolations == 0, "an entity's first arrivals went back in offset order")
                Reliability.report("group3", [
                    "events": total, "entities": entities, "partitions": 6, "instances_started": starts, "kill9": kills, "sigterm": terms,
                    "acknowledged": counts.unique, "lost": lost, "redeliveries": counts.redeliveries, "order_violations": counts.orderViolations,
                    "id_changes": counts.idChanges, "seconds": String(format: "%.1f", (ContinuousClock.now - started).seconds),
                ])
            }
        }
    }
}
