/// Failed authentications per client address (DESIGN.md §10), as a value with the clock passed
/// in: at most `maxFailures` in any `window`. Once an address has that many, every request of it
/// that needs a token is refused (429, `Retry-After`) until its oldest failure leaves the window,
/// so a client cannot go on guessing tokens, not even with a correct one in between.
///
/// A failure is a token that matches no site (401); a missing token and another site's token
/// (403) are not guesses and do not count. At most `maxClients` addresses are remembered; past
/// that the one whose last failure is oldest is forgotten first.
struct AuthFailureLimit {
    let maxFailures: Int
    let window: Duration
    let maxClients: Int
    /// Each client's failures still in the window, oldest first (at most `maxFailures`).
    private(set) var failures: [String: [ContinuousClock.Instant]] = [:]

    init(maxFailures: Int = 10, window: Duration = .seconds(60), maxClients: Int = 10_000) {
        self.maxFailures = maxFailures
        self.window = window
        self.maxClients = maxClients
    }

    /// How long `client` is still refused, or nil when it may try.
    mutating func refusal(_ client: String, now: ContinuousClock.Instant) -> Duration? {
        forgetExpired(client, now: now)
        guard let times = failures[client], times.count >= maxFailures, let oldest = times.first else { return nil }
        return oldest + window - now
    }

    /// `client` gave a token that matches no site. Returns true when this failure starts a
    /// refusal (for a log line once per episode).
    mutating func failed(_ client: String, now: ContinuousClock.Instant) -> Bool {
        forgetExpired(client, now: now)
        if failures[client] == nil, failures.count >= maxClients { makeRoom(now: now) }
        var times = failures[client] ?? []
        times.append(now)
        if times.count > maxFailures { times.removeFirst(times.count - maxFailures) }
        failures[client] = times
        return times.count == maxFailures
    }

    private mutating func forgetExpired(_ client: String, now: ContinuousClock.Instant) {
        guard var times = failures[client] else { return }
        times.removeAll { $0 + window <= now }
        failures[client] = times.isEmpty ? nil : times
    }

    /// Forgets every client whose failures all left the window and, if that frees nothing, the
    /// one whose last failure is oldest.
    private mutating func makeRoom(now: ContinuousClock.Instant) {
        failures = failures.filter { $0.value.contains { $0 + window > now } }
        if failures.count >= maxClients, let stalest = failures.min(by: { ($0.value.last ?? now) < ($1.value.last ?? now) })?.key {
            failures[stalest] = nil
        }
    }
}
