/// An event as the domain sees it: a record of a source topic, with Kafka's coordinates.
/// The domain layer does not depend on the Kafka layer; delivery converts records into this.
public struct SourceRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The entity id; missing or empty keys share one entity.
    public var key: [UInt8]?
    /// Nil for a tombstone.
    public var value: [UInt8]?
    /// The record's own `message_id` header, if it has one.
    public var messageIDHeader: String?
    public var timestampMilliseconds: Int64?

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?, messageIDHeader: String? = nil,
        timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.messageIDHeader = messageIDHeader
        self.timestampMilliseconds = timestampMilliseconds
    }

    /// `<partition>-<offset>`: increasing per entity, so receivers can spot stale updates.
    public var sequence: String { "\(partition)-\(offset)" }
}
