import Kafka
import Logging
import WebhookDomain

/// What every lane shares: the HTTP client, the offset bookkeeping and where storable offsets go.
public struct DeliveryContext: Sendable {
    public var client: WebhookHTTPClient
    public var progress: PartitionProgress
    /// Called with a partition's new storable offset (the lowest record not yet done).
    public var storeOffset: @Sendable (TopicPartition, Int64) -> Void
    /// Pause before a failed delivery is tried again. Issue 3 replaces this with the site's retry
    /// schedule and webhook statuses.
    public var retryPause: Duration
    public var logger: Logger

    public init(
        client: WebhookHTTPClient, progress: PartitionProgress, storeOffset: @escaping @Sendable (TopicPartition, Int64) -> Void,
        retryPause: Duration = .seconds(1), logger: Logger
    ) {
        self.client = client
        self.progress = progress
        self.storeOffset = storeOffset
        self.retryPause = retryPause
        self.logger = logger
    }
}
