import Foundation
import Kafka
import Logging
import WebhookDomain

/// What every lane shares.
public struct DeliveryContext: Sendable {
    public var client: WebhookHTTPClient
    /// Requests in flight, process-wide.
    var slots: RequestSlots
    public var progress: PartitionProgress
    public var store: any DeliveryStore
    public var alerts: any AlertSink
    public var routing: SharedRouter
    /// For catch-up readers and probe look-ups.
    public var kafka: KafkaConfig
    /// Called with a partition's new storable offset (its lowest open record).
    public var storeOffset: @Sendable (SourcePartition, Int64) -> Void
    public var logger: Logger
    /// Where every attempt is recorded for audit, if anywhere.
    public var attempts: AttemptLog?
    public var metrics: DeliveryMetrics
    /// One span per attempt (`tracing.otlp_endpoint`); nil: no tracing at all.
    public var tracing: DeliveryTracing?
    /// Wall-clock milliseconds since the epoch (injected so tests can move time).
    public var now: @Sendable () -> Int64
    /// Runs a lane's `run()` (in the engine's task group): called when a wake finds the lane
    /// idle with work to do, at most once until that run ends.
    var startRunner: @Sendable (WebhookLane) -> Void = { _ in }

    public init(
        client: WebhookHTTPClient, maxConcurrentRequests: Int = 256, progress: PartitionProgress, store: any DeliveryStore, alerts: any AlertSink, routing: SharedRouter, kafka: KafkaConfig,
        storeOffset: @escaping @Sendable (SourcePartition, Int64) -> Void, logger: Logger, attempts: AttemptLog? = nil,
        metrics: DeliveryMetrics = DeliveryMetrics(), tracing: DeliveryTracing? = nil, now: @escaping @Sendable () -> Int64 = WallClock.milliseconds
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
    }

    /// Settles one live delivery in the partition's progress and stores the offset if it moved.
    func settle(_ partition: SourcePartition, offset: Int64, epoch: UInt64) {
        if let storable = progress.settle(partition, offset: offset, epoch: epoch) { storeOffset(partition, storable) }
    }
}
