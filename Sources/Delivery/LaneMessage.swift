import Kafka
import WebhookDomain

/// A routed message queued for one webhook, with the source partition's assignment epoch.
public struct LaneMessage: Sendable {
    public var message: RoutedMessage
    public var partition: TopicPartition
    public var epoch: UInt64

    public init(message: RoutedMessage, partition: TopicPartition, epoch: UInt64) {
        self.message = message
        self.partition = partition
        self.epoch = epoch
    }
}
