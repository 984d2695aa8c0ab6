import Kafka
import WebhookDomain

/// What one instance is doing for a webhook right now (for `/status` and the metrics gauges).
/// In-flight, queued and lag are this instance's: each instance sees the partitions it holds.
public struct WebhookRuntime: Sendable {
    public var id: String
    public var siteID: String
    /// Whether the webhook has a filter (`filteredMessages` counts what it kept).
    public var filters: Bool
    public var state: WebhookState
    public var inFlightRequests: Int
    /// Requests it may have in flight now: `max_in_flight`, or less while its pace holds it
    /// lower (adaptive, or ramping up after a pause).
    public var concurrencyLimit: Int = 0
    public var queuedMessages: Int
    /// Messages this instance has delivered and had acknowledged since it started.
    public var acknowledgedMessages: Int
    /// Messages its filter kept from it here since this instance started.
    public var filteredMessages: Int = 0
    /// Partitions this instance holds where the webhook is parked or catching up (a partition
    /// whose catch-up has handed back to the live path counts as live).
    public var parkedPartitions: Int
    /// Records of those partitions the webhook has still to receive (high watermark minus its
    /// position: the cursor, or the lowest catch-up message not yet acknowledged), when the
    /// watermarks are known.
    public var cursorLag: Int64
}

/// How far this instance's consumer is behind a source partition: its high watermark minus
/// the lowest record not yet done.
public struct PartitionLag: Sendable {
    public var partition: SourcePartition
    public var lag: Int64
}

extension WebhookLane {
    /// The lane's counts; `highWatermark` gives a partition's end when known.
    func runtime(highWatermark: (SourcePartition) -> Int64?) -> WebhookRuntime {
        state.withLock { state in
            var parked = 0
            var lag: Int64 = 0
            for (partition, partitionState) in state.partitions where partitionState.mode != .live {
                if case .joining = partitionState.mode {} else { parked += 1 }
                if let high = highWatermark(partition) { lag += max(0, high - min(partitionState.window.low ?? partitionState.floor, partitionState.floor)) }
            }
            return WebhookRuntime(
                id: state.webhook.id, siteID: state.webhook.siteID, filters: state.webhook.filter != nil, state: state.status, inFlightRequests: state.inFlightRequests,
                concurrencyLimit: state.pace.window(maxInFlight: state.site.maxInFlight), queuedMessages: state.queue.count,
                acknowledgedMessages: state.acknowledgedMessages, filteredMessages: state.filteredMessages,
                parkedPartitions: parked, cursorLag: lag)
        }
    }
}

extension PartitionProgress {
    /// The lowest record of a partition not yet done (nil before any is registered).
    func lowestOpen(_ partition: SourcePartition) -> Int64? {
        partitions.withLock { $0[partition]?.window.low }
    }
}

extension DeliveryEngine {
    /// Every webhook's runtime counts, sorted by id (in place: with 10,000 webhooks a sorted copy
    /// was another 5 MB per `/status` answer).
    public func runtime() -> [WebhookRuntime] {
        let highWatermark = { (partition: SourcePartition) in self.consumer.highWatermark(partition.kafka) }
        var runtimes = lanesByID.values.map { $0.runtime(highWatermark: highWatermark) }
        runtimes.sort { $0.id < $1.id }
        return runtimes
    }

    /// Consumer lag of each partition this instance holds, when its watermark is known.
    public func partitionLags() -> [PartitionLag] {
        positions.compactMap { partition, next in
            guard let high = consumer.highWatermark(partition.kafka) else { return nil }
            return PartitionLag(partition: partition, lag: max(0, high - (progress.lowestOpen(partition) ?? next)))
        }.sorted { ($0.partition.topic, $0.partition.partition) < ($1.partition.topic, $1.partition.partition) }
    }
}
