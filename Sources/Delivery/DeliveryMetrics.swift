import CoreMetrics
import Synchronization
import WebhookDomain

/// The delivery layer's counters and histograms (DESIGN.md §9), through swift-metrics with an
/// explicit factory, so that each bridge has its own registry (Prometheus in production, none
/// when nothing is given). Labels stay low-cardinality: webhook ids, outcomes and topics, never
/// URLs or error texts.
///
/// The series labelled with a webhook are remembered per webhook, so that `forget(webhookID:)`
/// can destroy them when the webhook is deleted: a deleted webhook leaves nothing on `/metrics`.
public struct DeliveryMetrics: Sendable {
    let factory: any MetricsFactory
    /// Shared by every copy (the engine's context and the lanes hold copies).
    private let perWebhook = PerWebhookSeries()

    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
    }

    /// One HTTP attempt: counted by webhook and outcome (`acked`, `status_500`, `timeout`, ...),
    /// its time in the latency histogram, its messages counted.
    func attempt(webhookID: String, outcome: String, latency: Duration, messages: Int) {
        let labels = [("webhook", webhookID), ("outcome", outcome)]
        counter("webhook_bridge_deliveries_total", labels, webhookID: webhookID).increment()
        counter("webhook_bridge_messages_total", labels, webhookID: webhookID).increment(by: messages)
        timer("webhook_bridge_delivery_latency_seconds", [("webhook", webhookID)], webhookID: webhookID)
            .recordNanoseconds(latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000)
    }

    /// A source record that could not be routed went to the dead-letter topic.
    func deadLettered(sourceTopic: String) {
        Counter(label: "webhook_bridge_dead_letters_total", dimensions: [("topic", sourceTopic)], factory: factory).increment()
    }

    /// A probe could not be sent again: its record no longer routes to the webhook
    /// (`unroutable`) or retention removed it (`expired`).
    func probeUnavailable(webhookID: String, reason: String) {
        counter("webhook_bridge_probe_\(reason)_total", [("webhook", webhookID)], webhookID: webhookID).increment()
    }

    /// A source record's `message_id` header was not a safe token: a derived id was sent instead.
    func messageIDHeaderReplaced(sourceTopic: String) {
        Counter(label: "webhook_bridge_message_id_headers_replaced_total", dimensions: [("topic", sourceTopic)], factory: factory).increment()
    }

    /// A source record that is no event to deliver (a Debezium delete or tombstone) was skipped.
    func skipped(sourceTopic: String, reason: String) {
        let label = reason.split(separator: " ").joined(separator: "_")
        Counter(label: "webhook_bridge_skipped_records_total", dimensions: [("topic", sourceTopic), ("reason", label)], factory: factory).increment()
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

    /// The webhook was deleted: every series labelled with it is destroyed (Prometheus
    /// unregisters them). Its lane records nothing more once retired, so none comes back.
    func forget(webhookID: String) {
        for series in perWebhook.take(webhookID: webhookID) {
            switch series.kind {
            case .counter: Counter(label: series.label, dimensions: series.dimensions, factory: factory).destroy()
            case .timer: Timer(label: series.label, dimensions: series.dimensions, factory: factory).destroy()
            }
        }
    }

    private func counter(_ label: String, _ dimensions: [(String, String)], webhookID: String) -> Counter {
        perWebhook.remember(.init(kind: .counter, label: label, dimensions: dimensions), webhookID: webhookID)
        return Counter(label: label, dimensions: dimensions, factory: factory)
    }

    private func timer(_ label: String, _ dimensions: [(String, String)], webhookID: String) -> Timer {
        perWebhook.remember(.init(kind: .timer, label: label, dimensions: dimensions), webhookID: webhookID)
        return Timer(label: label, dimensions: dimensions, factory: factory)
    }
}

/// The series recorded for each webhook, to destroy with it.
private final class PerWebhookSeries: Sendable {
    struct Series: Hashable, Sendable {
        enum Kind: Hashable, Sendable { case counter, timer }
        var kind: Kind
        var label: String
        private var names: [String]
        private var values: [String]

        init(kind: Kind, label: String, dimensions: [(String, String)]) {
            self.kind = kind
            self.label = label
            names = dimensions.map(\.0)
            values = dimensions.map(\.1)
        }

        var dimensions: [(String, String)] { Array(zip(names, values)) }
    }

    private let series = Mutex<[String: Set<Series>]>([:])

    func remember(_ one: Series, webhookID: String) {
        _ = series.withLock { $0[webhookID, default: []].insert(one) }
    }

    /// The webhook's series, forgotten here.
    func take(webhookID: String) -> Set<Series> {
        series.withLock { $0.removeValue(forKey: webhookID) ?? [] }
    }
}
