import Foundation
import Kafka
import Logging
import WebhookDomain

/// What every lane shares: one object for all of them (inline, it was about 300 bytes a lane).
public final class DeliveryContext: Sendable {
    public let client: WebhookHTTPClient
    /// Requests in flight, process-wide.
    let slots: RequestSlots
    public let progress: PartitionProgress
    public let store: any DeliveryStore
    public let alerts: any AlertSink
    public let routing: SharedRouter
    /// For catch-up readers and probe look-ups.
    public let kafka: KafkaConfig
    /// Called with a partition's new storable offset (its lowest open record).
    public let storeOffset: @Sendable (SourcePartition, Int64) -> Void
    public let logger: Logger
    /// Where every attempt is recorded for audit, if anywhere.
    public let attempts: AttemptLog?
    public let metrics: DeliveryMetrics
    /// One span per attempt (`tracing.otlp_endpoint`); nil: no tracing at all.
    public let tracing: DeliveryTracing?
    /// Wall-clock milliseconds since the epoch (injected so tests can move time).
    public let now: @Sendable () -> Int64
    /// Runs a lane's `run()` (in the engine's task group): called when a wake finds the lane
    /// idle with work to do, at most once until that run ends.
    let startRunner: @Sendable (WebhookLane) -> Void

    public init(
        client: WebhookHTTPClient, maxConcurrentRequests: Int = 256, progress: PartitionProgress, store: any DeliveryStore, alerts: any AlertSink, routing: SharedRouter, kafka: KafkaConfig,
        storeOffset: @escaping @Sendable (SourcePartition, Int64) -> Void, logger: Logger, attempts: AttemptLog? = nil,
        metrics: DeliveryMetrics = DeliveryMetrics(), tracing: DeliveryTracing? = nil, now: @escaping @Sendable () -> Int64 = WallClock.milliseconds,
        startRunner: @escaping @Sendable (WebhookLane) -> Void = { _ in }
    ) {
        self.client = client
        self.slots = RequestSlots(maxConcurrentRequests)
        self.progress = progress
        self.store = store
        self.alerts = alerts
        self.routing = routing
        self.kafka = kafka
        self.storeOffset = storeOffset
        self.logger = logger
        self.attempts = attempts
        self.metrics = metrics
        self.tracing = tracing
        self.now = now
        self.startRunner = startRunner
    }

    /// Settles one live delivery in the partition's progress and stores the offset if it moved.
    func settle(_ partition: SourcePartition, offset: Int64, epoch: UInt64) {
        if let storable = progress.settle(partition, offset: offset, epoch: epoch) { storeOffset(partition, storable) }
    }
}
