import Foundation
import Kafka
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

extension ReliabilitySuite {
    /// The start position rule (DESIGN.md §3) as users meet it: `webhook-bridge run` subprocesses
    /// with the default `start_from: latest`, against a `dev-broker` subprocess. Among the
    /// reliability suites, so that their subprocesses do not load the timing-sensitive ones.
    @Suite("Reliability: start positions are resolved once and made durable")
    struct StartPositions {
        /// A dev-broker with `oms.orders` on 4 partitions, a receiver, and a `run` config with one
        /// webhook and no `start_from` (the default, latest), for `body`.
        static func withRunSetting(
            group: String, _ body: @Sendable (_ bootstrap: String, _ receiver: WebhookReceiver, _ config: URL) async throws -> Void
        ) async throws {
            let broker = try ChildProcess(ChildProcess.executable, ["dev-broker", "--partitions", "4", "--topic", "oms.orders", "--topic", "webhook-bridge.control"])
            let bootstrap = try #require(await broker.waitForLine { $0.contains(":") }, "no bootstrap address: \(broker.lines)")
            try await withReceiver(secret: HashKey("start-key-0123456789")) { receiver, port in
                let config = try Reliability.writeConfig("""
                    kafka: {bootstrap_servers: "\(bootstrap)", group_id: \(group)}
                    http: {admin_listen: "127.0.0.1:0", allow_private_destinations: true}
                    sites: [{id: c404, token: c404-test-token-0001}]
                    routes: [{source: oms.orders, site: c404, topic: order_state_changed}]
                    webhooks:
                      - {id: start, site: c404, url: "http://127.0.0.1:\(port)/hooks", topics: [order_state_changed], hash_key: start-key-0123456789}
                    logging: {format: json}
                    """)
                defer { try? FileManager.default.removeItem(at: config) }
                try await body(bootstrap, receiver, config)
            }
            #expect(await broker.stop() == 0)
        }

        static func isReadyLine(_ line: String) -> Bool { line.contains(#""message":"ready""#) }

        static func run(_ config: URL) throws -> ChildProcess {
            try ChildProcess(ChildProcess.executable, ["run", "--config", config.path])
        }

        @Test("started and stopped before its first event, then started again: the events produced while it was down arrive")
        func restartBeforeFirstEvent() async throws {
            try await Self.withRunSetting(group: "restart-before-first") { bootstrap, receiver, config in
                let first = try Self.run(config)
                #expect(await first.waitForLine(Self.isReadyLine) != nil, "\(first.lines.suffix(10))")
                #expect(first.lines.contains { $0.contains("start positions committed") }, "the fresh group's positions were committed")
                #expect(await first.stop() == 0)
                #expect(receiver.requests.isEmpty)

                try await Reliability.produce(Reliability.events(topic: "oms.orders", entities: 8, steps: 0..<5), bootstrap: bootstrap)
                let second = try Self.run(config)
                #expect(await second.waitForLine(Self.isReadyLine) != nil, "\(second.lines.suffix(10))")
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 40 }, "\(receiver.requests.count) of 40; \(second.lines.suffix(10))")
                #expect(await second.stop() == 0)
                #expect(Set(receiver.requests.compactMap { $0.header("message_id") }).count == 40)
            }
        }

        /// The second instance joins right after the first is ready: the first instance's commits
        /// fail while the group rebalances ("rebalance in progress"), so the partitions that move
        /// have nothing committed but their start positions, and events keep coming meanwhile.
        @Test("two instances started together on a fresh group: every event produced once one is ready arrives, through the first rebalance")
        func twoInstancesTogether() async throws {
            try await Self.withRunSetting(group: "two-together") { bootstrap, receiver, config in
                try await Self.secondJoinsRightAway(bootstrap: bootstrap, receiver: receiver, config: config)
            }
        }

        static func secondJoinsRightAway(bootstrap: String, receiver: WebhookReceiver, config: URL) async throws {
            let a = try Self.run(config)
            #expect(await a.waitForLine { Self.isReadyLine($0) } != nil, "\(a.lines.suffix(10))")
            let b = try Self.run(config)
            let producer = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: bootstrap)), logger: BridgeTestCluster.logger)
            let deadline = ContinuousClock.now + .seconds(60)
            // Events flow from now until the second instance holds partitions and is ready, and a
            // little longer.
            var produced = 0
            var tail = 20
            while ContinuousClock.now < deadline, tail > 0 {
                if b.lines.contains(where: { Self.isReadyLine($0) }), b.lines.contains(where: { $0.contains("partitions assigned") }) { tail -= 1 }
                for record in Reliability.events(topic: "oms.orders", entities: 8, steps: produced..<(produced + 1)) { try await producer.send(record) }
                produced += 1
            }
            await producer.close()
            #expect(b.lines.contains { Self.isReadyLine($0) }, "\(b.lines.suffix(10))")
            #expect(a.lines.contains { $0.contains("partitions revoked") }, "partitions moved from the first instance: \(a.lines.suffix(10))")
            let total = produced * 8
            #expect(
                await receiver.wait(timeout: .seconds(60)) { Set($0.compactMap { $0.header("message_id") }).count >= total },
                "\(Set(receiver.requests.compactMap { $0.header("message_id") }).count) of \(total); A: \(a.lines.suffix(5)); B: \(b.lines.suffix(5))")
            for instance in [a, b] { #expect(await instance.stop() == 0) }
            let arrived = Set(receiver.requests.compactMap { request -> String? in
                guard let json = request.json else { return nil }
                return "\(json["entity"] ?? "?")/\(json["step"] ?? "?")"
            })
            let missing = (0..<produced).flatMap { step in (0..<8).map { "E\($0)/\(step)" } }.filter { !arrived.contains($0) }
            #expect(missing.isEmpty, "lost: \(missing.count) of \(total): \(missing.prefix(20))")
        }
    }
}
