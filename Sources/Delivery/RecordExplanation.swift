import Kafka
import WebhookDomain

/// Where one source record went (DESIGN.md §9, `GET /explain`, `webhook-bridge explain`): the
/// record's coordinates, what each route made of it, the messages (with their ids) delivery
/// gives it, and a verdict for every webhook of the sites it concerns. Made by
/// `DeliveryEngine.explain`.
public struct RecordExplanation: Sendable {
    /// The record as read from Kafka; its value is not shown anywhere.
    public var record: SourceRecord
    /// The partition's log start and end (the next offset) when the record was read.
    public var lowWatermark: Int64
    public var highWatermark: Int64
    /// The group's committed offset of the partition, if any.
    public var committedOffset: Int64?
    /// Whether this instance holds the partition (its lanes' state is then part of the verdicts).
    public var heldHere: Bool
    /// Every route of the source topic, with what it made of the record.
    public var routes: [Router.RouteResult]
    /// The record routed exactly as delivery routes it: its messages, or its dead-letter reason.
    public var outcome: Router.Outcome
    /// One per webhook of the sites the record concerns, by id.
    public var webhooks: [WebhookVerdict]
    /// The attempts topic as searched; nil when no webhook gets a message from the record, or the
    /// bridge records no attempts.
    public var attemptSearch: AttemptSearch.Result?
}

/// Why a record cannot be explained: the request names none that the bridge reads, or Kafka did
/// not answer.
public struct ExplainError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A parameter names nothing the bridge reads (`field` says which).
        case invalidRequest = "invalid_request"
        /// No such partition, or no record at that offset.
        case notFound = "not_found"
        /// Kafka did not answer in time: try again.
        case unavailable
    }

    public let code: Code
    /// The request parameter at fault (`invalidRequest`).
    public let field: String?
    public let message: String

    public var isRetriable: Bool { code == .unavailable }
    /// Short and label-safe (the message may quote the request).
    public var description: String { code.rawValue }

    public static func invalid(_ field: String, _ message: String) -> ExplainError { ExplainError(code: .invalidRequest, field: field, message: message) }
    public static func notFound(_ message: String) -> ExplainError { ExplainError(code: .notFound, field: nil, message: message) }
    public static func unavailable(_ message: String) -> ExplainError { ExplainError(code: .unavailable, field: nil, message: message) }
}
