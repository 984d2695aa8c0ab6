import Foundation
import Kafka
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

/// What a receiver saw, in arrival order: when each request came, how many were in progress
/// with it (itself included), and whether it was refused for being one too many.
final class ArrivalLog: Sendable {
    struct Arrival: Sendable {
        var at: ContinuousClock.Instant
        var concurrency: Int
        var refused: Bool
    }

    private let state = Mutex<(current: Int, arrivals: [Arrival], accepted: Set<String>)>((0, [], []))

    var arrivals: [Arrival] { state.withLock { $0.arrivals } }
    /// Distinct messages accepted.
    var acceptedCount: Int { state.withLock { $0.accepted.count } }

    /// A request arrives; refused when more than `capacity` would be in progress.
    func enter(_ request: WebhookReceiver.Received, capacity: Int = .max) -> Bool {
        state.withLock { state in
            state.current += 1
            let refused = state.current > capacity
            state.arrivals.append(Arrival(at: .now, concurrency: state.current, refused: refused))
            if !refused, let id = request.header("message_id") { state.accepted.insert(id) }
            return refused
        }
    }

    func leave() { state.withLock { $0.current -= 1 } }
}

/// `options.rate_limit`, `options.adaptive`, a `Retry-After` that slows instead of pausing, and
/// the ramp-up after a pause (DESIGN.md §6), against real receivers over HTTP.
@Suite("Pace: rate limit, adaptive concurrency, Retry-After, ramp-up (DESIGN.md §6)", .serialized)
struct PaceBehaviourTests {
    static func webhook(_ id: String, port: Int, options: String) -> String {
        "  - {id: \(id), site: c404, url: \"http://127.0.0.1:\(port)/\(id)\", topics: [order_state_changed], hash_key: hash-key-for-tests, options: \(options)}"
    }

    /// The webhook's concurrency limit as `/status` and `/metrics` show it.
    static func concurrencyLimits(_ bridge: Bridge, _ id: String) async throws -> [Int] {
        let status = try JSONSerialization.jsonObject(with: Data(try await adminGET(bridge, "/status").body.utf8)) as? [String: Any]
        let webhook = (status?["webhooks"] as? [[String: Any]])?.first { $0["id"] as? String == id }
        let metrics = PrometheusSamples(try await adminGET(bridge, "/metrics").body)
        return [webhook?["concurrency_limit"] as? Int, metrics.value("webhook_bridge_concurrency_limit", ["webhook": id]).map { Int($0) }].compactMap { $0 }
    }

