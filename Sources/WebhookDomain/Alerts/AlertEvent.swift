import Foundation

/// An alert of the reference guide (`on_failure`, `on_deactivation`, `on_failure_recovered`)
/// with what the email needs.
public struct AlertEvent: Sendable {
    public var kind: AlertKind
    public var siteID: String
    public var contacts: AlertContacts
    public var testMode: Bool
    public var testEmails: [String]
    public var testMobiles: [String]
    public var webhookID: String
    public var url: String
    public var status: WebhookStatus
    public var topic: String?
    public var probeMessageID: String?
    /// Attempts in the episode, the first one included.
    public var attempts: Int
    public var lastError: String?
    public var at: Date

    public init(
        kind: AlertKind, siteID: String, contacts: AlertContacts, testMode: Bool, testEmails: [String], testMobiles: [String] = [], webhookID: String,
        url: String,
        status: WebhookStatus, topic: String?, probeMessageID: String?, attempts: Int, lastError: String?, at: Date
    ) {
        self.kind = kind
        self.siteID = siteID
        self.contacts = contacts
        self.testMode = testMode
        self.testEmails = testEmails
        self.testMobiles = testMobiles
        self.webhookID = webhookID
        self.url = url
        self.status = status
        self.topic = topic
        self.probeMessageID = probeMessageID
        self.attempts = attempts
        self.lastError = lastError
        self.at = at
    }

    /// Who gets the email: the contacts, or the site's test addresses in test mode.
    public var recipients: [String] { testMode ? testEmails : contacts.contactEmails }

    /// Who gets the SMS, redirected like the email: the contacts' mobiles, or in test mode the
    /// site's `test_mobiles` (and nobody else).
    public var smsRecipients: [String] { testMode ? testMobiles : contacts.contactMobiles }
}

/// Receives alerts. Implementations must not block: alerts never delay delivery.
public protocol AlertSink: Sendable {
    func send(_ alert: AlertEvent)
}
