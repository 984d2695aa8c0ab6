import Foundation

/// One delivery attempt as `AttemptLog` wrote it to the attempts topic (DESIGN.md §9), read back
/// for `/explain`. The payloads, when the log has them, are left out.
public struct RecordedAttempt: Sendable, Equatable, Decodable {
    public struct Message: Sendable, Equatable, Decodable {
        public var messageID: String
        public var topic: String
        public var sequence: String

        enum CodingKeys: String, CodingKey {
            case messageID = "message_id", topic, sequence
        }
    }

    public var webhookID: String
    /// 1 for the first attempt, then the probe's retries (2, 3, …).
    public var attempt: Int
    /// `acked`, or the failure's label (`status_500`, `timeout`, `connection_error`, …).
    public var outcome: String
    public var status: Int?
    /// The failure as shown to tenants (its kind or HTTP status, never a host).
    public var error: String?
    public var latencyMilliseconds: Int64
    /// Seconds since the epoch.
    public var at: Double
    public var batchID: String?
    public var messages: [Message]

    enum CodingKeys: String, CodingKey {
        case webhookID = "webhook_id", attempt, outcome, status, error, latencyMilliseconds = "latency_ms", at, batchID = "batch_id", messages
    }

    public var acknowledged: Bool { outcome == "acked" }
}

extension RecordedAttempt {
    /// The attempt a record of the attempts topic holds; nil for anything else.
    public init?(json bytes: [UInt8]) {
        guard let attempt = try? JSONDecoder().decode(Self.self, from: Data(bytes)) else { return nil }
        self = attempt
    }
}
