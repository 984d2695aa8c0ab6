import Foundation
import WebhookDomain

/// What became of one source record for one webhook (`/explain`, DESIGN.md §9), decided from
/// what the bridge holds about it (`Evidence`) with no I/O, so each rule is tested as a value.
///
/// The rules, in order:
/// 1. The record could not be routed: `deadLettered`, with the router's reason; or its routes
///    leave it out on purpose (a Debezium delete or tombstone): `skipped`.
/// 2. None of the webhook topics the record went to (for the webhook's site) is one the webhook
///    subscribes to: `notSubscribed`; its filter keeps every one of them from it: `filtered`.
/// 3. The webhook is dead: `dead`.
/// 4. Where the record stands for the webhook, from this instance's lane when it holds the
///    partition (it is fresher than the stored cursor), else from the webhook's durable cursor and
///    the group's committed offset:
///    - behind the lane, or with no cursor at or before it and the committed offset past it:
///      `delivered` (see docs/decisions.md for what that proves);
///    - queued, in flight or held in the lane, not read yet, or not settled anywhere this
///      instance can see: `pending`;
///    - at or after the webhook's cursor: `parked`.
/// 5. A record not delivered to a webhook paused through the API or disabled: `paused` or
///    `disabled`, whatever its standing (nothing is sent until the webhook is enabled).
public struct WebhookVerdict: Sendable {
    public enum Verdict: String, Sendable, CaseIterable {
        case delivered, pending, parked
        case notSubscribed = "not_subscribed"
        case paused, disabled, dead
        case deadLettered = "dead_lettered"
        case skipped
        case filtered
    }

    /// Why a record gives no message at all.
    public enum Unrouted: Sendable, Equatable {
        /// It could not be routed: it went to the dead-letter topic with this reason.
        case deadLettered(String)
        /// Its routes leave it out on purpose (a Debezium delete or tombstone): settled and counted.
        case skipped(String)
    }

    /// One message of the record for this webhook.
    public struct Message: Sendable, Equatable {
        public var messageID: String
        public var webhookTopic: String
    }

    /// What is known of the record and one webhook, gathered by `DeliveryEngine.explain`.
    public struct Evidence: Sendable {
        public var webhook: Webhook
        public var state: WebhookState
        public var partition: SourcePartition
        public var offset: Int64
        /// The webhook topics the record went to for the webhook's site.
        public var routedTopics: [String]
        /// Why the record gives no message at all, if it gives none.
        public var unrouted: Unrouted?
        /// The webhook's durable cursor for the partition (control topic), if it has one.
        public var cursor: Int64?
        /// The group's committed offset of the partition, if any.
        public var committed: Int64?
        /// This instance's lane, when it holds the partition.
        public var lane: LaneView?
        /// Its attempts for the record's message ids; nil when none were searched.
        public var attempts: [RecordedAttempt]?
        /// The messages the webhook gets from the record (those of the topics it subscribes to
        /// that its filter lets through).
        public var messages: [Message]
        /// Its filter kept the record's messages of its topics from it.
        public var filtered = false
    }

    public var webhook: Webhook
    public var state: WebhookState
    public var verdict: Verdict
    /// The verdict in words, with how it was reached.
    public var detail: String
    public var messages: [Message]
    public var cursor: Int64?
    public var lane: LaneView?
    public var attempts: [RecordedAttempt]?

    public init(_ evidence: Evidence) {
        webhook = evidence.webhook
        state = evidence.state
        messages = evidence.messages
        attempts = evidence.attempts
        (verdict, detail) = Self.decide(evidence)
        // Where a webhook that gets nothing from the record stands says nothing about it.
        let concerned = ![.notSubscribed, .deadLettered, .skipped, .filtered].contains(verdict)
        cursor = concerned ? evidence.cursor : nil
        lane = concerned ? evidence.lane : nil
    }

    /// Where the record stands for the webhook, before its status is taken into account.
    enum Standing {
        case delivered(String)
        case pending(String)
        case parked(String)
    }

