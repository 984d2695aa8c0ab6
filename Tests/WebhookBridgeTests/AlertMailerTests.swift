import Alerts
import Foundation
import Logging
import ServiceLifecycle
import Testing
import WebhookDomain

@testable import WebhookBridge

/// The mailer's queue and refusals, counted in its outcomes and in the bridge's metrics, against
/// the real SMTP server.
@Suite("Alert mailer: queue bound, per-kind rate, AUTH refusal")
struct AlertMailerTests {
    static func alert(_ webhook: String, _ kind: AlertKind = .onFailure) -> AlertEvent {
        AlertEvent(
            kind: kind, siteID: "c404", contacts: AlertContacts(contactEmails: ["ops@example.com"], emailNotificationName: "webhook_failure"),
            testMode: false, testEmails: [], webhookID: webhook, url: "https://a.example", status: .paused, topic: nil, probeMessageID: nil,
            attempts: 4, lastError: "HTTP 500", at: Date())
    }

    /// Runs the mailer for the length of `body`, then shuts it down.
    static func running<T: Sendable>(_ mailer: AlertMailer, _ body: @Sendable () async throws -> T) async throws -> T {
        let group = ServiceGroup(configuration: .init(services: [.init(service: mailer)], logger: BridgeTestCluster.logger))
        return try await whileRunning(group, ready: {}, body)
    }

    @Test("a second alert of a webhook and kind within the window is suppressed, one past the bound is dropped; both logged and counted, the rest sent")
    func suppressedAndDropped() async throws {
        let smtp = try await SMTPServer()
        let metrics = BridgeMetrics()
        let mailer = AlertMailer(
            configuration: .init(smtp: .init(host: "127.0.0.1", port: smtp.port, from: "bridge@example.com"), queueCapacity: 2),
            metrics: metrics.factory, logger: BridgeTestCluster.logger)
        // Queued before the mailer runs, so nothing is taken out meanwhile.
        mailer.send(Self.alert("w1"))
        mailer.send(Self.alert("w1"))  // the same webhook and kind: suppressed
        mailer.send(Self.alert("w2"))
        mailer.send(Self.alert("w3"))  // a third waiting alert: dropped
        #expect(mailer.outcomes.suppressed == 1)
        #expect(mailer.outcomes.dropped == 1)
        var samples = PrometheusSamples(metrics.registry.emitToString())
        #expect(samples.value("webhook_bridge_alerts_suppressed_total", ["alert": "on_failure"]) == 1)
        #expect(samples.value("webhook_bridge_alerts_dropped_total", ["alert": "on_failure"]) == 1)
        #expect(samples.value("webhook_bridge_alerts_queued") == 2)
        try await Self.running(mailer) {
            #expect(await waitFor { mailer.outcomes.emailsSent == 2 })
        }
        let subjects = smtp.messages.compactMap { $0.header("Subject") }.sorted()
        #expect(subjects.count == 2 && subjects[0].contains("webhook w1") && subjects[1].contains("webhook w2"), "\(subjects)")
        samples = PrometheusSamples(metrics.registry.emitToString())
        #expect(samples.value("webhook_bridge_alerts_queued") == 0)
        await smtp.stop()
    }

    @Test("with a username over a connection without TLS the email fails before AUTH, counted; with allow_plaintext_auth it is sent")
    func plaintextAuthRefused() async throws {
        let smtp = try await SMTPServer(["--user", "alerts", "--password", "s3cret"])
        for allowed in [false, true] {
            let metrics = BridgeMetrics()
            let mailer = AlertMailer(
                configuration: .init(smtp: .init(
                    host: "127.0.0.1", port: smtp.port, username: "alerts", password: "s3cret", allowPlaintextAuth: allowed, from: "bridge@example.com")),
                metrics: metrics.factory, logger: BridgeTestCluster.logger)
            mailer.send(Self.alert(allowed ? "allowed" : "refused"))
            try await Self.running(mailer) {
                #expect(await waitFor { mailer.outcomes.emailsSent + mailer.outcomes.emailsFailed == 1 })
            }
            let samples = PrometheusSamples(metrics.registry.emitToString())
            if allowed {
                #expect(mailer.outcomes.emailsSent == 1)
                #expect(smtp.authAttempts == ["AUTH PLAIN alerts"])
            } else {
                #expect(mailer.outcomes.plaintextAuthRefused == 1 && mailer.outcomes.emailsFailed == 1)
                #expect(samples.value("webhook_bridge_smtp_auth_refused_total") == 1)
                #expect(samples.value("webhook_bridge_alert_notifications_total", ["channel": "email", "outcome": "failed"]) == 1)
                #expect(smtp.authAttempts.isEmpty)
            }
        }
        #expect(smtp.messages.count == 1)
        await smtp.stop()
    }
}
