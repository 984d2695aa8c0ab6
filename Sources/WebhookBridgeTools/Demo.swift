import Delivery
import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Synchronization
import WebhookBridge
import WebhookDomain

/// `webhook-bridge demo`: the product's showcase. An embedded broker, the bridge, and a local
/// receiver that verifies every signature; sample OMS order, parcel and workflow-notification
/// events for many entities; three webhooks (`erp` signed with `hmac`, `warehouse` batching,
/// `crm` with the `standard` scheme); and an outage of `erp` that shows pause → retries →
/// recovery with its alerts. Everything is real: Kafka protocol and HTTP on loopback, the same
/// code paths as `run`.
public enum Demo {
    public struct Options: Sendable {
        public var orders = 40
        public var parcels = 40
        /// How long `erp` answers 503 after its first request.
        public var outage: Duration = .seconds(3)

        public init(orders: Int = 40, parcels: Int = 40, outage: Duration = .seconds(3)) {
            self.orders = orders
            self.parcels = parcels
            self.outage = outage
        }
    }

    /// One message as the receiver acknowledged it (a batch counts once per message).
    struct Receipt {
        var webhook: String
        var messageID: String
        var entity: String
        var offset: Int64
        var verified: Bool
        var receivedAt: Date
        var eventKey: String
    }

    /// What one webhook got.
    public struct WebhookSummary: Sendable {
        public var id: String
        public var how: String
        public var expected: Int
        public var delivered: Int
        public var redeliveries: Int
        public var verified: Int
        public var requests: Int
        public var failedRequests: Int
        public var entities: Int
        public var entitiesOutOfOrder: Int
        /// Produce-to-receiver latency of each message's first acknowledged delivery, in ms.
        public var p50: Double
        public var p99: Double

        public var succeeded: Bool { delivered == expected && verified == delivered + redeliveries && entitiesOutOfOrder == 0 }
    }

    public struct Summary: Sendable, CustomStringConvertible {
        public var produced: Int
        public var webhooks: [WebhookSummary]
        public var alerts: [String]
        public var seconds: Double

        /// Everything delivered, verified and in order, the outage included (its failed requests
        /// were retried until `erp` recovered). Alerts depend on how long the outage lasts.
        public var succeeded: Bool {
            webhooks.allSatisfy(\.succeeded) && webhooks.contains { $0.id == "erp" && $0.failedRequests > 0 }
        }

        public var description: String {
            let header = ["webhook", "signing / mode", "expected", "delivered", "verified", "requests", "failed", "in order", "p50 ms", "p99 ms"]
            let rows = webhooks.map { row in
                [
                    row.id, row.how, "\(row.expected)", "\(row.delivered)", "\(row.verified)", "\(row.requests)", "\(row.failedRequests)",
                    row.entitiesOutOfOrder == 0 ? "yes (\(row.entities))" : "NO (\(row.entitiesOutOfOrder))",
                    String(format: "%.1f", row.p50), String(format: "%.1f", row.p99),
                ]
            }
            let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
            func line(_ cells: [String]) -> String {
                "│ " + cells.enumerated().map { column, cell in
                    column < 2 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                        : String(repeating: " ", count: widths[column] - cell.count) + cell
                }.joined(separator: " │ ") + " │"
            }
            let rule = { (left: String, middle: String, right: String) in left + widths.map { String(repeating: "─", count: $0 + 2) }.joined(separator: middle) + right }
            return ([rule("┌", "┬", "┐"), line(header), rule("├", "┼", "┤")] + rows.map(line) + [rule("└", "┴", "┘")]).joined(separator: "\n")
                + "\n\(produced) events produced; alerts: \(alerts.isEmpty ? "none" : alerts.joined(separator: "; ")); \(String(format: "%.1f", seconds)) s"
        }
    }

    static let orderStates = ["new", "validated", "in_picking", "packed", "shipped"]
    static let parcelStates = ["new", "bagged", "shipped", "delivered"]
    static let hooks: [(id: String, how: String)] = [
        ("erp", "hmac, outage"), ("warehouse", "hmac, batches of 30"), ("crm", "standard"), ("shipping", "hmac, filter: packed, shipped"),
    ]
    /// The order states the `shipping` webhook's filter lets through.
    static let shippingStates: Set<String> = ["packed", "shipped"]

