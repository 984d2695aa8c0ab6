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

/// Keeps states and cursors in this process's memory only: NOT durable across restarts. It stands
/// in where no control topic is configured (unit tests); production wiring uses the control
/// topic store.
public actor InMemoryDeliveryStore: DeliveryStore {
    private var savedStates: [String: WebhookState] = [:]
    private var savedCursors: [String: [SourcePartition: Int64]] = [:]

    public init() {}

    public func states() -> [String: WebhookState] { savedStates }
    public func save(state: WebhookState, webhookID: String) { savedStates[webhookID] = state }
    public func cursors(webhookID: String) -> [SourcePartition: Int64] { savedCursors[webhookID] ?? [:] }

    public func save(cursors: [SourcePartition: Int64?], webhookID: String) {
        for (partition, offset) in cursors { savedCursors[webhookID, default: [:]][partition] = offset }
        if savedCursors[webhookID]?.isEmpty == true { savedCursors[webhookID] = nil }
    }
}
