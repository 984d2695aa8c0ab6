/// A webhook's pace (DESIGN.md §6): its concurrency limit, its rate limit, a hold after a
/// `Retry-After`, and which push-backs slow the webhook instead of failing a delivery. A value
/// with the clock passed in, kept in the lane's state machine.
///
/// A slowing response (429 or 503 with `options.adaptive`; with `options.rate_limit` alone, one
/// carrying `Retry-After`) does not pause the webhook: its messages go back to their lines,
/// sending holds for the `Retry-After` (at most the site's largest retry interval) and the
/// concurrency limit is cut. Push-backs of requests already in flight at a cut are the same
/// congestion: they are put back too, but not counted. After `retries_until_failure` counted
/// slowdowns with no acknowledgement between them the next push-back is a failed delivery, and
/// the webhook pauses as DESIGN.md §5 says: a receiver that only ever answers 429 gets the
/// retry schedule and the alerts, not an endless stream of requests.
public struct DeliveryPace: Sendable, Equatable {
    public private(set) var limit: ConcurrencyLimit
    public private(set) var bucket: TokenBucket?
    /// No request starts before this.
    public private(set) var holdUntil: ContinuousClock.Instant?
    /// Counted slowdowns since the last acknowledgement.
    public private(set) var slowdowns = 0
    /// Requests that were in flight at the last counted push-back: theirs are not counted again.
    public private(set) var absorbing = 0

    public init(_ options: WebhookOptions) {
        limit = ConcurrencyLimit(adaptive: options.adaptive)
        bucket = options.rateLimit.map(TokenBucket.init(rate:))
    }

    /// Whether either option is set. Without, a push-back is a failure as before.
    public var shapes: Bool { limit.adaptive || bucket != nil }

    /// The options changed (the API or a reload): a setting that changed starts afresh.
    public mutating func configure(_ options: WebhookOptions) {
        if options.adaptive != limit.adaptive { limit = ConcurrencyLimit(adaptive: options.adaptive) }
        if options.rateLimit != bucket?.rate { bucket = options.rateLimit.map(TokenBucket.init(rate:)) }
    }

    /// Requests that may be in flight now.
    public func window(maxInFlight: Int) -> Int { limit.window(maxInFlight: maxInFlight) }

    /// How long until the next request may start: zero now.
    public mutating func wait(now: ContinuousClock.Instant) -> Duration {
        if let holdUntil {
            if now < holdUntil { return holdUntil - now }
            self.holdUntil = nil
        }
        return bucket?.wait(now: now) ?? .zero
    }

    /// A request starts (after `wait` answered zero).
    public mutating func started(now: ContinuousClock.Instant) {
        bucket?.take(now: now)
    }

    /// After a pause: slow start from one request in flight, nothing held or counted.
    public mutating func restart() {
        limit.restart()
        holdUntil = nil
        slowdowns = 0
        absorbing = 0
    }

    /// A request was acknowledged; `inUse`: every request the limit allows was in flight.
    /// One sent before the last cut is no evidence for the limit the cut set: it does not count
    /// towards an increase.
    public mutating func acknowledged(latency: Duration, inUse: Bool, maxInFlight: Int, now: ContinuousClock.Instant) {
        slowdowns = 0
        let sentBeforeCut = absorbing > 0
        if sentBeforeCut { absorbing -= 1 }
        limit.acknowledged(latency: latency, inUse: inUse && !sentBeforeCut, maxInFlight: maxInFlight, now: now)
    }

    /// What a request that was not acknowledged does to the webhook.
    public enum Verdict: Equatable, Sendable {
        /// A failed delivery (DESIGN.md §5).
        case failed
        /// Slowed: its messages go back to their lines, the webhook stays enabled.
        case slowed
    }

    /// The site's settings a push-back depends on.
    public struct Policy: Equatable, Sendable {
        public var maxInFlight: Int
        /// The longest hold: the site's largest retry interval.
        public var longestHold: Duration
        /// Counted slowdowns in a row before a push-back fails: `retries_until_failure`.
        public var slowdownsUntilFailure: Int

        public init(maxInFlight: Int, longestHold: Duration, slowdownsUntilFailure: Int) {
            self.maxInFlight = maxInFlight
            self.longestHold = longestHold
            self.slowdownsUntilFailure = slowdownsUntilFailure
        }
    }

    /// A request ended without an acknowledgement: `status` (nil: no response), its
    /// `Retry-After`, whether it timed out; `inFlight`: the requests still in flight.
    public mutating func notAcknowledged(
        status: Int?, retryAfter: Duration?, timedOut: Bool, inFlight: Int, policy: Policy, now: ContinuousClock.Instant
    ) -> Verdict {
        let busy = status == 429 || status == 503
        let slows = busy && (limit.adaptive || (bucket != nil && retryAfter != nil))
        let congestion = slows || (limit.adaptive && timedOut)
        guard congestion else {
            if absorbing > 0 { absorbing -= 1 }
            return .failed
        }
        if absorbing > 0 {
            absorbing -= 1
        } else {
            if slows, slowdowns >= policy.slowdownsUntilFailure { return .failed }
            limit.cut(maxInFlight: policy.maxInFlight, now: now)
            absorbing = inFlight
            if slows { slowdowns += 1 }
        }
        guard slows else { return .failed }
        if let retryAfter {
            let until = now + min(max(retryAfter, .zero), policy.longestHold)
            holdUntil = max(holdUntil ?? until, until)
        }
        return .slowed
    }
}