    /// Collects alerts and shows each as it is raised (no SMTP in the demo).
    final class PrintingAlerts: AlertSink {
        let alerts = Mutex<[String]>([])
        let show: @Sendable (String) -> Void
        init(show: @escaping @Sendable (String) -> Void) { self.show = show }

        func send(_ alert: AlertEvent) {
            let text = "\(alert.kind.rawValue) (\(alert.contacts.emailNotificationName)) for \(alert.webhookID): \(alert.status.rawValue), attempts \(alert.attempts), last error \(alert.lastError ?? "-")"
            alerts.withLock { $0.append(text) }
            show("alert: " + text + " → \(alert.recipients.joined(separator: ", "))")
        }
    }

    /// Runs the demo; `progress` receives the live lines. Returns the summary and every request
    /// the receiver saw.
    public static func run(
        _ options: Options = Options(), logger: Logger, progress: @escaping @Sendable (String) -> Void = { print($0) }
    ) async throws -> (summary: Summary, requests: [WebhookReceiver.Received]) {
        let secret = HashKey("demo-hash-key-\(UUID().uuidString)")
        let outageStarted = Mutex<ContinuousClock.Instant?>(nil)
        let receiver = WebhookReceiver(secret: secret, logger: logger) { request in
            guard request.uri.hasPrefix("/erp") else { return .init() }
            let started = outageStarted.withLock { started in
                if started == nil { started = .now }
                return started!
            }
            return ContinuousClock.now - started < options.outage ? .init(status: 503) : .init()
        }
        let receiverGroup = ServiceGroup(configuration: .init(services: [.init(service: receiver.service())], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await receiverGroup.run() }
            let port = await receiver.boundPort()
            progress("receiver on http://127.0.0.1:\(port) verifies every signature; /erp answers 503 for \(options.outage) after its first request")

            var config = try BridgeConfig.parse(yaml: demoYAML(receiverPort: port), environment: ["DEMO_HASH_KEY": secret.text])
            config.http.adminPort = 0
            let alerts = PrintingAlerts(show: progress)
            let bridge = try await Bridge(config: config, logger: logger, alerts: alerts)
            let bridgeGroup = bridge.serviceGroup(signals: [])
            tasks.addTask { try await bridgeGroup.run() }
            progress("embedded Kafka at \(bridge.bootstrapServers); the bridge joins its consumer group…")
            while !bridge.engine.readiness.isReady { try await Task.sleep(for: .milliseconds(50)) }

            let start = ContinuousClock.now
            let events = sampleEvents(orders: options.orders, parcels: options.parcels)
            let producedAt = try await produce(events, bootstrap: bridge.bootstrapServers, logger: logger)
            let expected = expectedCounts(events)
            progress("produced \(events.count) OMS events (\(options.orders) orders, \(options.parcels) parcels, \(options.orders) workflow notifications)")

            // Live progress until every webhook has everything (or a minute has passed).
            let finished = Mutex(false)
            tasks.addTask {
                while !finished.withLock({ $0 }) {
                    try? await Task.sleep(for: .seconds(1))
                    guard !finished.withLock({ $0 }) else { break }
                    let receipts = Self.receipts(receiver.requests)
                    let parts = hooks.map { hook in
                        let got = Set(receipts.filter { $0.webhook == hook.id }.map(\.messageID)).count
                        let state = bridge.engine.lane(hook.id)?.status
                        let status = state.map { $0.status == .paused && $0.pause == .auto ? "paused, retry \($0.retries + 1) due" : $0.status.rawValue } ?? "?"
                        return "\(hook.id) \(got)/\(expected[hook.id, default: 0]) (\(status))"
                    }
                    progress(String(format: "[%4.1f s] ", (ContinuousClock.now - start).seconds) + parts.joined(separator: " · "))
                }
            }
            let complete = await receiver.wait(timeout: .seconds(60)) { requests in
                let receipts = Self.receipts(requests)
                return hooks.allSatisfy { hook in Set(receipts.filter { $0.webhook == hook.id }.map(\.messageID)).count >= expected[hook.id, default: 0] }
            }
            finished.withLock { $0 = true }
            if !complete { progress("timed out waiting for deliveries") }
            let elapsed = ContinuousClock.now - start
            await bridgeGroup.triggerGracefulShutdown()
            await receiverGroup.triggerGracefulShutdown()
            try await tasks.waitForAll()
            let requests = receiver.requests
            let summary = summarize(
                requests, produced: events.count, expected: expected, producedAt: producedAt, alerts: alerts.alerts.withLock { $0 }, seconds: elapsed.seconds)
            return (summary, requests)
        }
    }