    /// The bucket holds one second's worth (20) and gains 20 a second: 120 requests cannot
    /// start over less than (120 - 20) / 20 = 5 s. Checked as a lower bound on the span of their
    /// arrivals (with 1 s allowed for the first request's own way there), which a slow machine
    /// only lengthens; without the limit they arrive within a fraction of a second.
    @Test("rate_limit: 120 requests at 20 a second (burst 20) take at least 5 s; every message arrives")
    func rateLimit() async throws {
        let topic = BridgeTestCluster.unique("rate")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
        let log = ArrivalLog()
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in
            _ = log.enter(request)
            log.leave()
            return .init(status: 202)
        }) { receiver, port in
            let config = try DeliveryBehaviourTests.config(
                topic: topic, port: port, webhooks: Self.webhook("rated", port: port, options: "{rate_limit: 20}"),
                site: "{id: c404, token: c404-test-token-0001, max_in_flight: 16}")
            try await withBridge(config) { bridge in
                try await produce(StatusTests.events(topic: topic, entities: 60, perEntity: 2))
                #expect(await receiver.wait(timeout: .seconds(60)) { $0.count >= 120 })
                #expect(bridge.engine.lane("rated")?.status.status == .enabled)
            }
            let arrivals = log.arrivals
            #expect(arrivals.count == 120 && log.acceptedCount == 120)
            let span = try #require(arrivals.last).at - (try #require(arrivals.first)).at
            #expect(span >= .seconds(4), "120 requests in \(span)")
            #expect(StatusTests.steps(receiver.requests).values.allSatisfy { $0 == [0, 1] })
        }
    }

    /// The receiver answers the first attempt of step 3 with 429 and `Retry-After: 1`.
    @Test(
        "a 429 with Retry-After slows the webhook: it stays enabled, nothing is sent for the Retry-After, then the messages in order",
        arguments: ["{rate_limit: 1000}", "{adaptive: true}"])
    func retryAfterSlows(options: String) async throws {
        let topic = BridgeTestCluster.unique("slowed")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        let refusedOnce = Mutex(false)
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in
            let refuse = (request.json?["step"] as? Int) == 3 && refusedOnce.withLock { refused in
                defer { refused = true }
                return !refused
            }
            return refuse ? .init(status: 429, headers: ["Retry-After": "1"]) : .init(status: 202)
        }) { receiver, port in
            // Retries 30 s apart: a pause would not deliver the rest within the wait below.
            let config = try DeliveryBehaviourTests.config(
                topic: topic, port: port, webhooks: Self.webhook("slowed", port: port, options: options),
                site: "{id: c404, token: c404-test-token-0001, retry_intervals: [30, 60]}")
            try await withBridge(config) { bridge in
                let lane = try #require(bridge.engine.lane("slowed"))
                let revision = lane.status.revision
                try await produce(StatusTests.events(topic: topic, entities: 1, perEntity: 8))
                #expect(await receiver.wait(timeout: .seconds(20)) { $0.count >= 9 })
                #expect(lane.status.status == .enabled && lane.status.revision == revision && lane.status.lastError == nil, "never paused")
            }
            let requests = receiver.requests
            #expect(requests.compactMap { $0.json?["step"] as? Int } == [0, 1, 2, 3, 3, 4, 5, 6, 7])
            #expect(requests.map(\.answeredStatus) == [202, 202, 202, 429] + Array(repeating: 202, count: 5))
            let held = requests[4].receivedAt.timeIntervalSince(requests[3].receivedAt)
            #expect(held >= 1, "sent again after \(held) s")
        }
    }

    /// Every request is held 100 ms: the second arriving with nothing else in progress shows the
    /// first was alone; the peak shows the ramp reaching max_in_flight (8).
    @Test("after a pause the backlog starts with one request in flight and ramps up to max_in_flight")
    func rampAfterPause() async throws {
        let topic = BridgeTestCluster.unique("ramp")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
        let log = ArrivalLog()
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in
            _ = log.enter(request)
            try? await Task.sleep(for: .milliseconds(100))
            log.leave()
            return .init(status: 202)
        }) { receiver, port in
            let config = try DeliveryBehaviourTests.config(
                topic: topic, port: port, webhooks: Self.webhook("ramp", port: port, options: "{}"),
                site: "{id: c404, token: c404-test-token-0001, max_in_flight: 8}")
            try await withBridge(config) { bridge in
                let lane = try #require(bridge.engine.lane("ramp"))
                #expect(await lane.apply(.pauseRequested))
                try await produce(StatusTests.events(topic: topic, entities: 60, perEntity: 1))
                #expect(await lane.apply(.enableRequested))
                #expect(await receiver.wait(timeout: .seconds(60)) { $0.count >= 60 })
                #expect(try await Self.concurrencyLimits(bridge, "ramp") == [8, 8], "/status and /metrics show it ramped up")
            }
            let arrivals = log.arrivals
            #expect(arrivals.count == 60)
            #expect(arrivals.prefix(2).map(\.concurrency) == [1, 1], "the first request alone")
            #expect(arrivals.map(\.concurrency).max() == 8)
        }
    }
}

