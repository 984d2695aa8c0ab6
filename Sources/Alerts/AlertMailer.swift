import AsyncHTTPClient
import CoreMetrics
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import WebhookDomain

/// Sends alerts by email (and SMS through an HTTP gateway) from its own service: `send` only
/// queues, so a slow or dead SMTP server never delays a delivery. The queue is bounded and lets
/// one alert per webhook and kind through per 5 minutes (`AlertQueue`, DESIGN.md §5); what it
/// suppresses or drops is logged and counted. A few alerts are sent at once, each tried again with
/// growing waits for a bounded time; what fails is logged and counted.
public final class AlertMailer: AlertSink, Service {
    public struct Configuration: Sendable {
        public var smtp: SMTPClient.Configuration?
        /// An HTTP SMS gateway taking `{"to", "notification", "text"}` as JSON.
        public var smsURL: String?
        /// How long one alert is tried before it is given up.
        public var giveUpAfter: Duration
        public var firstRetryWait: Duration
        /// Alerts waiting to be sent; beyond, the newest is dropped.
        public var queueCapacity: Int
        /// One alert per webhook and kind per this long; the others are suppressed.
        public var window: Duration
        /// Alerts being sent (and retried) at once.
        public var maxConcurrent: Int

        public init(
            smtp: SMTPClient.Configuration?, smsURL: String? = nil, giveUpAfter: Duration = .seconds(600), firstRetryWait: Duration = .seconds(1),
            queueCapacity: Int = 1_000, window: Duration = .seconds(300), maxConcurrent: Int = 8
        ) {
            self.smtp = smtp
            self.smsURL = smsURL
            self.giveUpAfter = giveUpAfter
            self.firstRetryWait = firstRetryWait
            self.queueCapacity = queueCapacity
            self.window = window
            self.maxConcurrent = max(maxConcurrent, 1)
        }
    }

    /// Outcomes so far, for metrics and tests.
    public struct Counts: Sendable, Equatable {
        public var emailsSent = 0
        public var emailsFailed = 0
        public var smsSent = 0
        public var smsFailed = 0
        public var smsSkipped = 0
        /// Emails not sent because AUTH would have crossed a connection without TLS.
        public var plaintextAuthRefused = 0
        /// Alerts not queued: another of their webhook and kind was, less than 5 minutes before.
        public var suppressed = 0
        /// Alerts not queued: the queue was full.
        public var dropped = 0
    }

    private let configuration: Configuration
    private let logger: Logger
    private let queue: Mutex<AlertQueue>
    /// Tells `run()` that alerts were queued (one pending signal is enough: it empties the queue).
    private let wake: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation
    private let counts = Mutex(Counts())
    private let metrics: any MetricsFactory
    private let queued: Gauge

