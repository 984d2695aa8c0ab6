import Delivery
import Foundation
import Kafka
import WebhookDomain

/// Webhook states and cursors kept in the control topic (DESIGN.md §8):
/// `status/<webhook>` holds the status and retry state, `cursor/<webhook>/<source topic>/<partition>`
/// a cursor; each value is JSON with a `version`. A cursor write returns once the broker has it
/// (acks=all), which is what the commit invariant needs.
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
    static func cursorKey(_ webhookID: String, _ partition: SourcePartition) -> String {
        "cursor/\(webhookID)/\(partition.topic)/\(partition.partition)"
    }

    public func states() -> [String: WebhookState] {
        var states: [String: WebhookState] = [:]
        for (key, value) in view.values(prefix: "status/") {
            guard let record = try? JSONDecoder().decode(StatusRecord.self, from: Data(value)) else { continue }
            states[String(key.dropFirst("status/".count))] = record.state
        }
        return states
    }

    /// One webhook's stored state, if any.
    public func state(_ webhookID: String) -> WebhookState? {
        view.value(Self.statusKey(webhookID)).flatMap { try? JSONDecoder().decode(StatusRecord.self, from: Data($0)).state }
    }

    public func save(state: WebhookState, webhookID: String) async throws {
        try await view.write(Self.statusKey(webhookID), Self.statusValue(state))
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
