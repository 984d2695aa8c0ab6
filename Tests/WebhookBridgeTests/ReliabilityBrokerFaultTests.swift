import Foundation
import Kafka
import Logging
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge

extension ReliabilitySuite {
    /// Case 3: the mock cluster's own fault injection, each test on a cluster of its own (the
    /// faults would hit every other test on the shared one).
    @Suite("Reliability: broker faults")
    struct BrokerFaults {
        static func config(cluster: EmbeddedKafkaCluster, port: Int, group: String, properties: String = "{}") throws -> BridgeConfig {
            var config = try BridgeConfig.parse(yaml: """
                kafka: {bootstrap_servers: "\(cluster.bootstrapServers)", group_id: \(group), start_from: earliest, control_topic: control, attempts_topic: attempts, dead_letter_topic: dlq, properties: \(properties)}
                http: {admin_listen: "127.0.0.1:0", allow_private_destinations: true}
                sites: [{id: c404, token: c404-test-token-0001, max_in_flight: 16, retry_intervals: [0.2, 0.2, 0.2, 0.2, 0.2, 0.2]}]
                routes: [{source: oms.orders, site: c404, topic: order_state_changed}]
                webhooks:
                  - {id: hook, site: c404, url: "http://127.0.0.1:\(port)/hooks", topics: [order_state_changed], hash_key: hash-key-for-tests}
                """)
            config.http.adminPort = 0
            return config
        }

        static func cluster(brokers: Int) throws -> EmbeddedKafkaCluster {
            let cluster = try EmbeddedKafkaCluster(brokers: brokers, logger: BridgeTestCluster.logger)
            try cluster.createTopic("oms.orders", partitions: 6)
            for topic in ["control", "attempts", "dlq"] { try cluster.createTopic(topic, partitions: 1) }
            return cluster
        }

        @Test("each of three brokers set down for 2 s, then up, mid-stream: the bridge meets the fault, delivers meanwhile, loses nothing")
        func brokersDownAndUp() async throws {
            let cluster = try Self.cluster(brokers: 3)
            let perChunk = Reliability.size(full: 2_000, smoke: 300)
            let entities = 100
            let tally = DeliveryTally()
            let log = CapturedLog()
            /// What the bridge saw of each broker's down window.
            struct Window: Sendable {
                var broker: Int32
                /// Events acknowledged while the broker was down (from partitions other brokers lead).
                var deliveredWhileDown: Int
                /// The bridge's log lines about losing or failing to reach that broker, from the
                /// fault until everything produced meanwhile was delivered.
                var faultLines: Int
            }
            let windows = try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in
                tally.acknowledged(request)
                return .init()
            }) { _, port in
                // librdkafka's broker debug lines show the bridge's clients losing the broker.
                let config = try Self.config(cluster: cluster, port: port, group: "down-up", properties: #"{debug: "broker"}"#)
                let bridge = try await Bridge(config: config, logger: log.logger("reliability", level: .debug))
                return try await whileRunning(bridge.serviceGroup(signals: []), ready: { try await waitUntilReady(bridge) }) {
                    var windows: [Window] = []
                    let chunkSteps = perChunk / entities
                    try await Reliability.produce(Reliability.events(topic: "oms.orders", entities: entities, steps: 0..<chunkSteps), bootstrap: cluster.bootstrapServers)
                    #expect(await tally.waitForUnique(perChunk, timeout: .seconds(60)))
                    for broker in Int32(1)...3 {
                        let linesBefore = log.all.count
                        let deliveredBefore = tally.counts.unique
                        cluster.setBroker(broker, up: false)
                        // Produced while the broker is down: the records for its partitions wait
                        // in the producer until it is back.
                        let steps = (Int(broker) * chunkSteps)..<((Int(broker) + 1) * chunkSteps)
                        let producing = Task { try await Reliability.produce(Reliability.events(topic: "oms.orders", entities: entities, steps: steps), bootstrap: cluster.bootstrapServers) }
                        // The fault must last a while: long enough for fetches, commits and
                        // control writes to that broker to fail. Then it lasts until the other
                        // brokers' partitions have delivered (at most 15 s): a rebalance the
                        // fault sets off can hold deliveries for longer than the 2 s.
                        try await Task.sleep(for: .seconds(2))
                        _ = await tally.waitForUnique(deliveredBefore + 1, timeout: .seconds(15))
                        let deliveredWhileDown = tally.counts.unique - deliveredBefore
                        cluster.setBroker(broker, up: true)
                        try await producing.value
                        #expect(await tally.waitForUnique(perChunk * (Int(broker) + 1), timeout: .seconds(90)), "broker \(broker): \(tally.counts.unique)")
                        // librdkafka may log the loss a little after the window (its connection
                        // checks run on their own timers): counted from the fault to the recovery.
                        let name = "/\(broker):"
                        let faultLines = log.all.dropFirst(linesBefore).filter { line in
                            line.contains(name) && ["Disconnected", "Connection refused", "failed"].contains { line.contains($0) }
                        }.count
                        windows.append(Window(broker: broker, deliveredWhileDown: deliveredWhileDown, faultLines: faultLines))
                    }
                    return windows
                }
            }
            let total = perChunk * 4
            let counts = tally.counts
            let lost = total - counts.unique
            #expect(lost == 0)
            #expect(counts.idChanges == 0 && counts.bodyMismatches == 0 && counts.orderViolations == 0)
            // The fault was real for the bridge: each window shows its clients losing that broker,
            // and deliveries from the other brokers' partitions went on during it.
            #expect(windows.count == 3)
            for window in windows {
                #expect(window.faultLines > 0, "broker \(window.broker): the bridge logged nothing about losing it")
                #expect(window.deliveredWhileDown > 0, "broker \(window.broker): nothing delivered while it was down")
            }
            Reliability.report("broker_down_up", [
                "events": total, "brokers": 3, "down_up_cycles": 3, "down_seconds": 2, "acknowledged": counts.unique, "lost": lost,
                "redeliveries": counts.redeliveries, "order_violations": counts.orderViolations,
                "delivered_while_down": windows.map { String($0.deliveredWhileDown) }.joined(separator: ","),
                "fault_log_lines": windows.map { String($0.faultLines) }.joined(separator: ","),
            ])
        }

