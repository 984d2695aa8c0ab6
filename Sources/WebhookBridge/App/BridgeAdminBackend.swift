import ControlPlane
import Delivery
import Kafka
import Logging
import WebhookDomain

/// What a running bridge gives its admin API: the control topic's catalog, the configured
/// source topics and destination policy, and the delivery engine's readiness and runtime.
public struct BridgeAdminBackend: ControlCatalogAdminBackend {
    public let catalog: ControlCatalog
    public let kafka: KafkaConfig
    public let sourceTopics: [String]
    public let destinationPolicy: DestinationPolicy
    public let quotas: Quotas
    public let logger: Logger
    let engine: DeliveryEngine
    let metrics: BridgeMetrics
    let control: ControlTopicView

    public var isReady: Bool { engine.readiness.isReady }

    public func metricsText() -> String { metrics.render(engine: engine, controlKeys: control.count) }

    public func runtime() -> (webhooks: [WebhookRuntime], partitions: [PartitionLag]) { (engine.runtime(), engine.partitionLags()) }

    public func explain(topic: String, partition: Int32, offset: Int64) async throws(ExplainError) -> RecordExplanation {
        try await engine.explain(topic: topic, partition: partition, offset: offset)
    }
}

extension Bridge {
    /// The backend of this instance's admin API.
    public var adminBackend: BridgeAdminBackend {
        BridgeAdminBackend(
            catalog: catalog, kafka: kafka, sourceTopics: Array(Set(config.routes.map(\.source))).sorted(),
            destinationPolicy: DestinationPolicy(allowPrivateDestinations: config.http.allowPrivateDestinations), quotas: config.quotas, logger: logger,
            engine: engine, metrics: metrics, control: control)
    }
}
