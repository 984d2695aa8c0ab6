import Testing

@testable import WebhookDomain

/// `TokenBucket`, `ConcurrencyLimit` and `DeliveryPace` as values, with the time passed in.
@Suite("A webhook's pace: rate limit, adaptive concurrency, slow start")
struct PaceTests {
    static let t0 = ContinuousClock.now
    static func at(_ milliseconds: Int) -> ContinuousClock.Instant { t0 + .milliseconds(milliseconds) }

    // MARK: - TokenBucket

    @Test("token bucket: full at the start with one second's worth, then one token every 1/rate")
    func bucketRefill() {
        var bucket = TokenBucket(rate: 10)
        for _ in 0..<10 {
            #expect(bucket.wait(now: Self.at(0)) == .zero)
            bucket.take(now: Self.at(0))
        }
        #expect(bucket.wait(now: Self.at(0)) == .milliseconds(100))
        #expect(bucket.wait(now: Self.at(40)) == .milliseconds(60))
        #expect(bucket.wait(now: Self.at(100)) == .zero)
        bucket.take(now: Self.at(100))
        #expect(bucket.wait(now: Self.at(150)) == .milliseconds(50))
    }

    @Test("token bucket: refills to one second's worth at most; below one a second it holds one token")
    func bucketBurst() {
        var bucket = TokenBucket(rate: 4)
        for _ in 0..<4 { bucket.take(now: Self.at(0)) }
        // An hour idle gives back the burst, not 14,400 tokens.
        var taken = 0
        while bucket.wait(now: Self.at(3_600_000)) == .zero {
            bucket.take(now: Self.at(3_600_000))
            taken += 1
        }
        #expect(taken == 4)

        var slow = TokenBucket(rate: 0.5)
        #expect(slow.capacity == 1)
        #expect(slow.wait(now: Self.at(0)) == .zero)
        slow.take(now: Self.at(0))
        #expect(slow.wait(now: Self.at(0)) == .seconds(2))
        #expect(slow.wait(now: Self.at(10_000)) == .zero)
        slow.take(now: Self.at(10_000))
        #expect(slow.wait(now: Self.at(10_000)) == .seconds(2))
    }

    @Test("token bucket: time going backwards changes nothing; a rate far below one a day waits a day at a time")
    func bucketEdges() {
        var bucket = TokenBucket(rate: 1)
        bucket.take(now: Self.at(0))
        #expect(bucket.wait(now: Self.at(500)) == .milliseconds(500))
        #expect(bucket.wait(now: Self.at(100)) == .milliseconds(500))
        var tiny = TokenBucket(rate: .leastNormalMagnitude)
        tiny.take(now: Self.at(0))
        #expect(tiny.wait(now: Self.at(0)) == .seconds(86_400))
    }

    // MARK: - ConcurrencyLimit

    @Test("fixed: max_in_flight at the start; after a pause, 1, plus one per acknowledgement, up to max_in_flight")
    func fixedRamp() {
        var limit = ConcurrencyLimit(adaptive: false)
        #expect(limit.current == nil && limit.window(maxInFlight: 8) == 8)
        limit.restart()
        var windows: [Int] = []
        for _ in 0..<9 {
            windows.append(limit.window(maxInFlight: 8))
            limit.acknowledged(latency: .milliseconds(5), inUse: false, maxInFlight: 8, now: Self.at(0))
        }
        #expect(windows == [1, 2, 3, 4, 5, 6, 7, 8, 8])
        #expect(limit.current == nil, "at max_in_flight there is nothing more to compute")
        // A smaller max_in_flight (a site change) bounds it at once.
        limit.restart()
        #expect(limit.window(maxInFlight: 0) == 1)
    }

    @Test("fixed: a cut halves the limit, and it slow-starts back to max_in_flight")
    func fixedCut() {
        var limit = ConcurrencyLimit(adaptive: false)
        limit.cut(maxInFlight: 8, now: Self.at(0))
        #expect(limit.window(maxInFlight: 8) == 4)
        #expect(limit.ceiling == nil)
        for _ in 0..<4 { limit.acknowledged(latency: .zero, inUse: false, maxInFlight: 8, now: Self.at(0)) }
        #expect(limit.current == nil)
    }

