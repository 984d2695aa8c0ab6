/// Maps a source topic's events to a site and a webhook topic (DESIGN.md §3).
public struct Route: Sendable, Equatable {
    public enum SiteSelector: Sendable, Equatable {
        case fixed(String)
        /// A field of the event (dotted path) that holds the site id.
        case field(String)
    }

    public enum TopicSelector: Sendable, Equatable {
        case fixed(String)
        /// A field of the event that holds the webhook topic name.
        case field(String)
        /// A field of the event that holds a notification id, looked up in the site's notifications.
        case notification(String)
    }

    public var source: String
    public var site: SiteSelector
    public var topic: TopicSelector
    /// When set, the body sent is this field's value (an object) instead of the whole event.
    public var payloadField: String?

    public init(source: String, site: SiteSelector, topic: TopicSelector, payloadField: String? = nil) {
        self.source = source
        self.site = site
        self.topic = topic
        self.payloadField = payloadField
    }
}
