/// How many requests one webhook may have in flight now, never more than the site's
/// `max_in_flight` (DESIGN.md §6). A value with the clock passed in: no I/O, tested as values.
///
/// - Slow start: after a pause (and an adaptive webhook at the start) the limit is 1 and grows
///   by one per acknowledged request, which doubles it every round trip, up to `max_in_flight`
///   (adaptive: up to the threshold the last cut left).
/// - Fixed (no `options.adaptive`): once slow start reaches `max_in_flight` the limit is nil,
///   `max_in_flight` itself, and acknowledgements cost nothing more. A cut (a slowing 429)
///   halves it and it slow-starts back.
/// - Adaptive (`options.adaptive: true`), AIMD on requests in flight: a cut (429, 503 or a
///   timeout) halves the limit and remembers the level it happened at as a ceiling. From the
///   threshold on the limit grows by one per round: as many acknowledgements as the limit, each
///   ending while the limit was in use and with its latency within twice the baseline plus
///   10 ms. It goes back to the ceiling (a probe: the one level the receiver refused) only
///   after a backoff since the cut: 1 minute, doubled by each probe that is refused again, up
///   to 30 minutes; a probe that holds for a round forgets the ceiling. So after settling, the
///   receiver sees the learned limit and, at most once a minute, one request more.
public struct ConcurrencyLimit: Sendable, Equatable {
    public static let firstProbeBackoff = Duration.seconds(60)
    public static let longestProbeBackoff = Duration.seconds(1_800)
    /// Latency "holds" while within twice the baseline plus this (loopback baselines are tiny).
    public static let latencySlack = Duration.milliseconds(10)

    public let adaptive: Bool
    /// The limit; nil: `max_in_flight` (fixed, nothing to compute).
    public private(set) var current: Int?
    /// Slow start below this, additive increase from it (adaptive); nil: slow start up to
    /// `max_in_flight`.
    public private(set) var threshold: Int?
    /// Adaptive: the level of the last cut, reached again only by a probe after `probeNotBefore`.
    public private(set) var ceiling: Int?
    public private(set) var probeNotBefore: ContinuousClock.Instant?
    public private(set) var probeBackoff = firstProbeBackoff
    /// The receiver's usual latency: follows a drop at once, a rise slowly (1/256 of it per
    /// acknowledgement), so a rise that more requests in flight cause stops the increase.
    public private(set) var baselineLatency: Duration?
    /// Acknowledgements at the limit since it last grew (adaptive, above the threshold).
    private var acksAtLimit = 0

    public init(adaptive: Bool) {
        self.adaptive = adaptive
        current = adaptive ? 1 : nil
    }

    /// Requests that may be in flight now.
    public func window(maxInFlight: Int) -> Int { max(1, min(current ?? maxInFlight, maxInFlight)) }

    /// After a pause: one request in flight, slow start from there.
    public mutating func restart() {
        current = 1
        acksAtLimit = 0
    }

    /// A request was acknowledged after `latency`. `inUse`: the limit was reached when it ended
    /// (a limit nothing presses against is not grown: a later burst would overshoot).
    public mutating func acknowledged(latency: Duration, inUse: Bool, maxInFlight: Int, now: ContinuousClock.Instant) {
        guard let limit = current else { return }
        if adaptive { trackBaseline(latency) }
        guard limit < maxInFlight else {
            if !adaptive { current = nil }
            return
        }
        if limit < threshold ?? maxInFlight {
            grow(to: limit + 1, maxInFlight: maxInFlight, now: now)
            return
        }
        // Additive increase (adaptive only: a fixed limit's threshold is `max_in_flight`).
        guard inUse, latency <= (baselineLatency ?? latency) * 2 + Self.latencySlack else { return }
        acksAtLimit += 1
        guard acksAtLimit >= limit else { return }
        acksAtLimit = 0
        if let ceiling, limit >= ceiling {
            // The probe held for a round: the receiver takes more than it did.
            self.ceiling = nil
            probeNotBefore = nil
            probeBackoff = Self.firstProbeBackoff
        }
        grow(to: limit + 1, maxInFlight: maxInFlight, now: now)
    }

    /// The receiver pushed back: the limit halves. Adaptive remembers the level as the ceiling
    /// and backs off before it probes that level again (longer each time it is refused there).
    public mutating func cut(maxInFlight: Int, now: ContinuousClock.Instant) {
        let level = window(maxInFlight: maxInFlight)
        current = max(1, level / 2)
        acksAtLimit = 0
        guard adaptive else { return }
        threshold = current
        guard level > 1 else { return }
        probeBackoff = ceiling == level ? min(probeBackoff * 2, Self.longestProbeBackoff) : Self.firstProbeBackoff
        ceiling = level
        probeNotBefore = now + probeBackoff
    }

    private mutating func grow(to next: Int, maxInFlight: Int, now: ContinuousClock.Instant) {
        if let ceiling, next >= ceiling, let notBefore = probeNotBefore, now < notBefore { return }
        current = min(next, maxInFlight)
        if !adaptive, current == maxInFlight { current = nil }
    }

    private mutating func trackBaseline(_ latency: Duration) {
        guard let baseline = baselineLatency, latency > baseline else {
            baselineLatency = latency
            return
        }
        baselineLatency = baseline + (latency - baseline) / 256
    }
}
