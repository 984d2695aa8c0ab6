/// A topic a webhook subscribes to: standard (built in) or custom (made per site).
public struct WebhookTopic: Hashable, Sendable, Codable {
    public var name: String
    /// Ordered topics deliver the messages of one entity one at a time, in Kafka order.
    public var ordered: Bool

    public init(name: String, ordered: Bool) {
        self.name = name
        self.ordered = ordered
    }

    /// The standard catalog (DESIGN.md §3). More can be added in config.
    public static let standard: [WebhookTopic] = [
        WebhookTopic(name: "order_state_changed", ordered: true),
        WebhookTopic(name: "parcel_state_changed", ordered: true),
        WebhookTopic(name: "line_item_group_state_changed", ordered: true),
        WebhookTopic(name: "buffer_import_completed", ordered: false),
        WebhookTopic(name: "buffer_import_error_occurred", ordered: false),
        WebhookTopic(name: "async_buffer_import_error_occurred", ordered: false),
    ]
}
