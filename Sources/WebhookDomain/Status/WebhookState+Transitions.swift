/// The transitions of DESIGN.md §5 as a value: events in, a new state and effects out, with the
/// time passed in (no clock inside), so every row is tested as plain values.
extension WebhookState {
    public enum Event: Equatable, Sendable {
        /// A message's delivery failed while the webhook was enabled: it becomes the probe.
        case deliveryFailed(Probe, DeliveryFailure)
        /// The probe's retry failed.
        case retryFailed(DeliveryFailure)
        /// The probe's retry was acknowledged.
        case retryAcked
        /// The probe cannot be sent again (its record no longer routes to this webhook, or
        /// retention removed it): `next`, the webhook's next message, takes its place on the same
        /// schedule; without one the episode ends and the webhook is enabled (no alert: nothing
        /// was acknowledged).
        case probeUnavailable(next: Probe?)
        /// API: pause (manual), disable, enable.
        case pauseRequested
        case disableRequested
        case enableRequested
        /// Time passes: checks `message_retention`.
        case tick
    }

    public enum Effect: Equatable, Sendable {
        case alert(AlertKind)
        /// Paused or disabled longer than `message_retention`: its cursors are dropped.
        case died
    }

    /// The site settings the transitions depend on.
    public struct Policy: Equatable, Sendable {
        public var retryIntervals: [Duration]
        public var retriesUntilFailure: Int
        public var messageRetention: Duration

        public init(retryIntervals: [Duration], retriesUntilFailure: Int, messageRetention: Duration) {
            self.retryIntervals = retryIntervals
            self.retriesUntilFailure = retriesUntilFailure
            self.messageRetention = messageRetention
        }

        public init(site: Site) {
            self.init(retryIntervals: site.retryIntervals, retriesUntilFailure: site.retriesUntilFailure, messageRetention: site.messageRetention)
        }

        /// The wait before retry `k + 1` (k failed retries so far): `retry_intervals[k]`, stretched
        /// to a 429/503 `Retry-After` but never past the largest interval.
        func wait(afterRetries k: Int, _ failure: DeliveryFailure) -> Duration {
            // `k` may come from a status record written elsewhere: kept within the list.
            guard let last = retryIntervals.indices.last else { return .zero }
            let interval = retryIntervals[min(max(k, 0), last)]
            guard let retryAfter = failure.retryAfter, failure.status == 429 || failure.status == 503 else { return interval }
            return max(interval, min(retryAfter, retryIntervals.max() ?? interval))
        }
    }

    /// Applies an event at `now` (milliseconds since the epoch) and returns its effects.
    /// Events that do not apply to the current state change nothing. A dead webhook never changes.
    public mutating func apply(_ event: Event, policy: Policy, now: Int64) -> [Effect] {
        guard status != .dead else { return [] }
        switch event {
        case .deliveryFailed(let probe, let failure):
            guard status == .enabled else { return [] }
            lastError = failure.reason
            if failure.status == 410 { return deactivate(now: now) }
            status = .paused
            pause = .auto
            retries = 0
            self.probe = probe
            nextRetryAtMilliseconds = now.clampedAdding(policy.wait(afterRetries: 0, failure).milliseconds)
            inactiveSinceMilliseconds = now
            return []

        case .retryFailed(let failure):
            guard status == .paused, pause == .auto else { return [] }
            lastError = failure.reason
            if failure.status == 410 { return deactivate(now: now) }
            // A status record from the control topic may hold any count.
            retries = max(retries, 0).clampedAdding(1)
            var effects: [Effect] = []
            if retries == policy.retriesUntilFailure, !failureAlertSent {
                failureAlertSent = true
                effects.append(.alert(.onFailure))
            }
            if retries >= policy.retryIntervals.count {
                return effects + deactivate(now: now)
            }
            nextRetryAtMilliseconds = now.clampedAdding(policy.wait(afterRetries: retries, failure).milliseconds)
            return effects

        case .retryAcked:
            guard status == .paused, pause == .auto else { return [] }
            let recovered = failureAlertSent
            reset(to: .enabled)
            return recovered ? [.alert(.onFailureRecovered)] : []

        case .probeUnavailable(let next):
            guard status == .paused, pause == .auto else { return [] }
            if let next {
                probe = next
            } else {
                reset(to: .enabled)
            }
            return []

        case .pauseRequested:
            let wasActive = status == .enabled
            clearRetry()
            status = .paused
            pause = .manual
            if wasActive { inactiveSinceMilliseconds = now }
            return []

        case .disableRequested:
            let wasActive = status == .enabled
            clearRetry()
            status = .disabled
            pause = nil
            if wasActive { inactiveSinceMilliseconds = now }
            return []

        case .enableRequested:
            guard status != .enabled else { return [] }
            reset(to: .enabled)
            return []

        case .tick:
            guard status == .paused || status == .disabled, let since = inactiveSinceMilliseconds,
                now.clampedSubtracting(since) > policy.messageRetention.milliseconds
            else { return [] }
            clearRetry()
            status = .dead
            pause = nil
            return [.died]
        }
    }

    private mutating func deactivate(now: Int64) -> [Effect] {
        clearRetry()
        status = .disabled
        pause = nil
        if inactiveSinceMilliseconds == nil { inactiveSinceMilliseconds = now }
        return [.alert(.onDeactivation)]
    }

    private mutating func clearRetry() {
        probe = nil
        nextRetryAtMilliseconds = nil
        retries = 0
        failureAlertSent = false
    }

    private mutating func reset(to status: WebhookStatus) {
        clearRetry()
        self.status = status
        pause = nil
        inactiveSinceMilliseconds = nil
        lastError = nil
    }
}
