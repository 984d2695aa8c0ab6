import Foundation
import Logging
import WebhookDomain

/// An alert of the reference guide (`on_failure`, `on_deactivation`, `on_failure_recovered`)
/// with what the email needs.
public struct AlertEvent: Sendable {
    public var kind: AlertKind
    public var siteID: String
    public var contacts: AlertContacts
    public var testMode: Bool
    public var testEmails: [String]
    public var webhookID: String
    public var url: String
    public var status: WebhookStatus
    public var topic: String?
    public var probeMessageID: String?
    /// Attempts in the episode, the first one included.
    public var attempts: Int
    public var lastError: String?
    public var at: Date

    /// Who gets it: the contacts, or the site's test addresses in test mode.
    public var recipients: [String] { testMode ? testEmails : contacts.contactEmails }
}

/// Receives alerts. Implementations must not block: alerts never delay delivery.
public protocol AlertSink: Sendable {
    func send(_ alert: AlertEvent)
}

/// Logs alerts (the sink when no SMTP server is configured).
public struct LoggingAlertSink: AlertSink {
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func send(_ alert: AlertEvent) {
        logger.notice(
            "alert",
            metadata: [
                "notification": "\(alert.contacts.emailNotificationName)", "alert": "\(alert.kind.rawValue)", "site": "\(alert.siteID)",
                "webhook": "\(alert.webhookID)", "status": "\(alert.status.rawValue)", "attempts": "\(alert.attempts)",
                "last_error": "\(alert.lastError ?? "")", "recipients": "\(alert.recipients.joined(separator: ","))",
            ])
    }
}