    // MARK: - Events

    struct Event {
        var source: String
        var key: String
        var json: String
        /// What identifies the event in the receiver's payload (for its latency).
        var eventKey: String
        /// The webhooks it reaches.
        var webhooks: [String]
    }

    /// Order and parcel state changes interleaved across entities, then one workflow
    /// notification per order; keyed by entity id.
    static func sampleEvents(orders: Int, parcels: Int) -> [Event] {
        let date = Int(Date().timeIntervalSince1970)
        var events: [Event] = []
        for step in 1..<max(orderStates.count, parcelStates.count) {
            for order in 0..<orders where step < orderStates.count {
                let id = String(format: "DV%08d_MC", order)
                events.append(
                    Event(
                        source: "oms.orders", key: id,
                        json: #"{"order_id":"\#(id)","date":\#(date + step),"old_state":"\#(orderStates[step - 1])","new_state":"\#(orderStates[step])"}"#,
                        eventKey: "\(id)/\(orderStates[step])", webhooks: ["erp", "crm"] + (shippingStates.contains(orderStates[step]) ? ["shipping"] : [])))
            }
            for parcel in 0..<parcels where step < parcelStates.count {
                let id = String(format: "66fd147ab4fefe1095%06d", parcel)
                let order = String(format: "DV%08d_MC", parcel % max(orders, 1))
                events.append(
                    Event(
                        source: "oms.parcels", key: id,
                        json: #"{"order_id":"\#(order)","date":\#(date + step),"old_state":"\#(parcelStates[step - 1])","new_state":"\#(parcelStates[step])","parcel_id":"\#(id)"}"#,
                        eventKey: "\(id)/\(parcelStates[step])", webhooks: ["erp", "warehouse"]))
            }
        }
        for order in 0..<orders {
            let id = String(format: "DV%08d_MC", order)
            events.append(
                Event(
                    source: "oms.notifications", key: id,
                    json: #"{"notification":"email_sent_to_client","order_id":"\#(id)","date":\#(date + 10),"new_state":"email_sent"}"#,
                    eventKey: "\(id)/email_sent", webhooks: ["crm"]))
        }
        return events
    }

    static func expectedCounts(_ events: [Event]) -> [String: Int] {
        events.reduce(into: [:]) { counts, event in for webhook in event.webhooks { counts[webhook, default: 0] += 1 } }
    }

