/// Maps a source topic's events to a site and a webhook topic (DESIGN.md §3).
public struct Route: Sendable, Equatable {
    public enum SiteSelector: Sendable, Equatable {
        case fixed(String)
        /// A field of the event (dotted path) that holds the site id.
        case field(String)
        /// A Kafka header of the record that holds the site id.
        case header(String)
    }

    public enum TopicSelector: Sendable, Equatable {
        case fixed(String)
        /// A field of the event that holds the webhook topic name.
        case field(String)
        /// A field of the event that holds a notification id, looked up in the site's notifications.
        case notification(String)
        /// A Kafka header of the record that holds the webhook topic name.
        case header(String)
    }

    /// How a record's value is encoded.
    public enum Format: String, Sendable, Equatable, CaseIterable {
        case json
        /// The Schema Registry wire format with an Avro body: decoded to JSON before routing.
        case avro
        /// JSON behind the Schema Registry's 5 bytes (magic byte 0, a 4-byte schema id).
        case jsonSR = "json_sr"
    }

    /// What wraps the event in the value.
    public enum Envelope: Sendable, Equatable {
        case none
        /// A Debezium change event: the event is its `after` image; deletes are skipped unless
        /// `includeDeletes` (then the `before` image with `"_deleted": true`).
        case debezium(includeDeletes: Bool)
    }

    /// A source topic, or with a leading `^` a pattern (librdkafka's regex subscription).
    public var source: String
    public var site: SiteSelector
    public var topic: TopicSelector
    /// When set, the body sent is this field's value (an object) instead of the whole event.
    public var payloadField: String?
    public var format: Format
    public var envelope: Envelope

    public init(
        source: String, site: SiteSelector, topic: TopicSelector, payloadField: String? = nil, format: Format = .json, envelope: Envelope = .none
    ) {
        self.source = source
        self.site = site
        self.topic = topic
        self.payloadField = payloadField
        self.format = format
        self.envelope = envelope
    }

    /// Whether `source` is a pattern rather than a topic name (topic names cannot hold `^`).
    public var isPattern: Bool { source.hasPrefix("^") }
}