        @Test("retriable request errors on JoinGroup, Fetch, Produce and OffsetCommit: 0 lost")
        func requestErrors() async throws {
            let cluster = try Self.cluster(brokers: 1)
            let total = Reliability.size(full: 8_000, smoke: 1_200)
            let entities = 100
            let rounds = total / entities
            let tally = DeliveryTally()
            let log = CapturedLog()
            // Error codes: 6 NOT_LEADER_OR_FOLLOWER, 7 REQUEST_TIMED_OUT, 15 COORDINATOR_NOT_AVAILABLE,
            // 16 NOT_COORDINATOR, 27 REBALANCE_IN_PROGRESS.
            let injected: [(EmbeddedKafkaCluster.RequestKind, [Int32])] = [
                (.joinGroup, [15, 16, 27]),
                (.fetch, [6, 6, 6, 6, 6]),
                (.produce, [7, 7, 7, 7, 7]),
                (.offsetCommit, [27, 16, 15, 27, 16]),
            ]
            // Holds the receiver's answers while the errors are pushed, so that the bridge, not the
            // test's producer, makes the next Produce requests.
            let hold = Switch(0)
            let held = Atomic<Int>(0)
            try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in
                if hold.status == 1 {
                    held.add(1, ordering: .relaxed)
                    while hold.status == 1 { try? await Task.sleep(for: .milliseconds(5)) }
                }
                tally.acknowledged(request)
                return .init()
            }) { _, port in
                // librdkafka's own debug lines show the errors it met and retried.
                let config = try Self.config(cluster: cluster, port: port, group: "request-errors", properties: #"{debug: "cgrp,fetch,msg,broker"}"#)
                cluster.pushRequestErrors(.joinGroup, injected[0].1)
                let bridge = try await Bridge(config: config, logger: log.logger("reliability", level: .debug))
                try await whileRunning(bridge.serviceGroup(signals: []), ready: { try await waitUntilReady(bridge) }) {
                    try await Reliability.produce(Reliability.events(topic: "oms.orders", entities: entities, steps: 0..<(rounds / 2)), bootstrap: cluster.bootstrapServers)
                    #expect(await tally.waitForUnique(total / 2, timeout: .seconds(60)))
                    hold.status = 1
                    try await Reliability.produce(Reliability.events(topic: "oms.orders", entities: entities, steps: (rounds / 2)..<rounds), bootstrap: cluster.bootstrapServers)
                    #expect(await waitFor { held.load(ordering: .relaxed) > 0 })
                    for (kind, errors) in injected.dropFirst() { cluster.pushRequestErrors(kind, errors) }
                    hold.status = 0
                    #expect(await tally.waitForUnique(total, timeout: .seconds(120)), "\(tally.counts.unique) of \(total)")
                }
            }
            let counts = tally.counts
            let lost = total - counts.unique
            #expect(lost == 0)
            #expect(counts.idChanges == 0 && counts.bodyMismatches == 0 && counts.orderViolations == 0)
            let lines = log.all
            func seen(_ text: String) -> Int { lines.filter { $0.localizedCaseInsensitiveContains(text) }.count }
            let evidence = [
                "not_leader": seen("Not leader"), "request_timed_out": seen("Request timed out"),
                "coordinator_not_available": seen("Coordinator not available"), "not_coordinator": seen("Not coordinator"),
                "rebalance_in_progress": seen("rebalance in progress"),
            ]
            // librdkafka met every kind of injected error (and retried past it).
            #expect(evidence.values.allSatisfy { $0 > 0 }, "\(evidence)")
            Reliability.report("request_errors", [
                "events": total, "join_errors": 3, "fetch_errors": 5, "produce_errors": 5, "commit_errors": 5,
                "acknowledged": counts.unique, "lost": lost, "redeliveries": counts.redeliveries, "order_violations": counts.orderViolations,
                "log_lines_naming_errors": evidence.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","),
            ])
        }
    }
}
