import Testing

@testable import WebhookDomain

/// Values at the edges of what a broker or another instance may hand over (issue 12).
@Suite("Edges of the domain values")
struct EdgeValueTests {
    @Test("an offset below the last one opened is refused and leaves the window as it was; the same offset again adds deliveries")
    func offsetWindowGoingBack() {
        var window = OffsetWindow()
        let opened = [window.open(10), window.open(11), window.open(11)]
        #expect(opened == [true, true, true])
        let before = window
        let back = window.open(9)
        #expect(!back)
        #expect(window == before)
        let atMax = window.open(.max)
        #expect(!atMax, "one past Int64.max cannot be represented")
        let lows = [window.close(10), window.close(11), window.close(11)]
        #expect(lows == [11, nil, 12])
    }

    static let policy = WebhookState.Policy(retryIntervals: [.seconds(1), .seconds(2), .seconds(4)], retriesUntilFailure: 2, messageRetention: .seconds(86_400))
    static let probe = Probe(sourceTopic: "oms.orders", partition: 0, offset: 5, messageID: "m-5", webhookTopic: "order_state_changed")

    static func autoPaused() -> WebhookState {
        var state = WebhookState()
        _ = state.apply(.deliveryFailed(probe, DeliveryFailure(status: 500, reason: "HTTP 500")), policy: policy, now: 0)
        _ = state.apply(.retryFailed(DeliveryFailure(status: 500, reason: "HTTP 500")), policy: policy, now: 1_000)
        return state
    }

    @Test("paused (auto), the probe cannot be sent again and there is a next message → it is the probe, on the same schedule")
    func probeReplaced() {
        var state = Self.autoPaused()
        let next = Probe(sourceTopic: "oms.orders", partition: 0, offset: 9, messageID: "m-9", webhookTopic: "order_state_changed")
        let effects = state.apply(.probeUnavailable(next: next), policy: Self.policy, now: 1_500)
        #expect(effects.isEmpty)
        #expect(state.status == .paused && state.pause == .auto)
        #expect(state.probe == next)
        #expect(state.retries == 1)
        #expect(state.nextRetryAtMilliseconds == 3_000)
    }

    @Test("paused (auto), the probe cannot be sent again and nothing follows it → the episode ends, enabled, no alert")
    func probeEpisodeEnds() {
        var state = Self.autoPaused()
        let effects = state.apply(.probeUnavailable(next: nil), policy: Self.policy, now: 1_500)
        #expect(effects.isEmpty)
        #expect(state.status == .enabled && state.probe == nil && state.retries == 0 && state.pause == nil)
    }

    @Test("a probe replacement does not touch a webhook paused through the API")
    func probeReplacementIgnoredWhenManual() {
        var state = WebhookState(status: .paused)
        let before = state
        let effects = state.apply(.probeUnavailable(next: nil), policy: Self.policy, now: 1)
        #expect(effects.isEmpty)
        #expect(state == before)
    }

    @Test("the state in effect: an automatic state counts only if computed on top of the last API change")
    func effectiveState() {
        var requested = WebhookState(status: .paused)
        requested.basis = "api-2"
        var onTop = Self.autoPaused()
        onTop.basis = "api-2"
        var stale = Self.autoPaused()
        stale.basis = "api-1"
        var unbased = Self.autoPaused()
        unbased.basis = nil
        #expect(WebhookState.effective(requested: nil, automatic: nil) == nil)
        #expect(WebhookState.effective(requested: nil, automatic: unbased) == unbased)
        #expect(WebhookState.effective(requested: requested, automatic: nil) == requested)
        #expect(WebhookState.effective(requested: requested, automatic: stale) == requested, "a retry computed before the pause is set aside")
        #expect(WebhookState.effective(requested: requested, automatic: unbased) == requested)
        #expect(WebhookState.effective(requested: requested, automatic: onTop) == onTop)
    }

    @Test("a lane adopts any state that follows another API change, and within one, the same or a higher revision")
    func superseded() {
        var local = Self.autoPaused()
        local.revision = 7
        local.basis = "api-1"
        var requested = WebhookState(status: .paused)
        requested.revision = 3
        requested.basis = "api-2"
        #expect(local.isSuperseded(by: requested), "a new API change wins whatever the revisions")
        var older = local
        older.revision = 6
        older.retries = 0
        #expect(!local.isSuperseded(by: older))
        var newer = local
        newer.revision = 8
        newer.retries = 2
        #expect(local.isSuperseded(by: newer))
        #expect(!local.isSuperseded(by: local))
    }
}
