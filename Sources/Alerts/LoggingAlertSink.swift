import Logging
import WebhookDomain

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
