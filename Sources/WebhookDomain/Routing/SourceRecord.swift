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
    /// Set when the value could not be turned into an event (an Avro value that does not
    /// decode): the reason it is dead-lettered with.
    public var undecodable: String?
    /// The record's Kafka headers, in order (a name may repeat).
    public var headers: [(key: String, value: [UInt8]?)]

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?, messageIDHeader: String? = nil,
        timestampMilliseconds: Int64? = nil, headers: [(key: String, value: [UInt8]?)] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.messageIDHeader = messageIDHeader
        self.timestampMilliseconds = timestampMilliseconds
        self.headers = headers
    }

    /// The first header of that name as UTF-8 text, nil if absent, empty or not UTF-8.
    public func header(_ name: String) -> String? {
        guard let value = headers.first(where: { $0.key == name })?.value, !value.isEmpty else { return nil }
        return String(validating: value, as: UTF8.self)
    }

    /// `<partition>-<offset>`: increasing per entity, so receivers can spot stale updates.
    public var sequence: String { "\(partition)-\(offset)" }
}
