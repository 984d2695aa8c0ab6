/// One event routed to one webhook topic of one site: what every subscribed webhook receives.
public struct RoutedMessage: Sendable {
    public var siteID: String
    public var topic: WebhookTopic
    public var messageID: String
    /// The record had a `message_id` header that is not a safe token: `messageID` is derived
    /// instead, and the replacement is counted where the outcome is handled.
    public var messageIDHeaderReplaced: Bool = false
    public var sequence: String
    /// The entity id (the record key); messages of one entity keep their order on ordered topics.
    public var entity: [UInt8]
    /// The JSON object sent as the body (or inside a batch's `data`).
    public var payload: [UInt8]
    /// Not to be delivered before this time (milliseconds since the epoch), from a
    /// notification's duration; nil when there is no delay.
    public var notBeforeMilliseconds: Int64?
    public var sourcePartition: Int32
    public var sourceOffset: Int64
    /// The source record's timestamp (milliseconds since the epoch), if it had one.
    public var timestampMilliseconds: Int64?
    /// The source record's W3C trace context (`traceparent`, `tracestate`), passed on to the
    /// outbound request when well-formed.
    public var traceContext: TraceContext?

    public init(
        siteID: String, topic: WebhookTopic, messageID: String, sequence: String, entity: [UInt8], payload: [UInt8],
        notBeforeMilliseconds: Int64? = nil, sourcePartition: Int32, sourceOffset: Int64
    ) {
        self.siteID = siteID
        self.topic = topic
        self.messageID = messageID
        self.sequence = sequence
        self.entity = entity
        self.payload = payload
        self.notBeforeMilliseconds = notBeforeMilliseconds
        self.sourcePartition = sourcePartition
        self.sourceOffset = sourceOffset
    }
}
