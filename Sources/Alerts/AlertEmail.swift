import WebhookDomain
import Foundation

/// The email of an alert (DESIGN.md §5): the subject starts with the notification name; the body
/// names the site, the webhook and its url, its new status, the topic, the probe's message_id,
/// the attempts, the last error and the time.
enum AlertEmail {
    static func make(_ alert: AlertEvent, from: String) -> Email {
        let name = alert.contacts.emailNotificationName
        let what: String =
            switch alert.kind {
            case .onFailure: "is failing: \(alert.attempts) attempts without acknowledgement"
            case .onDeactivation: "was disabled"
            case .onFailureRecovered: "recovered"
            }
        let time = ISO8601DateFormatter().string(from: alert.at)
        let body = """
            Webhook \(alert.webhookID) of site \(alert.siteID) \(what).

            notification:  \(name)
            site:          \(alert.siteID)
            webhook:       \(alert.webhookID)
            url:           \(alert.url)
            status:        \(alert.status.rawValue)
            topic:         \(alert.topic ?? "-")
            message_id:    \(alert.probeMessageID ?? "-")
            attempts:      \(alert.attempts)
            last error:    \(alert.lastError ?? "-")
            time:          \(time)

            \(advice(alert))
            """
        return Email(
            from: from, to: alert.recipients, subject: "\(name): webhook \(alert.webhookID) (site \(alert.siteID)) \(alert.status.rawValue)", body: body,
            date: alert.at)
    }

    static func advice(_ alert: AlertEvent) -> String {
        switch alert.kind {
        case .onFailure:
            "Messages are kept and retried on the site's schedule. The receiver must answer 202 within the acknowledgement timeout."
        case .onDeactivation:
            "Nothing is sent to it any more; its messages are kept for the site's message_retention. Enable it again once the receiver answers 202: PATCH /webhooks/\(alert.webhookID)/status {\"status\":\"enabled\"}."
        case .onFailureRecovered:
            "The backlog is being delivered in order."
        }
    }
}