    public init(configuration: Configuration, metrics: any MetricsFactory = NOOPMetricsHandler.instance, logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        queue = Mutex(AlertQueue(capacity: configuration.queueCapacity, window: configuration.window))
        (wake, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        queued = Gauge(label: "webhook_bridge_alerts_queued", factory: metrics)
    }

    public var outcomes: Counts { counts.withLock { $0 } }

    /// Logs the alert and queues it, unless one of its webhook and kind was queued less than
    /// `window` ago (suppressed) or the queue is full (dropped); both are logged and counted.
    /// Never waits.
    public func send(_ alert: AlertEvent) {
        LoggingAlertSink(logger: logger).send(alert)
        let (decision, waiting) = queue.withLock { queue in (queue.offer(alert, now: .now), queue.count) }
        let metadata: Logger.Metadata = ["alert": "\(alert.kind.rawValue)", "webhook": "\(alert.webhookID)", "site": "\(alert.siteID)"]
        switch decision {
        case .queued:
            queued.record(waiting)
            wakeUp.yield()
        case .suppressed:
            counts.withLock { $0.suppressed += 1 }
            Counter(label: "webhook_bridge_alerts_suppressed_total", dimensions: [("alert", alert.kind.rawValue)], factory: metrics).increment()
            logger.info("alert suppressed: one per webhook and kind per \(configuration.window)", metadata: metadata)
        case .dropped:
            counts.withLock { $0.dropped += 1 }
            Counter(label: "webhook_bridge_alerts_dropped_total", dimensions: [("alert", alert.kind.rawValue)], factory: metrics).increment()
            logger.warning("alert dropped: the alert queue is full (\(waiting) waiting); the newest is dropped", metadata: metadata)
        }
    }

    /// Sends queued alerts, at most `maxConcurrent` at once, until graceful shutdown. Alerts
    /// still being tried then are given up, and those never started are logged as not sent.
    public func run() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                // Tasks started and not yet reaped: some may have finished, and `group.next()`
                // then returns at once.
                var running = 0
                for await _ in self.wake {
                    while true {
                        // A slot first, then an alert: while all are busy, alerts wait in the
                        // bounded queue, not here.
                        if running >= self.configuration.maxConcurrent {
                            await group.next()
                            running -= 1
                        }
                        // Shutting down: what is still queued is logged below, not started.
                        guard !Task.isCancelled, let (alert, waiting) = self.queue.withLock({ queue in queue.next().map { ($0, queue.count) } }) else { break }
                        self.queued.record(waiting)
                        group.addTask { await self.deliver(alert, http: http) }
                        running += 1
                    }
                }
            }
        }
        let left = queue.withLock { $0.removeAll() }
        queued.record(0)
        for alert in left {
            logger.error("alert not sent: shutting down", metadata: ["alert": "\(alert.kind.rawValue)", "webhook": "\(alert.webhookID)"])
        }
        try? await http.shutdown()
    }

    private func deliver(_ alert: AlertEvent, http: HTTPClient) async {
        if let smtp = configuration.smtp, !alert.recipients.isEmpty {
            let email = AlertEmail.make(alert, from: smtp.from)
            let failure = await retrying("email", alert) { () async throws(SMTPError) -> Void in
                let delivery = try await SMTPClient(configuration: smtp).send(email)
                if !delivery.rejected.isEmpty {
                    self.logger.warning("alert email refused for some recipients", metadata: ["rejected": "\(delivery.rejected.joined(separator: ","))"])
                }
            } isRetriable: { $0.isRetriable }
            let refused = failure?.code == .plaintextAuthRefused
            counts.withLock { counts in
                if failure == nil { counts.emailsSent += 1 } else { counts.emailsFailed += 1 }
                if refused { counts.plaintextAuthRefused += 1 }
            }
            count("email", failure == nil ? "sent" : "failed")
            if refused { Counter(label: "webhook_bridge_smtp_auth_refused_total", factory: metrics).increment() }
        }
        // In test mode the SMS are redirected like the emails (`test_mobiles`, else none).
        let mobiles = alert.smsRecipients
        guard !mobiles.isEmpty, !alert.contacts.smsNotificationName.isEmpty else { return }
        guard let url = configuration.smsURL else {
            logger.info("alert SMS skipped: no sms.url configured", metadata: ["webhook": "\(alert.webhookID)", "notification": "\(alert.contacts.smsNotificationName)"])
            counts.withLock { $0.smsSkipped += mobiles.count }
            count("sms", "skipped", mobiles.count)
            return
        }
        for mobile in mobiles {
            let failure = await retrying("sms", alert) { () async throws(SMTPError) -> Void in
                try await self.sms(to: mobile, alert: alert, url: url, http: http)
            } isRetriable: { $0.isRetriable }
            counts.withLock { failure == nil ? ($0.smsSent += 1) : ($0.smsFailed += 1) }
            count("sms", failure == nil ? "sent" : "failed")
        }
    }

    private func count(_ channel: String, _ outcome: String, _ amount: Int = 1) {
        Counter(label: "webhook_bridge_alert_notifications_total", dimensions: [("channel", channel), ("outcome", outcome)], factory: metrics)
            .increment(by: amount)
    }

    private func sms(to mobile: String, alert: AlertEvent, url: String, http: HTTPClient) async throws(SMTPError) {
        let text = "\(alert.contacts.smsNotificationName): webhook \(alert.webhookID) (site \(alert.siteID)) is \(alert.status.rawValue); last error: \(alert.lastError ?? "-")"
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["to": mobile, "notification": alert.contacts.smsNotificationName, "text": text])))
            let response = try await http.execute(request, timeout: .seconds(15))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            guard (200..<300).contains(response.status.code) else {
                throw SMTPError(response.status.code >= 500 || response.status.code == 429 ? .transient : .permanent, "SMS gateway answered \(response.status.code)")
            }
        } catch let error as SMTPError {
            throw error
        } catch {
            throw SMTPError(.transient, "SMS gateway: \(error)")
        }
    }

    /// Tries `attempt` with doubling waits until it succeeds, fails permanently, or
    /// `giveUpAfter` has passed. Returns the last error, nil when it succeeded.
    private func retrying(
        _ channel: String, _ alert: AlertEvent, _ attempt: () async throws(SMTPError) -> Void, isRetriable: (SMTPError) -> Bool
    ) async -> SMTPError? {
        let deadline = ContinuousClock.now + configuration.giveUpAfter
        var wait = configuration.firstRetryWait
        while true {
            do throws(SMTPError) {
                try await attempt()
                logger.info("alert sent", metadata: ["channel": "\(channel)", "alert": "\(alert.kind.rawValue)", "webhook": "\(alert.webhookID)"])
                return nil
            } catch {
                let metadata: Logger.Metadata = ["channel": "\(channel)", "alert": "\(alert.kind.rawValue)", "webhook": "\(alert.webhookID)", "error": "\(error)"]
                guard isRetriable(error), ContinuousClock.now + wait < deadline, !Task.isCancelled else {
                    logger.error("alert not sent", metadata: metadata)
                    return error
                }
                logger.warning("alert not sent yet; trying again", metadata: metadata)
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(60))
            }
        }
    }
}
