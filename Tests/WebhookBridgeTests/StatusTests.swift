import Delivery
import Foundation
import Kafka
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

/// Collects alert events for assertions.
final class CollectingAlertSink: AlertSink {
    private let events = Mutex<[AlertEvent]>([])
    var alerts: [AlertEvent] { events.withLock { $0 } }
    func send(_ alert: AlertEvent) { events.withLock { $0.append(alert) } }
}

/// A receiver's answer that the test can switch.
/// Holds each caller until `parties` have arrived, then lets them all go (later callers pass at once).
final class Barrier: Sendable {
    private let state: Mutex<(arrived: Int, waiting: [CheckedContinuation<Void, Never>])>
    private let parties: Int
    init(parties: Int) {
        self.parties = parties
        state = Mutex((0, []))
    }

    func arrive() async {
        await withCheckedContinuation { continuation in
            let release: [CheckedContinuation<Void, Never>] = state.withLock { state in
                state.arrived += 1
                state.waiting.append(continuation)
                guard state.arrived >= parties else { return [] }
                defer { state.waiting = [] }
                return state.waiting
            }
            for waiter in release { waiter.resume() }
        }
    }
}

/// Holds callers until `open()`; from then on lets everyone through.
final class Gate: Sendable {
    private let state = Mutex<(isOpen: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func pass() async {
        await withCheckedContinuation { continuation in
            let passNow = state.withLock { state in
                if !state.isOpen { state.waiting.append(continuation) }
                return state.isOpen
            }
            if passNow { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state in
            state.isOpen = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for waiter in waiting { waiter.resume() }
    }
}

final class Switch: Sendable {
    private let value: Mutex<Int>
    init(_ status: Int) { value = Mutex(status) }
    var status: Int {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

@Suite("Statuses, retries and backlogs (DESIGN.md §5, §7)", .serialized)
struct StatusTests {
    static func events(topic: String, entities: Int, perEntity: Int, from step: Int = 0) -> [KafkaOutgoingRecord] {
        (step..<(step + perEntity)).flatMap { step in
            (0..<entities).map { KafkaOutgoingRecord(topic: topic, key: "E\($0)", value: #"{"entity":"E\#($0)","step":\#(step)}"#) }
        }
    }

    /// Two webhooks on one topic, each with its own path on the receiver.
    static func twoWebhooks(topic: String, port: Int, group: String, site: String) throws -> BridgeConfig {
        var config = try BridgeConfig.parse(yaml: """
            \(testKafkaAndHTTP(group: group))
            sites: [\(site)]
            routes: [{source: \(topic), site: c404, topic: order_state_changed}]
            webhooks:
              - {id: good, site: c404, url: "http://127.0.0.1:\(port)/good", topics: [order_state_changed], hash_key: hash-key-for-tests}
              - {id: bad, site: c404, url: "http://127.0.0.1:\(port)/bad", topics: [order_state_changed], hash_key: hash-key-for-tests}
            """)
        config.http.adminPort = 0
        return config
    }

    static func steps(_ requests: [WebhookReceiver.Received]) -> [String: [Int]] {
        var steps: [String: [Int]] = [:]
        for request in requests {
            guard let json = request.json, let entity = json["entity"] as? String, let step = json["step"] as? Int else { continue }
            steps[entity, default: []].append(step)
        }
        return steps
    }

    @Test("requests that fail together while the webhook pauses are all kept: after recovery every message arrives, each entity in order")
    func concurrentFailuresKept() async throws {
        let topic = BridgeTestCluster.unique("concurrent-failures")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
        let bad = Switch(500)
        // The first request of each of the 6 entities is held until all 6 are in, then all fail at once.
        let barrier = Barrier(parties: 6)
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in
            guard request.uri.hasPrefix("/bad") else { return .init() }
            guard bad.status == 500 else { return .init() }
            await barrier.arrive()
            return .init(status: 500)
        }) { receiver, port in
            let config = try Self.twoWebhooks(
                topic: topic, port: port, group: try BridgeTestCluster.group(),
                site: "{id: c404, token: c404-test-token-0001, max_in_flight: 8, retry_intervals: [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]}")
            try await withBridge(config) { bridge in
                try await produce(Self.events(topic: topic, entities: 6, perEntity: 5))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/good") }.count >= 30 })
                #expect(await waitFor { bridge.engine.lane("bad")?.status.status == .paused })
                // More than the probe failed: the first message of several entities.
                #expect(Set(receiver.requests.filter { $0.uri.hasPrefix("/bad") }.compactMap { $0.header("message_id") }).count > 1)
                bad.status = 202
                #expect(await receiver.wait(timeout: .seconds(30)) { requests in
                    Set(requests.filter { $0.uri.hasPrefix("/bad") && $0.answeredStatus == 202 }.compactMap { $0.header("message_id") }).count >= 30
                })
            }
            let delivered = receiver.requests.filter { $0.uri.hasPrefix("/bad") && $0.answeredStatus == 202 }
            for (entity, steps) in Self.steps(Self.uniqueInOrder(delivered)) { #expect(steps == Array(0..<5), "\(entity)") }
        }
    }

    static func uniqueInOrder(_ requests: [WebhookReceiver.Received]) -> [WebhookReceiver.Received] {
        var seen: Set<String> = []
        return requests.filter { seen.insert($0.header("message_id") ?? "").inserted }
    }

    @Test("the last failed retry disables the webhook with on_deactivation; nothing more is sent to it")
    func exhaustion() async throws {
        let topic = BridgeTestCluster.unique("exhaust")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        let alerts = CollectingAlertSink()
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { .init(status: $0.uri.hasPrefix("/bad") ? 503 : 202) }) { receiver, port in
            let config = try Self.twoWebhooks(
                topic: topic, port: port, group: try BridgeTestCluster.group(),
                site: "{id: c404, token: c404-test-token-0001, max_in_flight: 1, retry_intervals: [0.1, 0.1, 0.1], retries_until_failure: 2}")
            try await withBridge(config, alerts: alerts) { bridge in
                try await produce(Self.events(topic: topic, entities: 2, perEntity: 2))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/bad") }.count >= 4 })
                #expect(await waitFor { bridge.engine.lane("bad")?.status.status == .disabled })
                let sentBefore = receiver.requests.filter { $0.uri.hasPrefix("/bad") }.count
                try await produce(Self.events(topic: topic, entities: 2, perEntity: 2, from: 2))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/good") }.count >= 8 })
                #expect(receiver.requests.filter { $0.uri.hasPrefix("/bad") }.count == sentBefore)
                #expect(sentBefore == 4)
            }
            #expect(alerts.alerts.map(\.kind) == [.onFailure, .onDeactivation])
            #expect(alerts.alerts.last?.contacts.emailNotificationName == "webhook_deactivation")
            // The first attempt and three retries: the deactivation alert counts all four (it said 1).
            #expect(alerts.alerts.map(\.attempts) == [3, 4])
            #expect(alerts.alerts.last?.lastError == "HTTP 503")
        }
    }

    @Test("410 Gone disables at once")
    func gone() async throws {
        let topic = BridgeTestCluster.unique("gone")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        let alerts = CollectingAlertSink()
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { .init(status: $0.uri.hasPrefix("/bad") ? 410 : 202) }) { receiver, port in
            let config = try Self.twoWebhooks(topic: topic, port: port, group: try BridgeTestCluster.group(), site: "{id: c404, token: c404-test-token-0001}")
            try await withBridge(config, alerts: alerts) { bridge in
                try await produce(Self.events(topic: topic, entities: 1, perEntity: 3))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/good") }.count >= 3 })
                #expect(await waitFor { bridge.engine.lane("bad")?.status.status == .disabled })
            }
            #expect(receiver.requests.filter { $0.uri.hasPrefix("/bad") }.count == 1)
            #expect(alerts.alerts.map(\.kind) == [.onDeactivation])
        }
    }

    /// On 7 partitions, more than a webhook's catch-ups read at once (`CatchUpReader.maxPartitions`):
    /// the others wait their turn, and everything still arrives in order.
    @Test("a manual pause holds the messages; enable delivers them in order, from more partitions than are read at once")
    func manualPauseAndEnable() async throws {
        let topic = BridgeTestCluster.unique("manual")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 7)
        try await withReceiver(secret: HashKey("hash-key-for-tests")) { receiver, port in
            let config = try Self.twoWebhooks(topic: topic, port: port, group: try BridgeTestCluster.group(), site: "{id: c404, token: c404-test-token-0001}")
            try await withBridge(config) { bridge in
                let lane = try #require(bridge.engine.lane("bad"))
                #expect(await lane.apply(.pauseRequested))
                try await produce(Self.events(topic: topic, entities: 28, perEntity: 5))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/good") }.count >= 140 })
                #expect(receiver.requests.filter { $0.uri.hasPrefix("/bad") }.isEmpty)
                #expect(await lane.apply(.enableRequested))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/bad") }.count >= 140 })
            }
            let bad = receiver.requests.filter { $0.uri.hasPrefix("/bad") }
            #expect(bad.count == 140)
            #expect(Set(bad.compactMap { $0.header("message_id") }).count == 140)
            #expect(Set(bad.map { $0.header("sequence")?.split(separator: "-").first }).count == 7, "every partition caught up")
            #expect(Self.steps(bad).values.allSatisfy { $0 == Array(0..<5) })
        }
    }

    @Test("a paused webhook's status and cursors survive a restart (control topic); enabled after it, its backlog arrives")
    func pausedAcrossRestart() async throws {
        let topic = BridgeTestCluster.unique("restart")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
        let parkedAtStart = [SourcePartition(topic, 0): Int64(0), SourcePartition(topic, 1): 0]
        try await withReceiver(secret: HashKey("hash-key-for-tests")) { receiver, port in
            let config = try Self.twoWebhooks(topic: topic, port: port, group: try BridgeTestCluster.group(), site: "{id: c404, token: c404-test-token-0001}")
            try await withBridge(config) { bridge in
                #expect(await bridge.engine.lane("bad")?.apply(.pauseRequested) == true)
                // Parked: a cursor per partition, read back from the control topic, where the
                // pause found it (nothing read yet).
                #expect(await waitFor { bridge.catalog.store.cursors(webhookID: "bad") == parkedAtStart }, "\(bridge.catalog.store.cursors(webhookID: "bad"))")
                try await produce(Self.events(topic: topic, entities: 3, perEntity: 4))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/good") }.count >= 12 })
                // The backlog is left to the cursors: nothing of it is held in memory.
                let runtime = try #require(bridge.engine.runtime().first { $0.id == "bad" })
                #expect(runtime.parkedPartitions == 2 && runtime.queuedMessages == 0 && runtime.inFlightRequests == 0, "\(runtime)")
                #expect(bridge.catalog.store.cursors(webhookID: "bad") == parkedAtStart)
            }
            // A new instance: the group's committed offsets are past these events for "good",
            // "bad" is still paused and its cursors hold its backlog.
            try await withBridge(config) { bridge in
                let lane = try #require(bridge.engine.lane("bad"))
                #expect(lane.status.status == .paused && lane.status.pause == .manual)
                #expect(bridge.catalog.store.cursors(webhookID: "bad") == parkedAtStart, "the cursors were read back from the control topic")
                #expect(await waitFor { bridge.engine.runtime().first { $0.id == "bad" }?.parkedPartitions == 2 })
                #expect(receiver.requests.filter { $0.uri.hasPrefix("/bad") }.isEmpty)
                #expect(await lane.apply(.enableRequested))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/bad") }.count >= 12 })
                // Caught up: the cursors are deleted and nothing is parked any more.
                #expect(await waitFor { bridge.catalog.store.cursors(webhookID: "bad").isEmpty }, "\(bridge.catalog.store.cursors(webhookID: "bad"))")
                #expect(await waitFor { bridge.engine.runtime().first { $0.id == "bad" }?.parkedPartitions == 0 })
            }
            let bad = Self.uniqueInOrder(receiver.requests.filter { $0.uri.hasPrefix("/bad") })
            #expect(bad.count == 12)
            #expect(Self.steps(bad).values.allSatisfy { $0 == Array(0..<4) })
            #expect(receiver.requests.filter { $0.uri.hasPrefix("/good") }.count == 12)
        }
    }

    @Test("a slow webhook is parked when its window is full and never holds back the other one; it catches up in order")
    func slowWebhookParked() async throws {
        let topic = BridgeTestCluster.unique("slow")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
        let release = Gate()
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in
            // The slow receiver holds its answers until the test lets them go.
            if request.uri.hasPrefix("/bad") { await release.pass() }
            return .init(status: 202)
        }) { receiver, port in
            var config = try Self.twoWebhooks(topic: topic, port: port, group: try BridgeTestCluster.group(), site: "{id: c404, token: c404-test-token-0001, max_in_flight: 2}")
            config.webhooks[1].options.maxPending = 5
            try await withBridge(config) { bridge in
                // Opened on every way out, or the held requests would keep the receiver from stopping.
                defer { release.open() }
                try await produce(Self.events(topic: topic, entities: 10, perEntity: 20))
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/good") }.count >= 200 })
                #expect((bridge.engine.lane("bad")?.queuedCount ?? 0) <= 5)
                // Parked, not merely slow: its cursors are in the control topic and the records
                // it has not had stay in Kafka, not in memory.
                #expect(await waitFor { !bridge.catalog.store.cursors(webhookID: "bad").isEmpty }, "no cursor written for the slow webhook")
                #expect(await waitFor {
                    guard let runtime = bridge.engine.runtime().first(where: { $0.id == "bad" }) else { return false }
                    return runtime.parkedPartitions >= 1 && runtime.cursorLag > 0
                }, "\(bridge.engine.runtime())")
                let held = receiver.requests.filter { $0.uri.hasPrefix("/bad") }.count
                #expect(held <= 2, "only max_in_flight requests reached the slow receiver: \(held)")
                release.open()
                #expect(await receiver.wait(timeout: .seconds(60)) { Set($0.filter { $0.uri.hasPrefix("/bad") }.compactMap { $0.header("message_id") }).count >= 200 })
                #expect(await waitFor { bridge.catalog.store.cursors(webhookID: "bad").isEmpty }, "cursors left after the catch-up")
            }
            let bad = Self.uniqueInOrder(receiver.requests.filter { $0.uri.hasPrefix("/bad") })
            #expect(bad.count == 200)
            for (entity, steps) in Self.steps(bad) { #expect(steps == Array(0..<20), "\(entity)") }
        }
    }
}