    /// Produces the events; returns when each was produced, by event key.
    static func produce(_ events: [Event], bootstrap: String, logger: Logger) async throws -> [String: Date] {
        let producer = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: bootstrap)), logger: logger)
        var producedAt: [String: Date] = [:]
        for event in events {
            producedAt[event.eventKey] = Date()
            producer.enqueue(KafkaOutgoingRecord(topic: event.source, key: event.key, value: event.json))
        }
        try await producer.flush()
        await producer.close()
        return producedAt
    }

    // MARK: - Summary

    /// The messages of every acknowledged request, in arrival order (a batch's in its order).
    static func receipts(_ requests: [WebhookReceiver.Received]) -> [Receipt] {
        requests.filter { $0.answeredStatus == 202 }.flatMap { request -> [Receipt] in
            let webhook = String(request.uri.dropFirst().prefix { $0 != "/" && $0 != "?" })
            let verified = webhook == "crm" ? request.standardVerdict == .valid(keyIndex: 0) : request.hmacVerdict == .valid(keyIndex: 0)
            let messages: [(headers: [String: String], data: [String: Any])]
            if let batch = request.json?["messages"] as? [[String: Any]] {
                messages = batch.map { (($0["headers"] as? [String: String]) ?? [:], ($0["data"] as? [String: Any]) ?? [:]) }
            } else {
                messages = [(request.headers, request.json ?? [:])]
            }
            return messages.compactMap { headers, data in
                guard let id = headers["message_id"], let topic = headers["topic"],
                    let offset = headers["sequence"]?.split(separator: "-").last.flatMap({ Int64($0) })
                else { return nil }
                let entityID = (data["parcel_id"] as? String) ?? (data["order_id"] as? String) ?? ""
                return Receipt(
                    webhook: webhook, messageID: id, entity: topic + "/" + entityID, offset: offset, verified: verified, receivedAt: request.receivedAt,
                    eventKey: "\(entityID)/\(data["new_state"] as? String ?? "")")
            }
        }
    }

    static func summarize(
        _ requests: [WebhookReceiver.Received], produced: Int, expected: [String: Int], producedAt: [String: Date], alerts: [String], seconds: Double
    ) -> Summary {
        let receipts = receipts(requests)
        let rows = hooks.map { hook in
            let mine = receipts.filter { $0.webhook == hook.id }
            var seen: Set<String> = []
            var lastOffset: [String: Int64] = [:]
            var outOfOrder: Set<String> = []
            var latencies: [Double] = []
            for receipt in mine where seen.insert(receipt.messageID).inserted {
                // Per entity, offsets arrive in increasing order (redeliveries aside).
                if let last = lastOffset[receipt.entity], receipt.offset < last { outOfOrder.insert(receipt.entity) }
                lastOffset[receipt.entity] = receipt.offset
                if let at = producedAt[receipt.eventKey] { latencies.append(receipt.receivedAt.timeIntervalSince(at) * 1000) }
            }
            let sent = requests.filter { $0.uri.hasPrefix("/\(hook.id)") }
            latencies.sort()
            return WebhookSummary(
                id: hook.id, how: hook.how, expected: expected[hook.id, default: 0], delivered: seen.count, redeliveries: mine.count - seen.count,
                verified: mine.filter(\.verified).count, requests: sent.count, failedRequests: sent.filter { $0.answeredStatus != 202 }.count,
                entities: lastOffset.count, entitiesOutOfOrder: outOfOrder.count, p50: percentile(latencies, 0.50), p99: percentile(latencies, 0.99))
        }
        return Summary(produced: produced, webhooks: rows, alerts: alerts, seconds: seconds)
    }

    public static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
    }

    static func demoYAML(receiverPort: Int) -> String {
        """
        kafka:
          bootstrap_servers: embedded
          group_id: webhook-bridge-demo
          start_from: earliest
        http:
          admin_listen: 127.0.0.1:0
          allow_private_destinations: true
        sites:
          - id: c404
            token: demo-site-token-0123
            max_in_flight: 8
            retry_intervals: [1, 1, 2, 4, 8]
            retries_until_failure: 2
            on_failure: {contact_emails: [ops@example.com], email_notification_name: webhook_failure}
            on_failure_recovered: {contact_emails: [ops@example.com], email_notification_name: webhook_failure_recovered}
            custom_topics:
              - {topic: email_sent_to_client_topic, ordered: true}
            notifications:
              email_sent_to_client:
                media: {webhook_topic: [email_sent_to_client_topic]}
                time_type: duration
                time_value: 0s
        routes:
          - {source: oms.orders, site: c404, topic: order_state_changed}
          - {source: oms.parcels, site: c404, topic: parcel_state_changed}
          - {source: oms.notifications, site: c404, notification_field: notification}
        webhooks:
          - id: erp
            site: c404
            url: http://127.0.0.1:\(receiverPort)/erp
            topics: [order_state_changed, parcel_state_changed]
            hash_key_env: DEMO_HASH_KEY
          - id: warehouse
            site: c404
            url: http://127.0.0.1:\(receiverPort)/warehouse
            topics: [parcel_state_changed]
            hash_key_env: DEMO_HASH_KEY
            options: {batching: true, max_batch_size: 30, batch_linger: 20ms}
          - id: crm
            site: c404
            url: http://127.0.0.1:\(receiverPort)/crm
            topics: [order_state_changed, email_sent_to_client_topic]
            hash_key_env: DEMO_HASH_KEY
            options: {signature: standard}
          - id: shipping
            site: c404
            url: http://127.0.0.1:\(receiverPort)/shipping
            topics: [order_state_changed]
            hash_key_env: DEMO_HASH_KEY
            filter: {field: new_state, in: [\(shippingStates.sorted().joined(separator: ", "))]}
        logging:
          level: warning
        """
    }
}
