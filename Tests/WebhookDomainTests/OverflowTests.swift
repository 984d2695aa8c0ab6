import Testing

@testable import WebhookDomain

/// Values from outside (record timestamps and offsets, control-topic records) never make the
/// arithmetic on them trap (issue 12).
@Suite("No arithmetic on external data traps")
struct OverflowTests {
    static let notificationRouter = Router(
        routes: [Route(source: "oms.notifications", site: .fixed("c404"), topic: .notification("notification"))], sites: [RoutingTests.site])

    static func notification(timestamp: Int64) -> SourceRecord {
        SourceRecord(
            topic: "oms.notifications", partition: 0, offset: 1, key: nil, value: Array(#"{"notification":"email_sent_to_client"}"#.utf8),
            timestampMilliseconds: timestamp)
    }

    @Test("a record timestamped Int64.max - 1 on a delayed notification waits until Int64.max")
    func timestampNearMax() throws {
        guard case .routed(let messages) = Self.notificationRouter.route(Self.notification(timestamp: .max - 1)) else {
            Issue.record("not routed"); return
        }
        #expect(messages.map(\.notBeforeMilliseconds) == [.max])
    }

    @Test("a negative timestamp counts as 0, so `notBefore - now` cannot overflow either")
    func negativeTimestamp() throws {
        guard case .routed(let messages) = Self.notificationRouter.route(Self.notification(timestamp: .min)) else {
            Issue.record("not routed"); return
        }
        #expect(messages.map(\.notBeforeMilliseconds) == [30_000])
    }

    @Test("Duration.milliseconds clamps instead of trapping")
    func durationMilliseconds() {
        #expect(Duration.milliseconds(1_500).milliseconds == 1_500)
        #expect(Duration.seconds(Int64.max).milliseconds == .max)
        #expect(Duration.seconds(Int64.min).milliseconds == .min)
        #expect((Duration.seconds(Int64.max / 1000) + .seconds(1)).milliseconds == .max)
    }

    @Test("the next offset after the broker's largest is the largest (clamped sums)")
    func clampedSums() {
        #expect(Int64.max.clampedAdding(1) == .max)
        #expect(Int64(41).clampedAdding(1) == 42)
        #expect(Int64.min.clampedAdding(-1) == .min)
        #expect(Int64.min.clampedSubtracting(1) == .min)
        #expect(Int64.max.clampedSubtracting(-1) == .max)
        #expect(Int64(5).clampedSubtracting(7) == -2)
        #expect(Int.max.clampedAdding(1) == .max)
    }

    @Test("a status record with a retry count at Int.max: the next failed retry disables, no trap")
    func hugeRetryCount() {
        var state = WebhookStateTests.autoPaused()
        state.retries = .max
        let effects = state.apply(.retryFailed(WebhookStateTests.failure), policy: WebhookStateTests.policy, now: 1_000)
        #expect(effects == [.alert(.onDeactivation)])
        #expect(state.status == .disabled)
    }

    @Test("a status record with a negative retry count: counted from 0, the schedule's interval used")
    func negativeRetryCount() {
        var state = WebhookStateTests.autoPaused()
        state.retries = -5
        _ = state.apply(.retryFailed(WebhookStateTests.failure), policy: WebhookStateTests.policy, now: 1_000)
        #expect(state.retries == 1)
        #expect(state.nextRetryAtMilliseconds == 61_000)
    }

    @Test("a site with no retry intervals (an unchecked site record): the failure retries at once, no trap")
    func noRetryIntervals() {
        var state = WebhookState()
        let policy = WebhookState.Policy(retryIntervals: [], retriesUntilFailure: 1, messageRetention: .seconds(60))
        _ = state.apply(.deliveryFailed(WebhookStateTests.probe, WebhookStateTests.failure), policy: policy, now: 1_000)
        #expect(state.status == .paused && state.nextRetryAtMilliseconds == 1_000)
        _ = state.apply(.retryFailed(WebhookStateTests.failure), policy: policy, now: 2_000)
        #expect(state.status == .disabled)
    }

    @Test("inactive since Int64.min (a status record): retention is measured without overflow")
    func inactiveSinceMin() {
        var state = WebhookState(status: .disabled)
        state.inactiveSinceMilliseconds = .min
        #expect(state.apply(.tick, policy: WebhookStateTests.policy, now: 1_000) == [.died])
        var future = WebhookState(status: .disabled)
        future.inactiveSinceMilliseconds = .max
        #expect(future.apply(.tick, policy: WebhookStateTests.policy, now: -1_000).isEmpty)
    }
}
