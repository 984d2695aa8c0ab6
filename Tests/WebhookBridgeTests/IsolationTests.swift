import Foundation
import Kafka
import ServiceLifecycle
import Testing
import Waiting
import WebhookBridgeTools
import WebhookDomain

@testable import WebhookBridge

extension ReliabilitySuite {
    /// One tenant cannot hold the others back (issue 13): request slots, memory and intake are
    /// shared fairly, and revocations and shutdowns end in bounded time with a receiver that
    /// never answers.
    @Suite("Reliability: tenant isolation")
    struct Isolation {
        /// A receiver path that accepts requests and answers none until released.
        final class Hang: Sendable {
            private let released = Waitable(false)
            /// Requests being held now.
            let holding = Waitable(0)

            func hold() async -> WebhookReceiver.Answer {
                holding.withLock { $0 += 1 }
                await released.wait(until: { $0 })
                holding.withLock { $0 -= 1 }
                return .init(status: 202)
            }

            func release() { released.withLock { $0 = true } }
        }

        /// Two sites, each with one webhook on its own source topic.
        static func twoSites(group: String, port: Int, hanging: (topic: String, site: String), other: (topic: String, site: String), http: String = "")
            throws -> BridgeConfig
        {
            var config = try BridgeConfig.parse(yaml: """
                kafka: {bootstrap_servers: "\(BridgeTestCluster.shared.bootstrapServers)", group_id: \(group), start_from: earliest, dead_letter_topic: \(group)-dlq, control_topic: \(group)-control, attempts_topic: \(group)-attempts}
                http: {admin_listen: "127.0.0.1:0", allow_private_destinations: true\(http)}
                sites:
                  - {id: hanging, token: hanging-site-token-0001, \(hanging.site)}
                  - {id: steady, token: steady-site-token-00001, \(other.site)}
                routes:
                  - {source: \(hanging.topic), site: hanging, topic: order_state_changed}
                  - {source: \(other.topic), site: steady, topic: order_state_changed}
                webhooks:
                  - {id: hang, site: hanging, url: "http://127.0.0.1:\(port)/hang", topics: [order_state_changed], hash_key: isolation-test-key}
                  - {id: steady, site: steady, url: "http://127.0.0.1:\(port)/steady", topics: [order_state_changed], hash_key: isolation-test-key}
                """)
            config.http.adminPort = 0
            return config
        }

        @Test("a site whose receiver never answers (ack_timeout at its 60 s maximum) holds at most half the request slots: another site's 40 events arrive within seconds")
        func hangingReceiverLeavesSlots() async throws {
            let (hangTopic, steadyTopic) = (BridgeTestCluster.unique("hang"), BridgeTestCluster.unique("steady"))
            try BridgeTestCluster.shared.createTopic(hangTopic, partitions: 4)
            try BridgeTestCluster.shared.createTopic(steadyTopic, partitions: 4)
            let hang = Hang()
            try await withReceiver(secret: HashKey("isolation-test-key"), respond: { request in
                request.uri.hasPrefix("/hang") ? await hang.hold() : .init(status: 202)
            }) { receiver, port in
                let config = try Self.twoSites(
                    group: try BridgeTestCluster.group(), port: port, hanging: (hangTopic, "ack_timeout: 60, max_in_flight: 8"),
                    other: (steadyTopic, "max_in_flight: 8"), http: ", max_concurrent_requests: 4")
                try await withBridge(config) { _ in
                    try await produce(StatusTests.events(topic: hangTopic, entities: 40, perEntity: 1))
                    #expect(await hang.holding.wait(until: { $0 >= 2 }, timeout: .seconds(30)), "the hanging site's requests are out")
                    try await produce(StatusTests.events(topic: steadyTopic, entities: 40, perEntity: 1))
                    #expect(
                        await receiver.wait(timeout: .seconds(15)) { $0.filter { $0.uri.hasPrefix("/steady") }.count >= 40 },
                        "the other site got \(receiver.requests.filter { $0.uri.hasPrefix("/steady") }.count) of 40")
                    #expect(hang.holding.value == 2, "the hanging webhook holds half of the 4 slots, no more")
                    hang.release()
                }
            }
        }

