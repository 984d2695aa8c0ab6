import Foundation
import Synchronization
import Testing
import WebhookDomain

@testable import Delivery

/// The OAuth 2.0 token cache: one token request per client while the token is fresh, shared by
/// concurrent requests; asked again shortly before expiry and after a 401; failures not kept.
@Suite("OAuth 2.0 tokens")
struct OAuth2TokensTests {
    static let client = OAuth2Client(tokenURL: "https://auth.example/token", clientID: "bridge", clientSecret: "secret")

    /// A clock the test moves, and a token endpoint that counts its requests.
    final class Endpoint: Sendable {
        let clock = Mutex(ContinuousClock.now)
        let requests = Atomic(0)
        let lifetime: Duration?
        init(lifetime: Duration?) { self.lifetime = lifetime }

        var now: @Sendable () -> ContinuousClock.Instant { { self.clock.withLock { $0 } } }
        func advance(_ duration: Duration) { clock.withLock { $0 += duration } }

        func fetch() -> Result<OAuth2Tokens.Grant, TokenRequestError> {
            let count = requests.add(1, ordering: .relaxed).newValue
            return .success(.init(accessToken: "tok-\(count)", lifetime: lifetime))
        }
    }

    @Test("kept until a fifth of its lifetime (at most a minute) before expiry, then asked for again")
    func refreshBeforeExpiry() async throws {
        let endpoint = Endpoint(lifetime: .seconds(3600))
        let tokens = OAuth2Tokens(now: endpoint.now)
        #expect(try await tokens.token(for: Self.client) { endpoint.fetch() }.get() == "tok-1")
        endpoint.advance(.seconds(3539))
        #expect(try await tokens.token(for: Self.client) { endpoint.fetch() }.get() == "tok-1")
        endpoint.advance(.seconds(1))
        #expect(try await tokens.token(for: Self.client) { endpoint.fetch() }.get() == "tok-2", "a minute before expiry")
        #expect(OAuth2Tokens.refreshDelay(lifetime: .seconds(100)) == .seconds(80), "a fifth early for short lifetimes")
        #expect(endpoint.requests.load(ordering: .relaxed) == 2)
    }

    @Test("requests that need a token while it is asked for share the one answer")
    func concurrentShareOneRequest() async throws {
        let endpoint = Endpoint(lifetime: nil)
        let tokens = OAuth2Tokens(now: endpoint.now)
        let (started, fetching) = AsyncStream<Void>.makeStream()
        let (gate, open) = AsyncStream<Void>.makeStream()
        let results = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                try? await tokens.token(for: Self.client) {
                    fetching.yield()
                    for await _ in gate { break }
                    return endpoint.fetch()
                }.get()
            }
            for await _ in started { break }
            // The first request is under way: these join it, or find its token kept.
            for _ in 0..<20 {
                group.addTask { try? await tokens.token(for: Self.client) { endpoint.fetch() }.get() }
            }
            open.yield()
            return await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: "tok-1", count: 21))
        #expect(endpoint.requests.load(ordering: .relaxed) == 1)
    }

    @Test("a discarded token is asked for again; discarding an older token keeps the newer; a failed request is not kept")
    func discardAndFailure() async throws {
        let endpoint = Endpoint(lifetime: .seconds(3600))
        let tokens = OAuth2Tokens(now: endpoint.now)
        #expect(try await tokens.token(for: Self.client) { endpoint.fetch() }.get() == "tok-1")
        tokens.discard("tok-1", of: Self.client)
        #expect(try await tokens.token(for: Self.client) { endpoint.fetch() }.get() == "tok-2")
        tokens.discard("tok-1", of: Self.client)
        #expect(try await tokens.token(for: Self.client) { endpoint.fetch() }.get() == "tok-2", "a late 401 of the old token keeps the new one")
        let other = OAuth2Client(tokenURL: "https://auth.example/token", clientID: "other", clientSecret: "secret")
        let failed = await tokens.token(for: other) { .failure(TokenRequestError(detail: "HTTP 500")) }
        #expect(failed == .failure(TokenRequestError(detail: "HTTP 500")))
        #expect(try await tokens.token(for: other) { endpoint.fetch() }.get() == "tok-3", "the failure was not kept")
    }

    @Test("the token endpoint's answer: a bearer access_token, expires_in as a number or a string; anything else is no grant")
    func grantParsing() {
        let grant = { (json: String) in OAuth2Tokens.grant(from: Array(json.utf8)) }
        #expect(grant(#"{"access_token":"a.b-c","token_type":"Bearer","expires_in":300}"#) == .init(accessToken: "a.b-c", lifetime: .seconds(300)))
        #expect(grant(#"{"access_token":"t","token_type":"bearer","expires_in":"60"}"#) == .init(accessToken: "t", lifetime: .seconds(60)))
        #expect(grant(#"{"access_token":"t"}"#) == .init(accessToken: "t", lifetime: nil))
        #expect(grant(#"{"access_token":"t","token_type":"mac"}"#) == nil)
        #expect(grant(#"{"access_token":"two words"}"#) == nil)
        #expect(grant(#"{"error":"invalid_client"}"#) == nil)
        #expect(grant("not json") == nil)
    }
}
