import Testing

@testable import ControlPlane

/// `AuthFailureLimit` as a value with the clock passed in: the count, the window, the clients
/// apart, the memory bound.
@Suite("Failed authentications per client")
struct AuthFailureLimitTests {
    static let start = ContinuousClock.now

    /// The limit and the time since `start`, so that each step reads as one line (a class: the
    /// `#expect` macro calls methods on an immutable copy of a value).
    final class Clocked {
        var limit: AuthFailureLimit
        init(limit: AuthFailureLimit) { self.limit = limit }

        func refusal(_ client: String, at time: Duration) -> Duration? { limit.refusal(client, now: AuthFailureLimitTests.start + time) }
        func failed(_ client: String, at time: Duration) -> Bool { limit.failed(client, now: AuthFailureLimitTests.start + time) }
    }

    @Test("the tenth failure within the window starts a refusal that lasts until the oldest failure leaves it")
    func refusedUntilTheWindowPasses() {
        let limit = Clocked(limit: AuthFailureLimit(maxFailures: 10, window: .seconds(60)))
        for second in 0..<9 {
            #expect(limit.refusal("10.0.0.1", at: .seconds(second)) == nil)
            #expect(!limit.failed("10.0.0.1", at: .seconds(second)))
        }
        #expect(limit.failed("10.0.0.1", at: .seconds(9)), "the tenth starts the refusal")
        #expect(limit.refusal("10.0.0.1", at: .seconds(10)) == .seconds(50))
        #expect(limit.refusal("10.0.0.1", at: .milliseconds(59_999)) == .milliseconds(1))
        // The first failure left the window: one more try (and a failure refuses again at once).
        #expect(limit.refusal("10.0.0.1", at: .seconds(60)) == nil)
        #expect(limit.failed("10.0.0.1", at: .seconds(60)))
        #expect(limit.refusal("10.0.0.1", at: .seconds(60)) == .seconds(1))
        // All of them gone after a quiet window.
        #expect(limit.refusal("10.0.0.1", at: .seconds(120)) == nil)
        #expect(limit.limit.failures.isEmpty)
    }

    @Test("failures spread wider than the window never refuse")
    func slowFailures() {
        let limit = Clocked(limit: AuthFailureLimit(maxFailures: 3, window: .seconds(60)))
        for minute in 0..<10 {
            #expect(limit.refusal("10.0.0.1", at: .seconds(minute * 31)) == nil)
            #expect(!limit.failed("10.0.0.1", at: .seconds(minute * 31)))
        }
    }

    @Test("clients are counted apart")
    func clientsApart() {
        let limit = Clocked(limit: AuthFailureLimit(maxFailures: 2, window: .seconds(60)))
        _ = limit.failed("10.0.0.1", at: .zero)
        _ = limit.failed("10.0.0.1", at: .zero)
        #expect(limit.refusal("10.0.0.1", at: .zero) != nil)
        #expect(limit.refusal("10.0.0.2", at: .zero) == nil)
        #expect(limit.refusal("unknown", at: .zero) == nil)
    }

    @Test("at most maxClients clients are remembered: the expired ones go first, then the stalest")
    func boundedMemory() {
        let limit = Clocked(limit: AuthFailureLimit(maxFailures: 2, window: .seconds(60), maxClients: 3))
        _ = limit.failed("a", at: .zero)
        _ = limit.failed("b", at: .seconds(10))
        _ = limit.failed("c", at: .seconds(20))
        _ = limit.failed("d", at: .seconds(30))
        #expect(Set(limit.limit.failures.keys) == ["b", "c", "d"])
        _ = limit.failed("e", at: .seconds(75))
        // a expired long ago, b at 70 s: both left; c and d are still within the window.
        #expect(Set(limit.limit.failures.keys) == ["c", "d", "e"])
    }
}
