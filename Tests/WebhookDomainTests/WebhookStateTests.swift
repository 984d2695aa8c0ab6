import Foundation
import Testing

@testable import WebhookDomain

/// One test per row of DESIGN.md §5's transition table, plus 410 and Retry-After; time is a
/// plain number of milliseconds passed in.
@Suite("Webhook status and retry state machine")
struct WebhookStateTests {
    static let policy = WebhookState.Policy(
        retryIntervals: [30, 60, 120, 240, 480, 840].map { .seconds($0) }, retriesUntilFailure: 3, messageRetention: .seconds(7 * 86_400))
    static let probe = Probe(sourceTopic: "oms.orders", partition: 1, offset: 42, messageID: "m-42", webhookTopic: "order_state_changed")
    static let failure = DeliveryFailure(status: 500, reason: "HTTP 500")

    /// A webhook paused by a failed delivery at t = 0.
    static func autoPaused() -> WebhookState {
        var state = WebhookState()
        _ = state.apply(.deliveryFailed(probe, failure), policy: policy, now: 0)
        return state
    }

    @Test("enabled, a delivery fails → paused (auto); the message is the probe; retry 1 after retry_intervals[0]")
    func firstFailure() {
        var state = WebhookState()
        let effects = state.apply(.deliveryFailed(Self.probe, Self.failure), policy: Self.policy, now: 1_000)
        #expect(effects.isEmpty)
        #expect(state.status == .paused && state.pause == .auto)
        #expect(state.probe == Self.probe)
        #expect(state.retries == 0)
        #expect(state.nextRetryAtMilliseconds == 31_000)
        #expect(state.lastError == "HTTP 500")
        #expect(!state.isDelivering)
    }

    @Test("paused (auto), retry k < count fails → retry k+1 after retry_intervals[k]")
    func retrySchedule() {
        var state = Self.autoPaused()
        var now: Int64 = 30_000
        for k in 1...5 {
            _ = state.apply(.retryFailed(Self.failure), policy: Self.policy, now: now)
            #expect(state.status == .paused && state.retries == k)
            #expect(state.nextRetryAtMilliseconds == now + Self.policy.retryIntervals[k].milliseconds)
            now = state.nextRetryAtMilliseconds!
        }
    }

    @Test("paused (auto), retry k = retries_until_failure fails → on_failure, once per episode")
    func failureAlertOnce() {
        var state = Self.autoPaused()
        var alerts: [WebhookState.Effect] = []
        for k in 1...5 { alerts += state.apply(.retryFailed(Self.failure), policy: Self.policy, now: Int64(k) * 1_000) }
        #expect(alerts == [.alert(.onFailure)])
        #expect(state.failureAlertSent)
        #expect(state.status == .paused)
    }

    @Test("paused (auto), the last retry fails → disabled with on_deactivation")
    func exhaustion() {
        var state = Self.autoPaused()
        var effects: [WebhookState.Effect] = []
        for k in 1...6 { effects += state.apply(.retryFailed(Self.failure), policy: Self.policy, now: Int64(k) * 1_000) }
        #expect(effects == [.alert(.onFailure), .alert(.onDeactivation)])
        #expect(state.status == .disabled)
        #expect(state.nextRetryAtMilliseconds == nil && state.probe == nil)
        #expect(state.inactiveSinceMilliseconds == 0)
    }

    @Test("paused (auto), a retry is acked → enabled; on_failure_recovered only if on_failure went out; counters reset")
    func recovery() {
        var early = Self.autoPaused()
        _ = early.apply(.retryFailed(Self.failure), policy: Self.policy, now: 1)
        #expect(early.apply(.retryAcked, policy: Self.policy, now: 2).isEmpty)
        #expect(early == WebhookState())

        var late = Self.autoPaused()
        for k in 1...3 { _ = late.apply(.retryFailed(Self.failure), policy: Self.policy, now: Int64(k)) }
        #expect(late.apply(.retryAcked, policy: Self.policy, now: 10) == [.alert(.onFailureRecovered)])
        #expect(late == WebhookState())
        // A new episode may alert again.
        _ = late.apply(.deliveryFailed(Self.probe, Self.failure), policy: Self.policy, now: 20)
        var alerts: [WebhookState.Effect] = []
        for k in 1...3 { alerts += late.apply(.retryFailed(Self.failure), policy: Self.policy, now: 20 + Int64(k)) }
        #expect(alerts == [.alert(.onFailure)])
    }

    @Test("any but dead, API pause / disable → paused (manual) / disabled; no retries", arguments: [WebhookStatus.enabled, .paused, .disabled])
    func manualPauseAndDisable(from status: WebhookStatus) {
        var start = status == .paused ? Self.autoPaused() : WebhookState(status: status)
        if status == .disabled { start.inactiveSinceMilliseconds = 5 }
        var paused = start
        #expect(paused.apply(.pauseRequested, policy: Self.policy, now: 100).isEmpty)
        #expect(paused.status == .paused && paused.pause == .manual)
        #expect(paused.nextRetryAtMilliseconds == nil && paused.probe == nil)
        #expect(paused.inactiveSinceMilliseconds == (status == .enabled ? 100 : start.inactiveSinceMilliseconds))
        // A manual pause is not retried: retry events do nothing.
        #expect(paused.apply(.retryFailed(Self.failure), policy: Self.policy, now: 200).isEmpty)
        #expect(paused.apply(.retryAcked, policy: Self.policy, now: 200).isEmpty)
        #expect(paused.status == .paused)

        var disabled = start
        #expect(disabled.apply(.disableRequested, policy: Self.policy, now: 100).isEmpty)
        #expect(disabled.status == .disabled && disabled.nextRetryAtMilliseconds == nil)
    }

