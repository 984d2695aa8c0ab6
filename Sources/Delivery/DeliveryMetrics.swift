import CoreMetrics
import Synchronization
import WebhookDomain

/// The delivery layer's counters and histograms (DESIGN.md §9), through swift-metrics with an
/// explicit factory, so that each bridge has its own registry (Prometheus in production, none
/// when nothing is given). Labels stay low-cardinality: webhook ids, outcomes and topics, never
/// URLs or error texts. The series labelled with a webhook are its lane's `WebhookSeries`.
public struct DeliveryMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
    }

    /// The series of one webhook, kept by its lane.
    func series(webhookID: String) -> WebhookSeries {
        WebhookSeries(webhookID: webhookID, factory: factory)
    }

    /// A source record that could not be routed went to the dead-letter topic.
    func deadLettered(sourceTopic: String) {
        Counter(label: "webhook_bridge_dead_letters_total", dimensions: [("topic", sourceTopic)], factory: factory).increment()
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

    /// A status transition raised an alert (whether or not it is mailed).
    func alertRaised(_ kind: AlertKind) {
        Counter(label: "webhook_bridge_alerts_raised_total", dimensions: [("alert", kind.rawValue)], factory: factory).increment()
    }
}

/// The series labelled with one webhook. Each is made in the registry once, at its first use,
/// and kept here: looking three of them up in the registry at every attempt, and remembering
/// each by webhook id to destroy it later, cost CPU per delivery and about 0.5 KB per webhook
/// (docs/benchmarks.md). `destroy()` (the webhook was deleted) removes them from the registry
/// (Prometheus unregisters them) and records nothing more: a deleted webhook leaves nothing on
/// `/metrics`, and a request ending late brings nothing back.
final class WebhookSeries: Sendable {
    private struct Handlers {
        var latency: (any TimerHandler)?
        var outcomes: [(outcome: String, deliveries: any CounterHandler, messages: any CounterHandler)] = []
        /// Probe and parking counters, by label.
        var counters: [(label: String, handler: any CounterHandler)] = []
        var destroyed = false
    }

    private let webhookID: String
    private let factory: any MetricsFactory
    private let handlers = Mutex(Handlers())

    init(webhookID: String, factory: any MetricsFactory) {
        self.webhookID = webhookID
        self.factory = factory
    }

    /// One HTTP attempt: counted by outcome (`acked`, `status_500`, `timeout`, ...), its time in
    /// the latency histogram, its messages counted.
    func attempt(outcome: String, latency: Duration, messages: Int) {
        handlers.withLock { handlers in
            guard !handlers.destroyed else { return }
            let series: (deliveries: any CounterHandler, messages: any CounterHandler)
            if let known = handlers.outcomes.first(where: { $0.outcome == outcome }) {
                series = (known.deliveries, known.messages)
            } else {
                let labels = [("webhook", webhookID), ("outcome", outcome)]
                series = (
                    factory.makeCounter(label: "webhook_bridge_deliveries_total", dimensions: labels),
                    factory.makeCounter(label: "webhook_bridge_messages_total", dimensions: labels)
                )
                handlers.outcomes.append((outcome, series.deliveries, series.messages))
            }
            series.deliveries.increment(by: 1)
            series.messages.increment(by: Int64(messages))
            if handlers.latency == nil {
                handlers.latency = factory.makeTimer(label: "webhook_bridge_delivery_latency_seconds", dimensions: [("webhook", webhookID)])
            }
            handlers.latency?.recordNanoseconds(latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000)
        }
    }

    /// A probe could not be sent again: its record no longer routes to the webhook
    /// (`unroutable`) or retention removed it (`expired`).
    func probeUnavailable(reason: String) {
        count("webhook_bridge_probe_\(reason)_total")
    }

    /// The engine's unsettled-record limit was reached and this webhook, holding the most, was
    /// parked to free memory.
    func parkedForMemory() {
        count("webhook_bridge_parked_for_memory_total")
    }

    /// The webhook was deleted: every series labelled with it leaves the registry.
    func destroy() {
        let handlers = handlers.withLock { handlers in
            defer { handlers = Handlers(destroyed: true) }
            return handlers
        }
        for (_, deliveries, messages) in handlers.outcomes {
            factory.destroyCounter(deliveries)
            factory.destroyCounter(messages)
        }
        for (_, handler) in handlers.counters { factory.destroyCounter(handler) }
        if let latency = handlers.latency { factory.destroyTimer(latency) }
    }

    private func count(_ label: String) {
        handlers.withLock { handlers in
            guard !handlers.destroyed else { return }
            let handler: any CounterHandler
            if let known = handlers.counters.first(where: { $0.label == label }) {
                handler = known.handler
            } else {
                handler = factory.makeCounter(label: label, dimensions: [("webhook", webhookID)])
                handlers.counters.append((label, handler))
            }
            handler.increment(by: 1)
        }
    }
}
