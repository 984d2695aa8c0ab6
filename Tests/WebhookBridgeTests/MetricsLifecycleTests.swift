import Testing

@testable import Delivery
@testable import WebhookBridge

/// `WebhookSeries.destroy()` on the bridge's own Prometheus registry.
@Suite("Metric series of deleted webhooks")
struct MetricsLifecycleTests {
    @Test("destroying a webhook's series removes its counters and its latency histogram, and nothing of the others")
    func destroyRemovesTheWebhooksSeries() {
        let metrics = BridgeMetrics()
        let delivery = DeliveryMetrics(factory: metrics.factory)
        let gone = delivery.series(webhookID: "gone")
        gone.attempt(outcome: "acked", latency: .milliseconds(3), messages: 2)
        gone.attempt(outcome: "status_500", latency: .milliseconds(40), messages: 1)
        gone.attempt(outcome: "acked", latency: .milliseconds(4), messages: 3)
        gone.probeUnavailable(reason: "expired")
        gone.parkedForMemory()
        delivery.series(webhookID: "kept").attempt(outcome: "acked", latency: .milliseconds(5), messages: 1)
        delivery.deadLettered(sourceTopic: "oms.orders")
        let before = metrics.registry.emitToString()
        for name in ["webhook_bridge_delivery_latency_seconds_count", "webhook_bridge_probe_expired_total", "webhook_bridge_parked_for_memory_total"] {
            #expect(PrometheusSamples(before).value(name, ["webhook": "gone"]) != nil, "\(name)")
        }
        #expect(PrometheusSamples(before).value("webhook_bridge_deliveries_total", ["webhook": "gone", "outcome": "acked"]) == 2)
        #expect(PrometheusSamples(before).value("webhook_bridge_messages_total", ["webhook": "gone", "outcome": "acked"]) == 5)
        #expect(PrometheusSamples(before).value("webhook_bridge_messages_total", ["webhook": "gone", "outcome": "status_500"]) == 1)
        #expect(PrometheusSamples(before).value("webhook_bridge_delivery_latency_seconds_count", ["webhook": "gone"]) == 3)

        gone.destroy()
        // A request that ends after its webhook was deleted brings nothing back.
        gone.attempt(outcome: "acked", latency: .milliseconds(3), messages: 1)
        let after = metrics.registry.emitToString()
        #expect(!after.contains(#"webhook="gone""#), "\(after)")
        #expect(PrometheusSamples(after).value("webhook_bridge_deliveries_total", ["webhook": "kept", "outcome": "acked"]) == 1)
        #expect(PrometheusSamples(after).value("webhook_bridge_delivery_latency_seconds_count", ["webhook": "kept"]) == 1)
        #expect(PrometheusSamples(after).value("webhook_bridge_dead_letters_total", ["topic": "oms.orders"]) == 1)

        // A webhook made again under the same id starts from nothing.
        delivery.series(webhookID: "gone").attempt(outcome: "acked", latency: .milliseconds(3), messages: 1)
        #expect(PrometheusSamples(metrics.registry.emitToString()).value("webhook_bridge_messages_total", ["webhook": "gone", "outcome": "acked"]) == 1)
    }
}
