import Delivery
import Foundation
import Kafka
import WebhookDomain

/// Webhook states and cursors kept in the control topic (DESIGN.md §8): a lane's state in
/// `ControlRecord.status`, the last status change made through the API in
/// `ControlRecord.requestedStatus` (the state it set, with a new `basis`), cursors in
/// `ControlRecord.cursor`. A webhook's state is `WebhookState.effective` of its two status
/// records. A cursor write returns once the broker has it (acks=all), which is what the commit
/// invariant needs.
public struct ControlTopicStore: DeliveryStore {
    let view: ControlTopicView

    public init(view: ControlTopicView) { self.view = view }

    public func states() -> [String: WebhookState] {
        var ids: Set<String> = []
        for record in view.records(prefix: ControlRecord.Prefix.statuses) + view.records(prefix: ControlRecord.Prefix.requestedStatuses) {
            switch record {
            case .status(let id, _), .requestedStatus(let id, _): ids.insert(id)
            default: break
            }
        }
        var states: [String: WebhookState] = [:]
        for id in ids { states[id] = state(id) }
        return states
    }

    /// One webhook's state in effect, if any is stored.
    public func state(_ webhookID: String) -> WebhookState? {
        var requested: WebhookState?
        var automatic: WebhookState?
        if case .requestedStatus(_, let state)? = view.record(.requestedStatus(webhookID: webhookID, nil)) { requested = state }
        if case .status(_, let state)? = view.record(.status(webhookID: webhookID, nil)) { automatic = state }
        return WebhookState.effective(requested: requested, automatic: automatic)
    }

    /// A lane's state (an automatic transition, or its initial status).
    public func save(state: WebhookState, webhookID: String) async throws {
        try await view.write(.status(webhookID: webhookID, state))
    }

    /// A status change made through the API: it gets a new `basis`, so that no automatic
    /// transition computed before it (on any instance) can undo it.
    public func saveRequested(state: WebhookState, webhookID: String) async throws {
        var state = state
        state.basis = UUID().uuidString
        try await view.write(.requestedStatus(webhookID: webhookID, state))
    }

    public func cursors(webhookID: String) -> [SourcePartition: Int64] {
        var cursors: [SourcePartition: Int64] = [:]
        // The prefix also holds the cursors of webhooks whose id extends this one with a `/`
        // (`erp/one` under `erp/`): only this webhook's are kept.
        for case .cursor(let id, let partition, let cursor?) in view.records(prefix: ControlRecord.Prefix.cursors(webhookID: webhookID)) where id == webhookID {
            cursors[partition] = cursor.offset
        }
        return cursors
    }

    public func save(cursors: [SourcePartition: Int64?], webhookID: String) async throws {
        for (partition, offset) in cursors {
            try await view.write(.cursor(webhookID: webhookID, partition, offset.map { ControlRecord.Cursor(offset: $0) }))
        }
    }

    /// Cursors set by a replay request (`POST /webhooks/{id}/replay`).
    public func saveReplay(cursors: [SourcePartition: Int64], webhookID: String) async throws {
        for (partition, offset) in cursors {
            try await view.write(.cursor(webhookID: webhookID, partition, ControlRecord.Cursor(offset: offset, replay: true)))
        }
    }
}
