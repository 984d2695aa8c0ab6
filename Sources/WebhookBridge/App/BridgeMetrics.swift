import ControlPlane
import Delivery
import Prometheus
import Synchronization
import WebhookDomain

/// The `/metrics` page of one bridge (DESIGN.md §9). Counters and histograms are recorded as
/// deliveries happen, through swift-metrics into this bridge's own Prometheus registry; gauges
/// (status, in-flight, parked, lags, control-view size) are sampled from the engine at each
/// scrape, and the series of webhooks or partitions that went away are dropped.
final class BridgeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// What the delivery layer and the mailer record into.
    let factory: PrometheusMetricsFactory
    private let sampled = Mutex<[SeriesKey: Gauge]>([:])

    private struct SeriesKey: Hashable {
        var name: String
        var labels: [String]
    }

    private struct GaugeSpec {
        var name: String
        var help: String
    }

    private static let status = GaugeSpec(name: "webhook_bridge_webhook_status", help: "1 for the webhook's current status, 0 for the others.")
    private static let inFlight = GaugeSpec(name: "webhook_bridge_in_flight_requests", help: "Requests this instance has in flight for the webhook.")
    private static let concurrencyLimit = GaugeSpec(
        name: "webhook_bridge_concurrency_limit",
        help: "Requests the webhook may have in flight here now: max_in_flight, or less while adaptive or ramping up after a pause.")
    private static let queued = GaugeSpec(name: "webhook_bridge_queued_messages", help: "Messages waiting in this instance's memory for the webhook.")
    private static let filtered = GaugeSpec(
        name: "webhook_bridge_filtered_messages", help: "Messages the webhook's filter kept from it on this instance since it started.")
    private static let parked = GaugeSpec(
        name: "webhook_bridge_parked_partitions", help: "Partitions held by this instance where the webhook is parked or catching up.")
    private static let cursorLag = GaugeSpec(
        name: "webhook_bridge_cursor_lag_records", help: "Records a parked or catching-up webhook has still to receive (this instance's partitions).")
    private static let consumerLag = GaugeSpec(
        name: "webhook_bridge_consumer_lag_records", help: "High watermark minus the lowest record not yet done, per assigned partition.")
    private static let controlKeys = GaugeSpec(name: "webhook_bridge_control_view_keys", help: "Live keys in this instance's view of the control topic.")
    private static let ready = GaugeSpec(name: "webhook_bridge_ready", help: "1 once the instance has its partitions and start positions.")

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["webhook_bridge_delivery_latency_seconds"] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(300), .seconds(1), .seconds(3), .seconds(10), .seconds(15),
        ]
        self.factory = factory
    }

    /// Objects deleted from the control topic because the config file no longer has them.
    func configDeletions(kind: String) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "webhook_bridge_config_deletions_total", unitName: "", helpText: "Objects the config file no longer has, deleted at start-up or reload."),
            labels: [("kind", kind.split(separator: " ").joined(separator: "_"))])
    }

    /// Reloads (SIGHUP) by outcome; a failed one keeps the running configuration.
    func configReloads(failed: Bool) -> Counter {
        let name = failed ? "webhook_bridge_config_reload_failures_total" : "webhook_bridge_config_reloads_total"
        let help = failed ? "Reloads refused (an invalid file or a conflict): the running configuration stays." : "Reloads applied."
        return registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: [])
    }

    /// Samples the gauges and renders every metric in the Prometheus text format.
    func render(engine: DeliveryEngine, controlKeys: Int) -> String {
        var values: [(GaugeSpec, [(String, String)], Double)] = []
        for webhook in engine.runtime() {
            let label = [("webhook", webhook.id)]
            for status in WebhookStatus.allCases {
                values.append((Self.status, label + [("status", status.rawValue)], webhook.state.status == status ? 1 : 0))
            }
            values.append((Self.inFlight, label, Double(webhook.inFlightRequests)))
            values.append((Self.concurrencyLimit, label, Double(webhook.concurrencyLimit)))
            values.append((Self.queued, label, Double(webhook.queuedMessages)))
            if webhook.filters { values.append((Self.filtered, label, Double(webhook.filteredMessages))) }
            values.append((Self.parked, label, Double(webhook.parkedPartitions)))
            values.append((Self.cursorLag, label, Double(webhook.cursorLag)))
        }
        for partition in engine.partitionLags() {
            values.append(
                (Self.consumerLag, [("topic", partition.partition.topic), ("partition", String(partition.partition.partition))], Double(partition.lag)))
        }
        values.append((Self.controlKeys, [], Double(controlKeys)))
        values.append((Self.ready, [], engine.readiness.isReady ? 1 : 0))
        sampled.withLock { sampled in
            var current: [SeriesKey: Gauge] = [:]
            for (spec, labels, value) in values {
                let key = SeriesKey(name: spec.name, labels: labels.flatMap { [$0.0, $0.1] })
                let gauge =
                    sampled[key]
                    ?? registry.makeGauge(descriptor: MetricNameDescriptor(metricName: spec.name, unitName: "", helpText: spec.help), labels: labels)
                gauge.set(value)
                current[key] = gauge
            }
            for (key, gauge) in sampled where current[key] == nil { registry.unregisterGauge(gauge) }
            sampled = current
        }
        return registry.emitToString()
    }
}
