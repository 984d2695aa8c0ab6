import AsyncHTTPClient
import ControlPlane
import Foundation
import Kafka
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge

extension ReliabilitySuite {
    /// The delivery guarantees at their edges (issue 12): readiness that follows the brokers,
    /// probes that can no longer be sent, a replay after a recovered probe, and API status
    /// changes racing automatic transitions on two instances.
    @Suite("Reliability: delivery guarantees at their edges")
    struct EdgeGuarantees {
        @Test("/ready turns 503 while the brokers are down for longer than the session timeout, and 200 again once they are back")
        func readinessFollowsBrokers() async throws {
            let cluster = try ReliabilitySuite.BrokerFaults.cluster(brokers: 1)
            try await withReceiver(secret: HashKey("hash-key-for-tests")) { _, port in
                var config = try ReliabilitySuite.BrokerFaults.config(cluster: cluster, port: port, group: "ready-down", properties: "{session.timeout.ms: '3000', heartbeat.interval.ms: '500'}")
                config.http.adminPort = 0
                try await withBridge(config) { bridge in
                    #expect(bridge.engine.readiness.isReady)
                    cluster.setBroker(1, up: false)
                    #expect(await waitFor(seconds: 30) { !bridge.engine.readiness.isReady }, "not ready once the brokers are gone past the session timeout")
                    let port = try #require(bridge.adminPort)
                    #expect(try await httpGet("http://127.0.0.1:\(port)/ready").status == 503)
                    cluster.setBroker(1, up: true)
                    #expect(await waitFor(seconds: 60) { bridge.engine.readiness.isReady }, "ready again once the brokers are back")
                    #expect(try await httpGet("http://127.0.0.1:\(port)/ready").status == 200)
                }
            }
        }

        /// A webhook paused on a probe, then the operator renames the notification that routed it
        /// and restarts: the probe no longer routes. It is counted, the next message of the partition
        /// becomes the probe, and the webhook recovers with the rest of its backlog.
        @Test("a probe whose record no longer routes is replaced by the next message, never a crash")
        func unroutableProbe() async throws {
            let topic = BridgeTestCluster.unique("probe")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
            let answer = Switch(500)
            try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { _ in .init(status: answer.status) }) { receiver, port in
                let group = try BridgeTestCluster.group()
                func config(notifications: String) throws -> BridgeConfig {
                    var config = try BridgeConfig.parse(yaml: """
                        \(testKafkaAndHTTP(group: group))
                        sites:
                          - id: c404
                            token: c404-test-token-0001
                            max_in_flight: 1
                            retry_intervals: [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]
                            custom_topics: [{topic: mail_topic, ordered: true}]
                            notifications: {\(notifications)}
                        routes: [{source: \(topic), site: c404, notification_field: notification}]
                        webhooks:
                          - {id: mail, site: c404, url: "http://127.0.0.1:\(port)/mail", topics: [mail_topic], hash_key: hash-key-for-tests}
                        """)
                    config.http.adminPort = 0
                    return config
                }
                @Sendable func event(_ notification: String, _ step: Int) -> KafkaOutgoingRecord {
                    KafkaOutgoingRecord(topic: topic, key: "E0", value: #"{"entity":"E0","notification":"\#(notification)","step":\#(step)}"#)
                }
                try await withBridge(try config(notifications: "old_mail: {media: {webhook_topic: [mail_topic]}}, kept_mail: {media: {webhook_topic: [mail_topic]}}")) { bridge in
                    try await produce([event("old_mail", 0), event("kept_mail", 1), event("kept_mail", 2)])
                    #expect(await waitFor { bridge.engine.lane("mail")?.status.probe?.offset == 0 })
                }
                // Restarted with `old_mail` gone from the notifications: the probe (offset 0) no longer routes.
                answer.status = 202
                try await withBridge(try config(notifications: "kept_mail: {media: {webhook_topic: [mail_topic]}}")) { bridge in
                    #expect(await waitFor { bridge.engine.lane("mail")?.status.status == .enabled }, "\(String(describing: bridge.engine.lane("mail")?.status))")
                    #expect(await receiver.wait(timeout: .seconds(30)) { Set($0.filter { $0.answeredStatus == 202 }.compactMap { $0.header("message_id") }).count >= 2 })
                    let port = try #require(bridge.adminPort)
                    let metrics = try await httpGet("http://127.0.0.1:\(port)/metrics").body
                    #expect(metrics.contains(#"webhook_bridge_probe_unroutable_total{webhook="mail"} 1"#), "\(metrics.split(separator: "\n").filter { $0.contains("probe") })")
                }
                let acknowledged = receiver.requests.filter { $0.answeredStatus == 202 }.compactMap { $0.json?["step"] as? Int }
                #expect(Set(acknowledged) == [1, 2], "the next message was the new probe, then the rest followed: \(acknowledged)")
            }
        }