        @Test("at the engine's unsettled limit the webhooks holding the most are parked, not everyone's intake stopped: one event for another site arrives promptly behind 25,000 for a slow one")
        func slowSiteDoesNotStopIntake() async throws {
            let sources = (0..<3).map { _ in BridgeTestCluster.unique("slow") }
            let steadyTopic = BridgeTestCluster.unique("steady")
            for topic in sources + [steadyTopic] { try BridgeTestCluster.shared.createTopic(topic, partitions: 2) }
            try await withReceiver(secret: HashKey("isolation-test-key"), respond: { request in
                request.uri.hasPrefix("/slow") ? .init(status: 202, delay: .seconds(2)) : .init(status: 202)
            }) { receiver, port in
                let group = try BridgeTestCluster.group()
                // Three slow webhooks, each on its own topic with max_pending at its maximum: none
                // fills its own window (about 8,300 each), but together they pass the engine's 20,000.
                let topics = ["order_state_changed", "parcel_state_changed", "line_item_group_state_changed"]
                var config = try BridgeConfig.parse(yaml: """
                    \(testKafkaAndHTTP(group: group))
                    sites:
                      - {id: slow, token: slow-site-token-000001, max_in_flight: 8}
                      - {id: steady, token: steady-site-token-00001}
                    routes:
                    \(zip(sources, topics).map { "  - {source: \($0), site: slow, topic: \($1)}" }.joined(separator: "\n"))
                      - {source: \(steadyTopic), site: steady, topic: order_state_changed}
                    webhooks:
                    \(topics.map { "  - {id: slow-\($0), site: slow, url: \"http://127.0.0.1:\(port)/slow\", topics: [\($0)], hash_key: isolation-test-key, options: {max_pending: 10000}}" }.joined(separator: "\n"))
                      - {id: steady, site: steady, url: "http://127.0.0.1:\(port)/steady", topics: [order_state_changed], hash_key: isolation-test-key}
                    """)
                config.http.adminPort = 0
                try await withBridge(config) { bridge in
                    try await Self.produceQuickly(sources.flatMap { StatusTests.events(topic: $0, entities: 500, perEntity: 17) })
                    try await produce(StatusTests.events(topic: steadyTopic, entities: 1, perEntity: 1))
                    #expect(
                        await receiver.wait(timeout: .seconds(30)) { $0.contains { $0.uri.hasPrefix("/steady") } },
                        "the other site's event waits behind the slow site's records")
                    let port = try #require(bridge.adminPort)
                    #expect(await metricsShow("webhook_bridge_parked_for_memory_total", port: port), "a slow webhook was parked to free memory")
                }
            }
        }

        /// Hands records over without waiting for each acknowledgement, then flushes.
        static func produceQuickly(_ records: [KafkaOutgoingRecord]) async throws {
            let producer = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: BridgeTestCluster.shared.bootstrapServers)), logger: BridgeTestCluster.logger)
            for record in records { producer.enqueue(record) }
            try await producer.flush()
            await producer.close()
        }

        @Test("with a receiver that never answers, a revocation and a shutdown cut requests short after their grace: both end in seconds and no event is lost")
        func boundedRevocationAndShutdown() async throws {
            let topic = BridgeTestCluster.unique("bounded")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 4)
            let hang = Hang()
            let hanging = Waitable(true)
            try await withReceiver(secret: HashKey("isolation-test-key"), respond: { request in
                hanging.value ? await hang.hold() : .init(status: 202)
            }) { receiver, port in
                let group = try BridgeTestCluster.group()
                let config = try Self.twoSites(
                    group: group, port: port, hanging: (topic, "ack_timeout: 60, max_in_flight: 8"), other: (BridgeTestCluster.unique("unused"), "max_in_flight: 1"))
                let first = try await Bridge(config: config, logger: BridgeTestCluster.logger)
                let firstGroup = first.serviceGroup(signals: [])
                let running = Task { try await firstGroup.run() }
                try await waitUntilReady(first)
                try await produce(StatusTests.events(topic: topic, entities: 8, perEntity: 1))
                #expect(await hang.holding.wait(until: { $0 >= 8 }, timeout: .seconds(30)), "eight requests hang")
                // From now on the receiver answers at once; the eight requests already out still hang.
                hanging.withLock { $0 = false }
                @Sendable func acknowledged() -> Int { Set(receiver.requests.filter { $0.answeredStatus == 202 }.compactMap { $0.header("message_id") }).count }
                let clock = ContinuousClock()
                let stopping = Waitable(clock.now)
                // A second instance joins: the first gives up the partitions whose requests hang.
                try await withBridge(config) { second in
                    #expect(
                        await waitFor(seconds: 30) { second.engine.assignedPartitions.contains { $0.topic == topic } },
                        "the revocation ended within seconds, not after the 60 s ack_timeout")
                    #expect(await waitFor(seconds: 30) { acknowledged() >= 8 }, "the second instance delivered the eight events: \(acknowledged())")
                    await firstGroup.triggerGracefulShutdown()
                    try await running.value
                    // Now the second instance's requests hang, and it is stopped.
                    hanging.withLock { $0 = true }
                    try await produce(StatusTests.events(topic: topic, entities: 8, perEntity: 1, from: 1))
                    #expect(await hang.holding.wait(until: { $0 >= 16 }, timeout: .seconds(30)), "eight more requests hang")
                    stopping.withLock { $0 = clock.now }
                }
                let shutdown = clock.now - stopping.value
                #expect(shutdown < .seconds(30), "the instance stopped in \(shutdown), not after its hanging requests' 60 s")
                // A third instance delivers what the stopped one had cut short.
                hanging.withLock { $0 = false }
                try await withBridge(config) { _ in
                    #expect(await waitFor(seconds: 30) { acknowledged() >= 16 }, "no event is lost: \(acknowledged()) of 16")
                }
                hang.release()
            }
        }
    }
}