/// Polls a state that has no event of its own (a webhook's status), up to `seconds`.
func waitFor(seconds: Double = 30, _ condition: @Sendable () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

extension ReliabilitySuite {
    /// Retry times as measured at a receiver: in the serialized phase, since a loaded machine (the
    /// parallel phase runs dozens of bridges at once) delays them by more than the tolerance.
    @Suite("Reliability: retry timing")
    struct RetryTiming {
        @Test("a failing webhook is paused and its probe retried on schedule while a healthy one gets everything; after recovery the backlog arrives in per-entity order")
        func pauseRetryRecover() async throws {
            let topic = BridgeTestCluster.unique("status")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
            let bad = Switch(500)
            let alerts = CollectingAlertSink()
            try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in
                .init(status: request.uri.hasPrefix("/bad") ? bad.status : 202)
            }) { receiver, port in
                let config = try StatusTests.twoWebhooks(
                    topic: topic, port: port, group: try BridgeTestCluster.group(),
                    // One request at a time, so the only request in flight when it fails is the probe.
                    site: "{id: c404, token: c404-test-token-0001, max_in_flight: 1, retry_intervals: [1.0, 1.5, 2.0, 0.5, 0.5, 0.5], retries_until_failure: 2, on_failure: {contact_emails: [ops@example.com]}}")
                try await withBridge(config, alerts: alerts) { bridge in
                    try await produce(StatusTests.events(topic: topic, entities: 5, perEntity: 10))
                    // The healthy webhook gets all 50 while the other one is paused.
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/good") }.count >= 50 })
                    // First attempt plus three failed retries.
                    #expect(await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri.hasPrefix("/bad") }.count >= 4 })
                    let status = bridge.engine.lane("bad")?.status
                    #expect(status?.status == .paused && status?.pause == .auto)
                    bad.status = 202
                    #expect(await receiver.wait(timeout: .seconds(30)) { Set($0.filter { $0.uri.hasPrefix("/bad") && $0.header("message_id") != nil }.compactMap { $0.header("message_id") }).count >= 50 })
                    let recovered = bridge.engine.lane("bad")?.status
                    #expect(recovered?.status == .enabled && recovered?.retries == 0 && recovered?.probe == nil && recovered?.failureAlertSent == false)
                }
                let badRequests = receiver.requests.filter { $0.uri.hasPrefix("/bad") }
                // Only the probe was sent while paused: the first four requests carry one message id.
                #expect(Set(badRequests.prefix(4).compactMap { $0.header("message_id") }).count == 1)
                // Retries k = 1, 2, 3 came after retry_intervals[k-1]: never early (−10 %), and late by at
                // most 10 % or 0.3 s, as measured at the receiver (which also sees each attempt's round
                // trip and, on a loaded CI machine, scheduling delays; the schedule itself is unit-tested
                // with a fixed clock in WebhookStateTests).
                let times = badRequests.prefix(4).map(\.receivedAt)
                for (k, interval) in [1.0, 1.5, 2.0].enumerated() {
                    let gap = times[k + 1].timeIntervalSince(times[k])
                    #expect(gap >= interval * 0.9 && gap <= interval + max(interval * 0.1, 0.3), "retry \(k + 1) after \(gap) s, expected \(interval) s")
                }
                // Everything arrived, each entity in order (the acknowledged probe is not sent twice).
                let delivered = badRequests.filter { $0.header("message_id") != nil }
                let firstArrivals = Dictionary(delivered.map { ($0.header("message_id")!, $0) }, uniquingKeysWith: { first, _ in first })
                #expect(firstArrivals.count == 50)
                for (entity, steps) in StatusTests.steps(StatusTests.uniqueInOrder(delivered)) { #expect(steps == Array(0..<10), "\(entity)") }
                #expect(StatusTests.steps(receiver.requests.filter { $0.uri.hasPrefix("/good") }).values.allSatisfy { $0 == Array(0..<10) })
                #expect(alerts.alerts.map(\.kind) == [.onFailure, .onFailureRecovered])
                #expect(alerts.alerts.first?.recipients == ["ops@example.com"])
                #expect(alerts.alerts.first?.contacts.emailNotificationName == "webhook_failure")
            }
        }
    }
}
