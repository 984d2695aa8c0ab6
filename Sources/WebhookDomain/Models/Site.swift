/// A tenant: its token, delivery and retry settings, alert contacts, custom topics and
/// workflow notifications.
public struct Site: Sendable, Equatable {
    public var id: String
    /// The API token (never logged).
    public var token: String
    public var ackStatuses: Set<Int> = [202]
    public var ackTimeout: Duration = .seconds(15)
    public var retryIntervals: [Duration] = [30, 60, 120, 240, 480, 840].map { .seconds($0) }
    public var retriesUntilFailure: Int = 3
    public var messageRetention: Duration = .seconds(7 * 24 * 3600)
    public var maxInFlight: Int = 8
    public var testMode = false
    public var testEmails: [String] = []
    /// In test mode, alert SMS go to these numbers instead of the contacts' (none: no SMS).
    public var testMobiles: [String] = []
    public var onFailure = AlertContacts(emailNotificationName: "webhook_failure")
    public var onDeactivation = AlertContacts(emailNotificationName: "webhook_deactivation")
    public var onFailureRecovered = AlertContacts(emailNotificationName: "webhook_failure_recovered")
    public var customTopics: [WebhookTopic] = []
    /// Workflow notification id → its webhook topics and delay.
    public var notifications: [String: WorkflowNotification] = [:]
    /// The proxy its deliveries go through (its own `proxy`, else `http.proxy`); nil: direct.
    /// Set in the config file only: a tenant cannot point the bridge's traffic elsewhere.
    public var proxy: HTTPProxy?

    public init(id: String, token: String) {
        self.id = id
        self.token = token
    }
}

/// Without this, any value that holds a site (a service, a catalog) prints the token when it is
/// described: swift-service-lifecycle logs every service so at debug level.
extension Site: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "Site(id: \(id), token: redacted)" }
    public var debugDescription: String { description }
}

/// Who is told about a webhook's failure, recovery or deactivation, and under which name.
public struct AlertContacts: Sendable, Equatable, Codable {
    public var contactEmails: [String] = []
    public var contactMobiles: [String] = []
    public var emailNotificationName: String
    public var smsNotificationName: String = ""

    public init(contactEmails: [String] = [], contactMobiles: [String] = [], emailNotificationName: String, smsNotificationName: String = "") {
        self.contactEmails = contactEmails
        self.contactMobiles = contactMobiles
        self.emailNotificationName = emailNotificationName
        self.smsNotificationName = smsNotificationName
    }
}

/// A workflow notification in the reference guide's format:
/// `{"media":{"webhook_topic":[…]},"time_type":"duration","time_value":"0s"}`.
public struct WorkflowNotification: Sendable, Equatable {
    public var webhookTopics: [String]
    /// Delivery delay counted from the event's timestamp (`time_type: duration`).
    public var delay: Duration

    public init(webhookTopics: [String], delay: Duration = .zero) {
        self.webhookTopics = webhookTopics
        self.delay = delay
    }
}
