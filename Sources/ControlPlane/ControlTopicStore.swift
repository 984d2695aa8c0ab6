import Delivery
import Foundation
import Kafka
import WebhookDomain

/// Webhook states and cursors kept in the control topic (DESIGN.md §8):
/// `status/<webhook>` holds the status and retry state as the lanes last wrote it,
/// `api-status/<webhook>` the last status change made through the API (the state it set, with a
/// new `basis`), `cursor/<webhook>/<source topic>/<partition>` a cursor; each value is JSON with a
/// `version`. A webhook's state is `WebhookState.effective` of its two status records. A cursor
/// write returns once the broker has it (acks=all), which is what the commit invariant needs.
public struct ControlTopicStore: DeliveryStore {
    public static let version = 1

    let view: ControlTopicView

    public init(view: ControlTopicView) { self.view = view }

    struct StatusRecord: Codable {
        var version: Int
        var state: WebhookState
    }

    struct CursorRecord: Codable {
        var version: Int
        var offset: Int64
        /// Set when written by a replay request: the partition's owner replays from it.
        var replay: Bool?
    }

    static func statusKey(_ webhookID: String) -> String { "status/\(webhookID)" }
    static func requestedStatusKey(_ webhookID: String) -> String { "api-status/\(webhookID)" }
    static func cursorKey(_ webhookID: String, _ partition: SourcePartition) -> String {
        "cursor/\(webhookID)/\(partition.topic)/\(partition.partition)"
    }

    public func states() -> [String: WebhookState] {
        let ids = Set((view.values(prefix: "status/").keys.map { $0.dropFirst("status/".count) })
            + view.values(prefix: "api-status/").keys.map { $0.dropFirst("api-status/".count) })
        var states: [String: WebhookState] = [:]
        for id in ids { states[String(id)] = state(String(id)) }
        return states
    }

    /// One webhook's state in effect, if any is stored.
    public func state(_ webhookID: String) -> WebhookState? {
        WebhookState.effective(requested: decodedState(Self.requestedStatusKey(webhookID)), automatic: decodedState(Self.statusKey(webhookID)))
    }

    private func decodedState(_ key: String) -> WebhookState? {
        view.value(key).flatMap { try? JSONDecoder().decode(StatusRecord.self, from: Data($0)).state }
    }

    /// A lane's state (an automatic transition, or its initial status).
    public func save(state: WebhookState, webhookID: String) async throws {
        try await view.write(Self.statusKey(webhookID), Self.statusValue(state))
    }

    /// A status change made through the API: it gets a new `basis`, so that no automatic
    /// transition computed before it (on any instance) can undo it.
    public func saveRequested(state: WebhookState, webhookID: String) async throws {
        var state = state
        state.basis = UUID().uuidString
        try await view.write(Self.requestedStatusKey(webhookID), Self.statusValue(state))
    }

    static func statusValue(_ state: WebhookState) throws -> [UInt8] {
        Array(try JSONEncoder().encode(StatusRecord(version: Self.version, state: state)))
    }

    public func cursors(webhookID: String) -> [SourcePartition: Int64] {
        let prefix = "cursor/\(webhookID)/"
        var cursors: [SourcePartition: Int64] = [:]
        for (key, value) in view.values(prefix: prefix) {
            // Topic names cannot contain "/", so the last two components are topic and partition.
            let parts = key.dropFirst(prefix.count).split(separator: "/")
            guard parts.count == 2, let partition = Int32(parts[1]),
                let record = try? JSONDecoder().decode(CursorRecord.self, from: Data(value))
            else { continue }
            cursors[SourcePartition(String(parts[0]), partition)] = record.offset
        }
        return cursors
    }

    public func save(cursors: [SourcePartition: Int64?], webhookID: String) async throws {
        for (partition, offset) in cursors {
            let value = try offset.map { Array(try JSONEncoder().encode(CursorRecord(version: Self.version, offset: $0))) }
            try await view.write(Self.cursorKey(webhookID, partition), value)
        }
    }

    /// Cursors set by a replay request (`POST /webhooks/{id}/replay`).
    public func saveReplay(cursors: [SourcePartition: Int64], webhookID: String) async throws {
        for (partition, offset) in cursors {
            try await view.write(Self.cursorKey(webhookID, partition), Array(JSONEncoder().encode(CursorRecord(version: Self.version, offset: offset, replay: true))))
        }
    }

    /// The replay request a cursor record carries, if it is one. Decided on the record as
    /// written, not on the key's latest value, which the partition's owner may already have
    /// overwritten with its own cursor.
    public func replayRequest(key: String, value: [UInt8]?) -> (webhookID: String, partition: SourcePartition, offset: Int64)? {
        guard key.hasPrefix("cursor/"), let value,
            let record = try? JSONDecoder().decode(CursorRecord.self, from: Data(value)), record.replay == true
        else { return nil }
        var parts = key.dropFirst("cursor/".count).split(separator: "/").map(String.init)
        guard parts.count >= 3, let partition = Int32(parts.removeLast()) else { return nil }
        let topic = parts.removeLast()
        return (parts.joined(separator: "/"), SourcePartition(topic, partition), record.offset)
    }
}
