/// The status and retry state of one webhook (DESIGN.md §5), as the control topic's status record
/// holds it, so the instance that owns the probe's partition after a rebalance carries the retry on.
public struct WebhookState: Codable, Equatable, Sendable {
    public enum PauseKind: String, Codable, Sendable {
        /// Paused by a failed delivery: the probe is retried on the site's schedule.
        case auto
        /// Paused through the API: nothing is sent, nothing is retried.
        case manual
    }

    public var status: WebhookStatus
    public var pause: PauseKind?
    /// Failed retries in the current episode (the first attempt is not a retry).
    public var retries: Int
    /// When the probe is tried next, in milliseconds since the epoch.
    public var nextRetryAtMilliseconds: Int64?
    /// The message retried while paused; nothing else is sent meanwhile.
    public var probe: Probe?
    /// Whether `on_failure` went out in this episode (then recovery sends `on_failure_recovered`).
    public var failureAlertSent: Bool
    /// Since when the webhook has been paused or disabled, for `message_retention`.
    public var inactiveSinceMilliseconds: Int64?
    /// The last failure in words (status code or reason), for alerts and the API.
    public var lastError: String?
    /// Incremented by whoever changes the state (see `isSuperseded(by:)`); `apply` leaves it
    /// alone.
    public var revision: Int = 0
    /// The status change made through the API that this state follows (its id), nil before any:
    /// each API change gets a new one, and automatic transitions keep it, so an automatic state
    /// computed before an API change can be told apart and set aside (DESIGN.md §5).
    public var basis: String?

    /// A webhook's first state. `since` (milliseconds since the epoch): when it begins; a
    /// paused or disabled webhook counts `message_retention` from it, so one created paused or
    /// disabled becomes dead like one paused later (without it, it never did).
    public init(status: WebhookStatus = .enabled, since: Int64? = nil) {
        self.status = status
        pause = status == .paused ? .manual : nil
        retries = 0
        failureAlertSent = false
        if status == .paused || status == .disabled { inactiveSinceMilliseconds = since }
    }

    /// Whether a state read from the control topic replaces this one. A state that follows
    /// another API change always does: the control topic decides which API change is the last,
    /// and a lane only ever learns of API changes from it. Within one API change, instances write
    /// states with the revision after the one they had, and every instance reads the same
    /// records in the same order, so taking the higher revision — on a tie, the later record —
    /// makes them all end with the same state, and a writer's own older record read back
    /// changes nothing.
    public func isSuperseded(by incoming: WebhookState) -> Bool {
        guard incoming != self else { return false }
        return incoming.basis != basis || incoming.revision >= revision
    }

    /// The state in effect, from the last status change made through the API (`requested`) and
    /// the last automatic state written by a lane (`automatic`): the automatic one counts only
    /// if it was computed on top of that API change. Both are the last value of their key in the
    /// control topic, so the rule holds after compaction too.
    public static func effective(requested: WebhookState?, automatic: WebhookState?) -> WebhookState? {
        guard let requested else { return automatic }
        guard let automatic, automatic.basis == requested.basis else { return requested }
        return automatic
    }

    /// Whether messages flow to this webhook on the live path.
    public var isDelivering: Bool { status == .enabled }
}

/// Where the probe message is, so any instance can read it again from Kafka.
public struct Probe: Codable, Equatable, Sendable {
    public var sourceTopic: String
    public var partition: Int32
    public var offset: Int64
    public var messageID: String
    public var webhookTopic: String

    public init(sourceTopic: String, partition: Int32, offset: Int64, messageID: String, webhookTopic: String) {
        self.sourceTopic = sourceTopic
        self.partition = partition
        self.offset = offset
        self.messageID = messageID
        self.webhookTopic = webhookTopic
    }
}

/// Why a delivery failed: enough for the transitions (410, Retry-After) and for alerts.
public struct DeliveryFailure: Equatable, Sendable {
    public var status: Int?
    public var retryAfter: Duration?
    public var reason: String

    public init(status: Int? = nil, retryAfter: Duration? = nil, reason: String) {
        self.status = status
        self.retryAfter = retryAfter
        self.reason = reason
    }
}

/// The three alerts of the reference guide.
public enum AlertKind: String, Sendable, CaseIterable, Codable {
    case onFailure = "on_failure"
    case onDeactivation = "on_deactivation"
    case onFailureRecovered = "on_failure_recovered"
}
