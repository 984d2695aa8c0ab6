import CoreMetrics
import WebhookDomain

/// The delivery layer's counters and histograms (DESIGN.md §9), through swift-metrics with an
/// explicit factory, so that each bridge has its own registry (Prometheus in production, none
/// when nothing is given). Labels stay low-cardinality: webhook ids, outcomes and topics, never
/// URLs or error texts.
public struct DeliveryMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
    }

    /// One HTTP attempt: counted by webhook and outcome (`acked`, `status_500`, `timeout`, ...),
    /// its time in the latency histogram, its messages counted.
    func attempt(webhookID: String, outcome: String, latency: Duration, messages: Int) {
        Counter(label: "webhook_bridge_deliveries_total", dimensions: [("webhook", webhookID), ("outcome", outcome)], factory: factory).increment()
        Counter(label: "webhook_bridge_messages_total", dimensions: [("webhook", webhookID), ("outcome", outcome)], factory: factory)
            .increment(by: messages)
        Timer(label: "webhook_bridge_delivery_latency_seconds", dimensions: [("webhook", webhookID)], factory: factory)
            .recordNanoseconds(latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000)
    }

    /// A source record that could not be routed went to the dead-letter topic.
    func deadLettered(sourceTopic: String) {
        Counter(label: "webhook_bridge_dead_letters_total", dimensions: [("topic", sourceTopic)], factory: factory).increment()
    }

    /// A probe could not be sent again: its record no longer routes to the webhook
    /// (`unroutable`) or retention removed it (`expired`).
    func probeUnavailable(webhookID: String, reason: String) {
        Counter(label: "webhook_bridge_probe_\(reason)_total", dimensions: [("webhook", webhookID)], factory: factory).increment()
    }

    /// A source record's `message_id` header was not a safe token: a derived id was sent instead.
    func messageIDHeaderReplaced(sourceTopic: String) {
        Counter(label: "webhook_bridge_message_id_headers_replaced_total", dimensions: [("topic", sourceTopic)], factory: factory).increment()
    }

    /// The engine's unsettled-record limit was reached and this webhook, holding the most, was
    /// parked to free memory.
    func parkedForMemory(webhookID: String) {
        Counter(label: "webhook_bridge_parked_for_memory_total", dimensions: [("webhook", webhookID)], factory: factory).increment()
    }

    /// A status transition raised an alert (whether or not it is mailed).
    func alertRaised(_ kind: AlertKind) {
        Counter(label: "webhook_bridge_alerts_raised_total", dimensions: [("alert", kind.rawValue)], factory: factory).increment()
    }
}