        @Test("a probe below the log start (or past the end) is expired: counted, and without a next message the episode ends")
        func expiredProbe() async throws {
            let topic = BridgeTestCluster.unique("expired")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
            try await withReceiver(secret: HashKey("hash-key-for-tests")) { receiver, port in
                let config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: try BridgeTestCluster.group())
                try await withBridge(config) { bridge in
                    try await produce(StatusTests.events(topic: topic, entities: 1, perEntity: 2))
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 2 })
                    // Another instance paused the webhook on a probe whose record is gone (offset 1000
                    // of a partition that holds 2).
                    var state = bridge.catalog.state("hook")
                    let probe = Probe(sourceTopic: topic, partition: 0, offset: 1_000, messageID: "gone", webhookTopic: "order_state_changed")
                    _ = state.apply(.deliveryFailed(probe, DeliveryFailure(status: 500, reason: "HTTP 500")), policy: .init(site: Site(id: "c404", token: "c404-test-token-0001")), now: Int64(Date().timeIntervalSince1970 * 1000) - 60_000)
                    state.revision += 1
                    try await bridge.catalog.store.save(state: state, webhookID: "hook")
                    // (The lane was enabled before it adopted that state: wait for the count first.)
                    let port = try #require(bridge.adminPort)
                    #expect(await metricsShow(#"webhook_bridge_probe_expired_total{webhook="hook"} 1"#, port: port), "the expired probe is counted")
                    #expect(bridge.engine.lane("hook")?.status.status == .enabled, "the episode ended")
                    // It delivers again.
                    try await produce(StatusTests.events(topic: topic, entities: 1, perEntity: 1, from: 2))
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 3 })
                }
            }
        }

        @Test("an acknowledged probe is skipped by the catch-up that follows, but a later replay sends it again")
        func replayResendsAcknowledgedProbe() async throws {
            let topic = BridgeTestCluster.unique("probe-replay")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
            let failures = Mutex(1)
            try await withReceiver(secret: HashKey("test-key-0123456789"), respond: { _ in
                let fail = failures.withLock { count in
                    defer { count -= 1 }
                    return count > 0
                }
                return .init(status: fail ? 500 : 202)
            }) { receiver, port in
                let config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: try BridgeTestCluster.group())
                try await withBridge(config) { bridge in
                    try await produce(StatusTests.events(topic: topic, entities: 1, perEntity: 3))
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.answeredStatus == 202 }.count >= 3 })
                    let probeID = try #require(receiver.requests.first?.header("message_id"))
                    #expect(receiver.requests.filter { $0.header("message_id") == probeID && $0.answeredStatus == 202 }.count == 1, "the catch-up did not resend the acknowledged probe")
                    try await bridge.catalog.store.saveReplay(cursors: [SourcePartition(topic, 0): 0], webhookID: "hook")
                    #expect(
                        await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.header("message_id") == probeID && $0.answeredStatus == 202 }.count >= 2 },
                        "the replay resent the probe: \(receiver.requests.map { "\($0.header("message_id") ?? "-") \($0.answeredStatus)" })")
                }
            }
        }

        /// Two instances; a webhook that always fails retries on a short schedule; it is paused
        /// through the API at random moments, on either instance, 20 times. Every time, both
        /// instances end with the manual pause, and nothing is sent afterwards.
        @Test("an API pause answered 200 is never undone by a retry computed concurrently, on either instance")
        func apiPauseWinsOverConcurrentRetries() async throws {
            let topic = BridgeTestCluster.unique("race")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
            let inFlight = Mutex(0)
            try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in
                guard request.uri.hasPrefix("/bad") else { return .init(status: 202) }
                inFlight.withLock { $0 += 1 }
                defer { inFlight.withLock { $0 -= 1 } }
                try? await Task.sleep(for: .milliseconds(15))
                return .init(status: 503)
            }) { receiver, port in
                let config = try StatusTests.twoWebhooks(
                    topic: topic, port: port, group: try BridgeTestCluster.group(),
                    site: "{id: c404, token: c404-test-token-0001, max_in_flight: 1, retry_intervals: [\(Array(repeating: "0.03", count: 60).joined(separator: ", "))], retries_until_failure: 60}")
                try await withBridge(config) { a in
                    try await withBridge(config) { b in
                        let instances = [a, b]
                        let ports = try instances.map { try #require($0.adminPort) }
                        try await produce(StatusTests.events(topic: topic, entities: 4, perEntity: 2))
                        var generator = SystemRandomNumberGenerator()
                        for round in 1...20 {
                            let target = ports[Int.random(in: 0..<2, using: &generator)]
                            #expect(try await httpPatch("http://127.0.0.1:\(ports[round % 2])/webhooks/bad/status", body: #"{"status":"enabled"}"#).status == 200)
                            #expect(await waitFor { instances.contains { $0.engine.lane("bad")?.status.pause == .auto } }, "round \(round): failing again")
                            try await Task.sleep(for: .milliseconds(Int.random(in: 0...120, using: &generator)))
                            #expect(try await httpPatch("http://127.0.0.1:\(target)/webhooks/bad/status", body: #"{"status":"paused"}"#).status == 200)
                            // Whatever retry was in flight ends, and its outcome (if any) is read back
                            // by both instances before the check.
                            #expect(await waitFor { inFlight.withLock { $0 == 0 } })
                            try await a.catalog.save(topic: WebhookTopic(name: "marker_\(round)", ordered: false), site: "c404")
                            #expect(await waitFor { b.catalog.customTopics(site: "c404").contains { $0.name == "marker_\(round)" } })
                            for instance in instances {
                                let status = instance.engine.lane("bad")?.status
                                #expect(status?.status == .paused && status?.pause == .manual, "round \(round): \(String(describing: status))")
                                #expect(instance.catalog.state("bad").pause == .manual, "round \(round)")
                            }
                        }
                        let sent = receiver.requests.filter { $0.uri.hasPrefix("/bad") }.count
                        try await Task.sleep(for: .milliseconds(300))  // ten retry intervals: a retry would have been sent
                        #expect(receiver.requests.filter { $0.uri.hasPrefix("/bad") }.count == sent, "nothing is sent while paused")
                    }
                }
            }
        }
    }

}

/// Waits up to 30 s for a bridge's `/metrics` to show a line (a counter has no event of its own).
func metricsShow(_ line: String, port: Int) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        if let metrics = try? await httpGet("http://127.0.0.1:\(port)/metrics").body, metrics.contains(line) { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return false
}

/// A GET of a loopback URL: status and body.
func httpGet(_ url: String) async throws -> (status: Int, body: String) {
    try await httpCall(url, method: .GET, body: nil)
}

/// A PATCH with a JSON body and the test site's token.
func httpPatch(_ url: String, body: String) async throws -> (status: Int, body: String) {
    try await httpCall(url, method: .PATCH, body: body)
}

private func httpCall(_ url: String, method: NIOHTTP1.HTTPMethod, body: String?) async throws -> (status: Int, body: String) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    request.headers.add(name: "Authorization", value: "Bearer c404-test-token-0001")
    if let body {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), String(buffer: bytes))
}
