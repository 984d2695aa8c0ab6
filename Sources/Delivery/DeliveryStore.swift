import WebhookDomain

/// Where webhook states (status and retry) and cursors are kept durably: the control topic in
/// production (DESIGN.md §8). Delivery depends only on this interface.
public protocol DeliveryStore: Sendable {
    /// Every saved webhook state, by webhook id.
    func states() async throws -> [String: WebhookState]
    func save(state: WebhookState, webhookID: String) async throws
    /// A webhook's cursors: per source partition, the lowest offset it still has to receive.
    func cursors(webhookID: String) async throws -> [SourcePartition: Int64]
    /// Saves (or, for nil, deletes) cursors. Returns only once they are durable: the commit
    /// invariant relies on it.
    func save(cursors: [SourcePartition: Int64?], webhookID: String) async throws
}
