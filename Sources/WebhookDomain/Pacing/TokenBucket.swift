/// `options.rate_limit` (DESIGN.md §6): a token bucket filling at `rate` tokens a second and
/// holding one second's worth (at least one token), full at the start. A request takes one
/// token, a batch too. The clock is passed in, so it is tested with plain instants.
public struct TokenBucket: Sendable, Equatable {
    /// Requests a second.
    public let rate: Double
    /// The burst: one second's worth.
    public let capacity: Double
    private var tokens: Double
    private var refilledAt: ContinuousClock.Instant?

    /// The longest `wait` answers, in seconds (a rate far below one request a day waits a day
    /// at a time, and the arithmetic stays within `Duration`'s range).
    static let longestWait = 86_400.0

    /// `rate` is `WebhookOptions.validate()`'s: more than 0, at most 10,000.
    public init(rate: Double) {
        self.rate = rate
        capacity = max(1, rate)
        tokens = capacity
    }

    /// How long until a token is there: zero if one is there now.
    public mutating func wait(now: ContinuousClock.Instant) -> Duration {
        refill(now)
        // The tolerance absorbs the rounding of a wait computed from the shortfall.
        if tokens >= 1 - 1e-9 { return .zero }
        return .seconds(min((1 - tokens) / rate, Self.longestWait))
    }

    /// Takes a token (after `wait` answered zero).
    public mutating func take(now: ContinuousClock.Instant) {
        refill(now)
        tokens -= 1
    }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        guard let last = refilledAt else {
            refilledAt = now
            return
        }
        guard now > last else { return }
        tokens = min(capacity, tokens + (now - last).seconds * rate)
        refilledAt = now
    }
}
