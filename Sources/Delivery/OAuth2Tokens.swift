import Foundation
import Synchronization
import WebhookDomain

/// The access tokens of OAuth 2.0 clients (client credentials), asked for once per client and
/// kept until shortly before they expire. Requests that need a token while it is being asked
/// for wait for that one answer.
final class OAuth2Tokens: Sendable {
    /// What a token endpoint answered.
    struct Grant: Sendable, Equatable {
        var accessToken: String
        /// `expires_in`; nil when the endpoint did not say.
        var lifetime: Duration?
    }

    typealias Fetch = @Sendable () async -> Result<Grant, TokenRequestError>

    private struct Token {
        var value: String
        var refreshAt: ContinuousClock.Instant
    }

    private enum Entry {
        case ready(Token)
        case asking(Task<Result<Token, TokenRequestError>, Never>)
    }

    private let entries = Mutex<[OAuth2Client: Entry]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    init(now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.now = now
    }

    /// How long a token whose endpoint gave no lifetime is kept (a 401 drops it sooner).
    static let defaultLifetime = Duration.seconds(3600)

    /// When a token of `lifetime` is asked for again: a fifth of its lifetime early, at most a
    /// minute, so that no request goes out with a token about to expire.
    static func refreshDelay(lifetime: Duration) -> Duration {
        lifetime - min(lifetime / 5, .seconds(60))
    }

    /// The client's token: the kept one while it is fresh, else the one `fetch` gets.
    func token(for client: OAuth2Client, fetch: @escaping Fetch) async -> Result<String, TokenRequestError> {
        let asking: Task<Result<Token, TokenRequestError>, Never>
        switch entries.withLock({ entries in lookUp(client, in: &entries, fetch: fetch) }) {
        case .fresh(let token): return .success(token)
        case .asking(let task): asking = task
        }
        let result = await asking.value
        entries.withLock { entries in
            guard case .asking(let task) = entries[client], task == asking else { return }
            switch result {
            case .success(let token): entries[client] = .ready(token)
            case .failure: entries[client] = nil
            }
        }
        return result.map(\.value)
    }

    private enum Lookup {
        case fresh(String)
        case asking(Task<Result<Token, TokenRequestError>, Never>)
    }

    /// The fresh token, or the request for one (started here unless one is under way).
    private func lookUp(_ client: OAuth2Client, in entries: inout [OAuth2Client: Entry], fetch: @escaping Fetch) -> Lookup {
        switch entries[client] {
        case .ready(let token) where now() < token.refreshAt:
            return .fresh(token.value)
        case .asking(let task):
            return .asking(task)
        case .ready, nil:
            let asked = now()
            let task = Task {
                await fetch().map { Token(value: $0.accessToken, refreshAt: asked + Self.refreshDelay(lifetime: $0.lifetime ?? Self.defaultLifetime)) }
            }
            entries[client] = .asking(task)
            return .asking(task)
        }
    }

    /// The receiver refused `token` (401): it is not used again. A newer token is kept.
    func discard(_ token: String, of client: OAuth2Client) {
        entries.withLock { entries in
            if case .ready(let kept) = entries[client], kept.value == token { entries[client] = nil }
        }
    }

    /// Reads a token endpoint's JSON answer (RFC 6749 §5.1).
    static func grant(from body: [UInt8]) -> Grant? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
            let token = object["access_token"] as? String, !token.isEmpty, token.utf8.count <= 8_192,
            !token.contains(where: { $0.isWhitespace || $0.isNewline })
        else { return nil }
        if let type = object["token_type"] as? String, type.lowercased() != "bearer" { return nil }
        let seconds = (object["expires_in"] as? NSNumber)?.doubleValue ?? (object["expires_in"] as? String).flatMap(Double.init)
        return Grant(accessToken: token, lifetime: seconds.flatMap { $0 > 0 ? DurationText.seconds(min($0, 366 * 86_400)) : nil })
    }
}

/// Why no token came: for the operator's log line only (it may name the endpoint's host).
struct TokenRequestError: Error, Sendable, Equatable {
    var detail: String
}
