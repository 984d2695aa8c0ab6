import Foundation
import Kafka
import Testing
import WebhookDomain

@testable import WebhookBridge

extension ReliabilitySuite {
    /// Case 1: `kill -9` of the `run` subprocess, again and again, during one long stream.
    @Suite("Reliability: kill -9 restarts")
    struct Crashes {
        @Test("≥ 10 kill -9 restarts during a 50,000-event stream: 0 lost, every redelivery with its original message_id and body")
        func killNineRestarts() async throws {
            let entities = 250
            let steps = Reliability.size(full: 200, smoke: 12)
            let total = steps * entities
            let kills = Reliability.size(full: 10, smoke: 2)
            let started = ContinuousClock.now
            try await Reliability.withOneWebhookRun(group: "kill9", hashKey: "crash-key-0123456789") { cluster, tally, config in
                try await Reliability.produce(
                    Reliability.events(topic: "oms.orders", entities: entities, steps: 0..<steps), bootstrap: cluster.bootstrapServers)
                var killedAt: [Int] = []
                for kill in 1...kills {
                    let bridge = try ChildProcess(ChildProcess.executable, ["run", "--config", config.path])
                    // Each instance makes real progress (new messages, not only redeliveries) before it dies.
                    let threshold = total * kill / (kills + 1)
                    let reached = await tally.waitForUnique(threshold, timeout: .seconds(120))
                    #expect(reached, "kill \(kill): \(tally.counts.unique) of \(threshold) before the kill; \(bridge.lines.suffix(10))")
                    #expect(await bridge.stop(signal: SIGKILL) == SIGKILL)
                    killedAt.append(tally.counts.unique)
                    guard reached else { break }
                }
                #expect(killedAt.allSatisfy { $0 < total }, "every kill lands in mid-stream: \(killedAt)")
                let last = try ChildProcess(ChildProcess.executable, ["run", "--config", config.path])
                #expect(await tally.waitForUnique(total, timeout: .seconds(300)), "\(tally.counts.unique) of \(total); \(last.lines.suffix(10))")
                #expect(await last.stop() == 0, "graceful stop: \(last.lines.suffix(10))")

                let counts = tally.counts
                let expected = Set((0..<steps).flatMap { step in (0..<entities).map { "E\($0)/\(step)" } })
                let lost = expected.subtracting(tally.events).count
                #expect(lost == 0)
                #expect(counts.unique == total)
                #expect(counts.idChanges == 0, "an event arrived under two message ids")
                #expect(counts.bodyMismatches == 0, "a resent message_id carried another body")
                #expect(counts.badSignatures == 0)
                #expect(counts.orderViolations == 0)
                Reliability.report("kill9", [
                    "events": total, "entities": entities, "partitions": 6, "restarts": killedAt.count, "acknowledged": counts.unique, "lost": lost,
                    "requests": counts.requests, "redeliveries": counts.redeliveries, "id_changes": counts.idChanges,
                    "body_mismatches": counts.bodyMismatches, "order_violations": counts.orderViolations,
                    "seconds": String(format: "%.1f", (ContinuousClock.now - started).seconds),
                ])
            }
        }
    }
}