    @Test("adaptive: starts at 1 and slow-starts until the first cut; a cut halves and remembers the level")
    func adaptiveSlowStartAndCut() {
        var limit = ConcurrencyLimit(adaptive: true)
        #expect(limit.window(maxInFlight: 16) == 1)
        for _ in 0..<4 { limit.acknowledged(latency: .milliseconds(5), inUse: true, maxInFlight: 16, now: Self.at(0)) }
        #expect(limit.window(maxInFlight: 16) == 5)
        limit.cut(maxInFlight: 16, now: Self.at(1_000))
        #expect(limit.window(maxInFlight: 16) == 2)
        #expect(limit.ceiling == 5 && limit.threshold == 2)
        #expect(limit.probeNotBefore == Self.at(1_000) + ConcurrencyLimit.firstProbeBackoff)
        // Never below 1.
        for _ in 0..<3 { limit.cut(maxInFlight: 16, now: Self.at(1_000)) }
        #expect(limit.window(maxInFlight: 16) == 1)
    }

    @Test("adaptive: additive increase only after a full round of acknowledgements at the limit with latency holding")
    func adaptiveIncrease() {
        var limit = ConcurrencyLimit(adaptive: true)
        for _ in 0..<7 { limit.acknowledged(latency: .milliseconds(20), inUse: true, maxInFlight: 16, now: Self.at(0)) }
        limit.cut(maxInFlight: 16, now: Self.at(0))
        #expect(limit.window(maxInFlight: 16) == 4)
        // Not in use: the limit is not what holds the requests back, so it does not grow.
        for _ in 0..<20 { limit.acknowledged(latency: .milliseconds(20), inUse: false, maxInFlight: 16, now: Self.at(10)) }
        #expect(limit.window(maxInFlight: 16) == 4)
        // Latency beyond twice the baseline plus 10 ms does not count.
        for _ in 0..<20 { limit.acknowledged(latency: .milliseconds(80), inUse: true, maxInFlight: 16, now: Self.at(10)) }
        #expect(limit.window(maxInFlight: 16) == 4)
        // A round of 4 at the limit: one more.
        for _ in 0..<3 { limit.acknowledged(latency: .milliseconds(20), inUse: true, maxInFlight: 16, now: Self.at(10)) }
        #expect(limit.window(maxInFlight: 16) == 4)
        limit.acknowledged(latency: .milliseconds(20), inUse: true, maxInFlight: 16, now: Self.at(10))
        #expect(limit.window(maxInFlight: 16) == 5)
    }

    @Test("adaptive: stays below the level it was cut at until the probe backoff passed; a refused probe doubles the backoff, one that holds forgets the ceiling")
    func adaptiveCeiling() {
        var limit = ConcurrencyLimit(adaptive: true)
        for _ in 0..<4 { limit.acknowledged(latency: .milliseconds(5), inUse: true, maxInFlight: 16, now: Self.at(0)) }
        limit.cut(maxInFlight: 16, now: Self.at(0))  // at 5: ceiling 5, limit 2
        func rounds(_ count: Int, at now: Int) {
            for _ in 0..<count { limit.acknowledged(latency: .milliseconds(5), inUse: true, maxInFlight: 16, now: Self.at(now)) }
        }
        rounds(1_000, at: 59_000)
        #expect(limit.window(maxInFlight: 16) == 4, "below the ceiling until a minute has passed")
        rounds(4, at: 60_000)
        #expect(limit.window(maxInFlight: 16) == 5, "the probe")
        limit.cut(maxInFlight: 16, now: Self.at(60_001))
        #expect(limit.ceiling == 5 && limit.probeBackoff == .seconds(120))
        rounds(1_000, at: 179_000)
        #expect(limit.window(maxInFlight: 16) == 4)
        rounds(4, at: 180_001)
        #expect(limit.window(maxInFlight: 16) == 5)
        rounds(5, at: 180_002)
        #expect(limit.ceiling == nil && limit.window(maxInFlight: 16) == 6, "the probe held for a round: the receiver takes more now")
        // The backoff stops growing at 30 minutes.
        var refused = ConcurrencyLimit(adaptive: true)
        refused.acknowledged(latency: .zero, inUse: true, maxInFlight: 2, now: Self.at(0))
        for _ in 0..<10 {
            refused.cut(maxInFlight: 2, now: Self.at(0))
            refused.restart()
            refused.acknowledged(latency: .zero, inUse: true, maxInFlight: 2, now: Self.at(10_000_000))
        }
        #expect(refused.probeBackoff == ConcurrencyLimit.longestProbeBackoff)
    }