    @Test("paused / disabled, API enable → enabled with counters reset", arguments: [WebhookStatus.paused, .disabled])
    func enable(from status: WebhookStatus) {
        var state = Self.autoPaused()
        for k in 1...3 { _ = state.apply(.retryFailed(Self.failure), policy: Self.policy, now: Int64(k)) }
        if status == .disabled { _ = state.apply(.disableRequested, policy: Self.policy, now: 5) }
        #expect(state.apply(.enableRequested, policy: Self.policy, now: 10).isEmpty)
        #expect(state == WebhookState())
    }

    @Test("paused / disabled longer than message_retention → dead; it cannot be re-enabled", arguments: [WebhookStatus.paused, .disabled])
    func retention(from status: WebhookStatus) {
        var state = WebhookState()
        _ = state.apply(status == .paused ? .pauseRequested : .disableRequested, policy: Self.policy, now: 0)
        let retention = Self.policy.messageRetention.milliseconds
        #expect(state.apply(.tick, policy: Self.policy, now: retention).isEmpty)
        #expect(state.status == status)
        #expect(state.apply(.tick, policy: Self.policy, now: retention + 1) == [.died])
        #expect(state.status == .dead)
        #expect(state.apply(.enableRequested, policy: Self.policy, now: retention + 2).isEmpty)
        #expect(state.apply(.pauseRequested, policy: Self.policy, now: retention + 2).isEmpty)
        #expect(state.status == .dead)
    }

    @Test("created paused or disabled: message_retention counts from its creation", arguments: [WebhookStatus.paused, .disabled])
    func retentionFromCreation(status: WebhookStatus) {
        let retention = Self.policy.messageRetention.milliseconds
        var state = WebhookState(status: status, since: 1_000)
        // A pause through the API later keeps the time it has been inactive since.
        _ = state.apply(.pauseRequested, policy: Self.policy, now: 2_000)
        #expect(state.apply(.tick, policy: Self.policy, now: 1_000 + retention).isEmpty)
        #expect(state.apply(.tick, policy: Self.policy, now: 1_000 + retention + 1) == [.died])
        #expect(state.status == .dead)
        #expect(WebhookState(status: .enabled, since: 1_000).inactiveSinceMilliseconds == nil)
    }

    @Test("an enabled webhook never dies of retention")
    func enabledDoesNotDie() {
        var state = WebhookState()
        #expect(state.apply(.tick, policy: Self.policy, now: Int64.max / 2).isEmpty)
        #expect(state.status == .enabled)
    }

    @Test("410 Gone disables at once with on_deactivation, from a first attempt or a retry")
    func gone() {
        let gone = DeliveryFailure(status: 410, reason: "HTTP 410")
        var first = WebhookState()
        #expect(first.apply(.deliveryFailed(Self.probe, gone), policy: Self.policy, now: 7) == [.alert(.onDeactivation)])
        #expect(first.status == .disabled && first.inactiveSinceMilliseconds == 7)

        var retried = Self.autoPaused()
        #expect(retried.apply(.retryFailed(gone), policy: Self.policy, now: 9) == [.alert(.onDeactivation)])
        #expect(retried.status == .disabled && retried.inactiveSinceMilliseconds == 0)
    }

    @Test("429/503 Retry-After stretches the next wait, capped at the largest interval; shorter values and other statuses do not")
    func retryAfter() {
        let cases: [(DeliveryFailure, Int64)] = [
            (DeliveryFailure(status: 503, retryAfter: .seconds(100), reason: "HTTP 503"), 100_000),
            (DeliveryFailure(status: 429, retryAfter: .seconds(5_000), reason: "HTTP 429"), 840_000),
            (DeliveryFailure(status: 429, retryAfter: .seconds(1), reason: "HTTP 429"), 30_000),
            (DeliveryFailure(status: 500, retryAfter: .seconds(100), reason: "HTTP 500"), 30_000),
        ]
        for (failure, wait) in cases {
            var state = WebhookState()
            _ = state.apply(.deliveryFailed(Self.probe, failure), policy: Self.policy, now: 0)
            #expect(state.nextRetryAtMilliseconds == wait, "\(failure)")
        }
    }

    @Test("a second failure while already paused changes nothing (its message waits in the backlog)")
    func failureWhilePaused() {
        var state = Self.autoPaused()
        let before = state
        var other = Self.probe
        other.offset = 43
        #expect(state.apply(.deliveryFailed(other, Self.failure), policy: Self.policy, now: 5).isEmpty)
        #expect(state == before)
    }

    @Test("the state round-trips through JSON (it is stored in the control topic)")
    func codable() throws {
        var state = Self.autoPaused()
        _ = state.apply(.retryFailed(Self.failure), policy: Self.policy, now: 30_000)
        let data = try JSONEncoder().encode(state)
        #expect(try JSONDecoder().decode(WebhookState.self, from: data) == state)
    }
}
