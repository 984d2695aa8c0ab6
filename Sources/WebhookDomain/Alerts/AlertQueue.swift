import DequeModule

/// The alerts waiting to be sent, as a value (DESIGN.md §5: the queue is bounded, with one alert
/// per webhook and kind per 5 minutes). The mailer holds it under a lock, offers every alert
/// raised and takes them out to send; the clock is passed in.
///
/// - A second alert of the same webhook and kind within `window` of the last one let through is
///   **suppressed**: a flapping receiver makes one failure email per window, not one per flap.
///   The window counts from the alert that was let through; suppressed ones do not extend it.
/// - When `capacity` alerts are already waiting, the arriving one is **dropped** (the newest):
///   those waiting were raised first, and keeping them keeps each webhook's alerts in the order
///   they happened. A dropped alert does not open a window, so the next one of its kind may pass.
public struct AlertQueue: Sendable {
    public struct Key: Hashable, Sendable {
        public var webhookID: String
        public var kind: AlertKind

        public init(webhookID: String, kind: AlertKind) {
            self.webhookID = webhookID
            self.kind = kind
        }
    }

    public enum Decision: Equatable, Sendable {
        case queued
        /// One of this webhook and kind was let through less than `window` ago; the next may
        /// pass from `until` on.
        case suppressed(until: ContinuousClock.Instant)
        /// `capacity` alerts were already waiting.
        case dropped
    }

    public let capacity: Int
    public let window: Duration
    private var waiting: Deque<AlertEvent> = []
    /// When each (webhook, kind) last let an alert through; entries older than `window` are
    /// pruned as the map grows, so it holds about one window's worth of keys.
    private var lastQueued: [Key: ContinuousClock.Instant] = [:]
    private var pruneAt = 1_024

    public init(capacity: Int = 1_000, window: Duration = .seconds(300)) {
        self.capacity = max(capacity, 1)
        self.window = window
    }

    /// Alerts waiting to be taken.
    public var count: Int { waiting.count }

    public mutating func offer(_ alert: AlertEvent, now: ContinuousClock.Instant) -> Decision {
        let key = Key(webhookID: alert.webhookID, kind: alert.kind)
        if let last = lastQueued[key], now < last + window { return .suppressed(until: last + window) }
        guard waiting.count < capacity else { return .dropped }
        waiting.append(alert)
        lastQueued[key] = now
        if lastQueued.count >= pruneAt {
            lastQueued = lastQueued.filter { now < $0.value + window }
            pruneAt = max(1_024, lastQueued.count * 2)
        }
        return .queued
    }

    /// The oldest waiting alert, taken out of the queue.
    public mutating func next() -> AlertEvent? { waiting.popFirst() }

    /// Every waiting alert, oldest first (at shutdown: what was never started).
    public mutating func removeAll() -> [AlertEvent] {
        defer { waiting.removeAll() }
        return Array(waiting)
    }

    /// Keys with an open window (for tests of the pruning).
    var trackedKeys: Int { lastQueued.count }
}