    @Test("adaptive: never above max_in_flight")
    func adaptiveBound() {
        var limit = ConcurrencyLimit(adaptive: true)
        for _ in 0..<1_000 { limit.acknowledged(latency: .milliseconds(5), inUse: true, maxInFlight: 3, now: Self.at(0)) }
        #expect(limit.window(maxInFlight: 3) == 3 && limit.current == 3)
        #expect(limit.window(maxInFlight: 2) == 2, "a site's smaller max_in_flight bounds it at once")
    }

    // MARK: - DeliveryPace

    static let policy = DeliveryPace.Policy(maxInFlight: 8, longestHold: .seconds(840), slowdownsUntilFailure: 3)

    static func options(rateLimit: Double? = nil, adaptive: Bool = false) -> WebhookOptions {
        var options = WebhookOptions()
        options.rateLimit = rateLimit
        options.adaptive = adaptive
        return options
    }

    @Test("neither option: nothing shapes, nothing waits, max_in_flight")
    func noOptions() {
        var pace = DeliveryPace(Self.options())
        #expect(!pace.shapes)
        #expect(pace.wait(now: Self.at(0)) == .zero)
        #expect(pace.window(maxInFlight: 8) == 8)
    }

    @Test("rate_limit: a 429 with Retry-After slows (hold, cut); without Retry-After, or another status, it fails")
    func rateLimitPushBack() {
        var pace = DeliveryPace(Self.options(rateLimit: 100))
        #expect(pace.shapes)
        #expect(pace.notAcknowledged(status: 429, retryAfter: nil, timedOut: false, inFlight: 0, policy: Self.policy, now: Self.at(0)) == .failed)
        #expect(pace.notAcknowledged(status: 500, retryAfter: .seconds(5), timedOut: false, inFlight: 0, policy: Self.policy, now: Self.at(0)) == .failed)
        #expect(pace.notAcknowledged(status: nil, retryAfter: nil, timedOut: true, inFlight: 0, policy: Self.policy, now: Self.at(0)) == .failed)
        #expect(pace.window(maxInFlight: 8) == 8)
        #expect(pace.notAcknowledged(status: 429, retryAfter: .seconds(5), timedOut: false, inFlight: 0, policy: Self.policy, now: Self.at(0)) == .slowed)
        #expect(pace.window(maxInFlight: 8) == 4)
        #expect(pace.wait(now: Self.at(1_000)) == .seconds(4))
        #expect(pace.wait(now: Self.at(5_000)) == .zero)
        // The hold is at most the site's largest retry interval.
        _ = pace.notAcknowledged(status: 429, retryAfter: .seconds(86_400), timedOut: false, inFlight: 0, policy: Self.policy, now: Self.at(10_000))
        #expect(pace.wait(now: Self.at(10_000)) == .seconds(840))
    }