    static func decide(_ evidence: Evidence) -> (Verdict, String) {
        switch evidence.unrouted {
        case .deadLettered(let reason)?: return (.deadLettered, "the record could not be routed: \(reason)")
        case .skipped(let reason)?: return (.skipped, "not an event to deliver (\(reason)): settled without a message")
        case nil: break
        }
        if evidence.messages.isEmpty, evidence.filtered {
            return (.filtered, "its filter keeps the event from it: settled without a request")
        }
        if evidence.messages.isEmpty {
            let topics = evidence.webhook.topics.joined(separator: ", ")
            return (.notSubscribed, "subscribes to \(topics); the record went to \(evidence.routedTopics.joined(separator: ", "))")
        }
        if evidence.state.status == .dead { return (.dead, "dead (paused or disabled longer than message_retention): it is sent nothing more") }
        switch standing(evidence) {
        case .delivered(let how):
            return (.delivered, how + attemptsSummary(evidence.attempts))
        case .pending(let why):
            return statusVerdict(evidence.state, standing: why) ?? (.pending, why)
        case .parked(let why):
            if let verdict = statusVerdict(evidence.state, standing: why) { return verdict }
            return (.parked, autoPause(evidence) + why)
        }
    }

    static func standing(_ evidence: Evidence) -> Standing {
        let offset = evidence.offset
        let committed = evidence.committed.map { "the group's committed offset (\($0))" } ?? "the group's committed offset (none yet)"
        if let lane = evidence.lane {
            switch lane.standing {
            case .settled:
                let commit = (evidence.committed ?? -1) > offset ? "\(committed) is past it" : "\(committed) is not past it yet (other webhooks' deliveries, or the next commit)"
                return .delivered("acknowledged: behind its lane here (position \(lane.position)); \(commit)")
            case .queued: return .pending("queued in its lane here")
            case .inFlight: return .pending("in flight from this instance")
            case .held: return .pending("held here while its cursor is written")
            case .notRead: return .pending("not read yet by this instance's consumer")
            case .atOrAfterCursor:
                let reader = lane.mode == .catchingUp ? "; a catch-up is reading the partition, now at \(lane.position)" : ""
                return .parked("at or after its cursor (\(lane.position)): not sent yet\(reader)")
            }
        }
        if let cursor = evidence.cursor, cursor <= offset {
            return .parked("at or after its cursor (\(cursor)): not sent yet; another instance holds the partition")
        }
        if let committedOffset = evidence.committed, committedOffset > offset {
            let cursor = evidence.cursor.map { "its cursor (\($0)) is past the record" } ?? "it has no cursor for the partition"
            return .delivered("\(committed) is past the record and \(cursor)")
        }
        return .pending("not settled yet: \(committed) is not past it and another instance holds the partition (or it is not read yet)")
    }

    /// `paused` or `disabled` for a webhook that sends nothing until it is enabled.
    static func statusVerdict(_ state: WebhookState, standing: String) -> (Verdict, String)? {
        switch (state.status, state.pause) {
        case (.paused, .manual?): (.paused, "paused through the API: nothing is sent until it is enabled; \(standing)")
        case (.disabled, _): (.disabled, "disabled: nothing is sent until it is enabled; \(standing)")
        default: nil
        }
    }

    /// For a webhook paused after a failed delivery: its retry episode, and whether this record is the probe.
    static func autoPause(_ evidence: Evidence) -> String {
        let state = evidence.state
        guard state.status == .paused, state.pause == .auto else { return "" }
        var text = "paused after a failed delivery (\(state.lastError.map(FailureText.displayable) ?? "failed")), \(state.retries) retries so far"
        if let next = state.nextRetryAtMilliseconds {
            text += ", next at \(Date(timeIntervalSince1970: Double(next) / 1000).formatted(.iso8601))"
        }
        if let probe = state.probe, probe.sourceTopic == evidence.partition.topic, probe.partition == evidence.partition.partition, probe.offset == evidence.offset {
            text += "; this record is the probe"
        }
        return text + "; "
    }

    static func attemptsSummary(_ attempts: [RecordedAttempt]?) -> String {
        guard let attempts else { return "" }
        guard let last = attempts.last else { return "; no attempt for its message ids found in the attempts topic in the searched window" }
        return "; \(attempts.count) attempt\(attempts.count == 1 ? "" : "s") found, the last \(last.acknowledged ? "acknowledged" : last.error ?? last.outcome)"
    }
}
