import Synchronization

/// What the admin API keeps between requests: failed authentications per client
/// (`AuthFailureLimit`).
final class AdminGuards: Sendable {
    private let authFailures: Mutex<AuthFailureLimit>

    init(authFailures: AuthFailureLimit = AuthFailureLimit()) {
        self.authFailures = Mutex(authFailures)
    }

    /// How long `client` is still refused after too many failed authentications, or nil.
    func refusal(_ client: String, now: ContinuousClock.Instant = .now) -> Duration? {
        authFailures.withLock { $0.refusal(client, now: now) }
    }

    /// `client` gave a token that matches no site; true when this starts a refusal.
    func failed(_ client: String, now: ContinuousClock.Instant = .now) -> Bool {
        authFailures.withLock { $0.failed(client, now: now) }
    }
}