    @Test("adaptive: 429 and 503 slow with or without Retry-After and cut; a timeout cuts and fails; a 500 only fails")
    func adaptivePushBack() {
        var pace = DeliveryPace(Self.options(adaptive: true))
        for _ in 0..<7 { pace.acknowledged(latency: .milliseconds(5), inUse: true, maxInFlight: 8, now: Self.at(0)) }
        #expect(pace.window(maxInFlight: 8) == 8)
        #expect(pace.notAcknowledged(status: 500, retryAfter: nil, timedOut: false, inFlight: 0, policy: Self.policy, now: Self.at(0)) == .failed)
        #expect(pace.window(maxInFlight: 8) == 8)
        #expect(pace.notAcknowledged(status: 429, retryAfter: nil, timedOut: false, inFlight: 0, policy: Self.policy, now: Self.at(0)) == .slowed)
        #expect(pace.window(maxInFlight: 8) == 4)
        #expect(pace.wait(now: Self.at(0)) == .zero, "no Retry-After, no hold")
        #expect(pace.notAcknowledged(status: 503, retryAfter: .seconds(2), timedOut: false, inFlight: 0, policy: Self.policy, now: Self.at(0)) == .slowed)
        #expect(pace.window(maxInFlight: 8) == 2)
        #expect(pace.wait(now: Self.at(0)) == .seconds(2))
        #expect(pace.notAcknowledged(status: nil, retryAfter: nil, timedOut: true, inFlight: 0, policy: Self.policy, now: Self.at(0)) == .failed)
        #expect(pace.window(maxInFlight: 8) == 1)
    }

    @Test("push-backs of requests in flight at a cut are the same congestion: slowed, not counted, no further cut")
    func absorbed() {
        var pace = DeliveryPace(Self.options(adaptive: true))
        for _ in 0..<7 { pace.acknowledged(latency: .milliseconds(5), inUse: true, maxInFlight: 8, now: Self.at(0)) }
        #expect(pace.notAcknowledged(status: 429, retryAfter: nil, timedOut: false, inFlight: 7, policy: Self.policy, now: Self.at(0)) == .slowed)
        #expect(pace.window(maxInFlight: 8) == 4 && pace.slowdowns == 1 && pace.absorbing == 7)
        for left in (0..<7).reversed() {
            #expect(pace.notAcknowledged(status: 429, retryAfter: nil, timedOut: false, inFlight: left, policy: Self.policy, now: Self.at(0)) == .slowed)
        }
        #expect(pace.window(maxInFlight: 8) == 4 && pace.slowdowns == 1 && pace.absorbing == 0)
        #expect(pace.notAcknowledged(status: 429, retryAfter: nil, timedOut: false, inFlight: 0, policy: Self.policy, now: Self.at(0)) == .slowed)
        #expect(pace.window(maxInFlight: 8) == 2 && pace.slowdowns == 2)
    }

    @Test("retries_until_failure slowdowns in a row, then the next push-back fails the delivery; an acknowledgement starts the count again")
    func slowdownsUntilFailure() {
        var pace = DeliveryPace(Self.options(rateLimit: 10))
        func pushBack() -> DeliveryPace.Verdict {
            pace.notAcknowledged(status: 429, retryAfter: .seconds(1), timedOut: false, inFlight: 0, policy: Self.policy, now: Self.at(0))
        }
        #expect([pushBack(), pushBack(), pushBack()] == [.slowed, .slowed, .slowed])
        pace.acknowledged(latency: .zero, inUse: false, maxInFlight: 8, now: Self.at(0))
        #expect([pushBack(), pushBack(), pushBack(), pushBack()] == [.slowed, .slowed, .slowed, .failed])
    }

    @Test("after a pause: one in flight, nothing held or counted; changed options start afresh, unchanged ones keep their state")
    func restartAndConfigure() {
        var pace = DeliveryPace(Self.options(rateLimit: 1))
        _ = pace.notAcknowledged(status: 429, retryAfter: .seconds(30), timedOut: false, inFlight: 0, policy: Self.policy, now: Self.at(0))
        pace.restart()
        #expect(pace.window(maxInFlight: 8) == 1 && pace.slowdowns == 0 && pace.holdUntil == nil)
        pace.started(now: Self.at(0))
        #expect(pace.wait(now: Self.at(0)) == .seconds(1))
        pace.configure(Self.options(rateLimit: 1))
        #expect(pace.wait(now: Self.at(0)) == .seconds(1), "the same rate keeps its bucket")
        pace.configure(Self.options(rateLimit: 2, adaptive: true))
        #expect(pace.wait(now: Self.at(0)) == .zero && pace.limit.adaptive && pace.window(maxInFlight: 8) == 1)
        pace.configure(Self.options())
        #expect(!pace.shapes)
    }
}
