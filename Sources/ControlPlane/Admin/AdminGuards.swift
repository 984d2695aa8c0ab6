import Synchronization

/// What the admin API keeps between requests: failed authentications per client
/// (`AuthFailureLimit`) and the webhooks whose replay this instance is setting up, so that two
/// replays of one webhook asked together are not both accepted.
final class AdminGuards: Sendable {
    private let authFailures: Mutex<AuthFailureLimit>
    private let replaysStarting = Mutex<Set<String>>([])

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

    /// Marks a replay of `webhookID` as being set up here; false when one already is.
    func beginReplay(_ webhookID: String) -> Bool {
        replaysStarting.withLock { $0.insert(webhookID).inserted }
    }

    func endReplay(_ webhookID: String) {
        _ = replaysStarting.withLock { $0.remove(webhookID) }
    }
}
