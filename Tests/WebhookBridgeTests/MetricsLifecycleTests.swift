import Testing

@testable import Delivery
@testable import WebhookBridge

/// `DeliveryMetrics.forget(webhookID:)` on the bridge's own Prometheus registry.
@Suite("Metric series of deleted webhooks")
struct MetricsLifecycleTests {
    @Test("forgetting a webhook destroys its counters and its latency histogram, and nothing of the others")
    func forgetDestroysTheWebhooksSeries() {
        let metrics = BridgeMetrics()
        let delivery = DeliveryMetrics(factory: metrics.factory)
        delivery.attempt(webhookID: "gone", outcome: "acked", latency: .milliseconds(3), messages: 2)
        delivery.attempt(webhookID: "gone", outcome: "status_500", latency: .milliseconds(40), messages: 1)
        delivery.probeUnavailable(webhookID: "gone", reason: "expired")
        delivery.attempt(webhookID: "kept", outcome: "acked", latency: .milliseconds(5), messages: 1)
        delivery.deadLettered(sourceTopic: "oms.orders")
        let before = metrics.registry.emitToString()
        for name in ["webhook_bridge_deliveries_total", "webhook_bridge_messages_total", "webhook_bridge_delivery_latency_seconds_count", "webhook_bridge_probe_expired_total"] {
            #expect(PrometheusSamples(before).value(name, ["webhook": "gone"]) != nil, "\(name)")
        }

        delivery.forget(webhookID: "gone")
        let after = metrics.registry.emitToString()
        #expect(!after.contains(#"webhook="gone""#), "\(after)")
        #expect(PrometheusSamples(after).value("webhook_bridge_deliveries_total", ["webhook": "kept", "outcome": "acked"]) == 1)
        #expect(PrometheusSamples(after).value("webhook_bridge_delivery_latency_seconds_count", ["webhook": "kept"]) == 1)
        #expect(PrometheusSamples(after).value("webhook_bridge_dead_letters_total", ["topic": "oms.orders"]) == 1)

        // A webhook made again under the same id starts from nothing.
        delivery.attempt(webhookID: "gone", outcome: "acked", latency: .milliseconds(3), messages: 1)
        #expect(PrometheusSamples(metrics.registry.emitToString()).value("webhook_bridge_messages_total", ["webhook": "gone", "outcome": "acked"]) == 1)
    }
}