extension ReliabilitySuite {
    /// Convergence is judged on arrival times at the receiver, so it runs in the serialized
    /// phase: on a machine loaded by the parallel phase's dozens of bridges, a 2 ms answer can
    /// take long enough to look like a change in the receiver's capacity.
    @Suite("Reliability: adaptive pace", .serialized)
    struct AdaptivePace {
        /// The receiver takes `capacity` (4) requests at once, each for 2 ms, and answers 429 without
        /// `Retry-After` to any beyond. Defined and checked here:
        /// - settled: from 10 s after the first request on;
        /// - after settling the receiver never has more than `capacity` requests in progress, except
        ///   a single probe (`capacity` + 1, refused) at least `ConcurrencyLimit.firstProbeBackoff`
        ///   (1 minute) after the refusal before it, which is the bridge's promise (a drain shorter
        ///   than a minute after settling sees none);
        /// - fewer than 1 % of all requests are refused, and the webhook is never paused;
        /// - every message is accepted, each entity's in order.
        /// A bridge that probed above the limit every few requests (plain AIMD) fails the first two.
        @Test("adaptive: a receiver that takes 4 at once, 429 beyond: settled within 10 s, under 1 % refused, 20,000 messages drain never above 4 after settling")
        func adaptiveSettles() async throws {
            let topic = BridgeTestCluster.unique("adaptive")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 4)
            let capacity = 4
            let total = 20_000
            let log = ArrivalLog()
            let started = ContinuousClock.now
            try await withReceiver(secret: nil, respond: { request in
                if log.enter(request, capacity: capacity) {
                    log.leave()
                    return .init(status: 429)
                }
                try? await Task.sleep(for: .milliseconds(2))
                log.leave()
                return .init(status: 202)
            }) { receiver, port in
                let config = try DeliveryBehaviourTests.config(
                    topic: topic, port: port, webhooks: PaceBehaviourTests.webhook("adaptive", port: port, options: "{adaptive: true}"),
                    site: "{id: c404, token: c404-test-token-0001, max_in_flight: 16}")
                try await withBridge(config) { bridge in
                    let lane = try #require(bridge.engine.lane("adaptive"))
                    let revision = lane.status.revision
                    try await Reliability.produce(Reliability.events(topic: topic, entities: 2_000, steps: 0..<10), bootstrap: BridgeTestCluster.shared.bootstrapServers)
                    #expect(await receiver.wait(timeout: .seconds(600)) { _ in log.acceptedCount >= total })
                    #expect(lane.status.status == .enabled && lane.status.revision == revision, "never paused")
                    let limits = try await PaceBehaviourTests.concurrencyLimits(bridge, "adaptive")
                    #expect(limits.count == 2 && limits.allSatisfy { (1...capacity).contains($0) }, "/status and /metrics: \(limits)")
                }
                let arrivals = log.arrivals
                let first = try #require(arrivals.first)
                let settled = first.at + .seconds(10)
                let refused = arrivals.filter(\.refused)
                #expect(refused.count * 100 < arrivals.count, "\(refused.count) of \(arrivals.count) refused")
                // After settling, a refusal is only a probe: one request above the limit, a minute or
                // more after the refusal before it.
                var previousRefusal: ContinuousClock.Instant?
                var notProbes: [String] = []
                for arrival in refused {
                    let since = previousRefusal.map { arrival.at - $0 }
                    if arrival.at >= settled, arrival.concurrency != capacity + 1 || since.map({ $0 < ConcurrencyLimit.firstProbeBackoff }) == true {
                        notProbes.append("\(arrival.concurrency) at once, \(since.map { "\($0)" } ?? "-") after the last refusal")
                    }
                    previousRefusal = arrival.at
                }
                #expect(notProbes.isEmpty, "\(notProbes.count) refusals after settling that are no probe, first: \(notProbes.prefix(3))")
                let accepted = receiver.requests.filter { $0.answeredStatus == 202 }
                #expect(Set(accepted.compactMap { $0.header("message_id") }).count == total)
                // First arrivals: a parking for being too slow (max_pending) may send again what was in flight.
                let steps = StatusTests.steps(StatusTests.uniqueInOrder(accepted))
                #expect(steps.count == 2_000 && steps.values.allSatisfy { $0 == Array(0..<10) }, "each entity in order")
                let afterSettling = arrivals.filter { $0.at >= settled }
                print(
                    "PACE adaptive: requests=\(arrivals.count) accepted=\(accepted.count) refused=\(refused.count) refused_after_settling=\(afterSettling.filter(\.refused).count)"
                        + " peak_after_settling=\(afterSettling.map(\.concurrency).max() ?? 0) drain_s=\((arrivals.last!.at - first.at).seconds) total_s=\((ContinuousClock.now - started).seconds)")
            }
        }
    }
}
