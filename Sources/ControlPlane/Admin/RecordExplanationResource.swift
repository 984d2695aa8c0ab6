import Delivery
import Foundation
import WebhookDomain

/// How `/explain` shows a `RecordExplanation`: the record's coordinates and key (never its
/// value), its routes and messages, and one verdict per webhook with its cursor, this instance's
/// lane and the attempts found. Webhooks by id, never a URL or key.
enum RecordExplanationResource {
    static func json(_ explanation: RecordExplanation) -> [String: Any] {
        var json: [String: Any] = [
            "record": record(explanation.record),
            "partition": [
                "low_watermark": explanation.lowWatermark, "high_watermark": explanation.highWatermark,
                "committed_offset": explanation.committedOffset ?? NSNull(), "held_here": explanation.heldHere,
            ] as [String: Any],
            "routing": routing(explanation),
            "webhooks": explanation.webhooks.map(webhook),
        ]
        if let search = explanation.attemptSearch {
            json["attempts_search"] = [
                "topic": search.topic, "from": Double(search.fromMilliseconds) / 1000, "until": Double(search.untilMilliseconds) / 1000,
                "records_read": search.recordsRead, "complete": search.complete,
            ] as [String: Any]
        }
        return json
    }

    static func record(_ record: SourceRecord) -> [String: Any] {
        var json: [String: Any] = ["topic": record.topic, "partition": Int(record.partition), "offset": record.offset, "tombstone": record.value == nil]
        if let key = record.key {
            if let text = String(validating: key, as: UTF8.self) { json["key"] = text } else { json["key_base64"] = Data(key).base64EncodedString() }
        } else {
            json["key"] = NSNull()
        }
        if let timestamp = record.timestampMilliseconds { json["timestamp"] = Double(timestamp) / 1000 }
        if let header = record.messageIDHeader { json["message_id_header"] = header }
        return json
    }

    static func routing(_ explanation: RecordExplanation) -> [String: Any] {
        var json: [String: Any] = ["routes": explanation.routes.map(route)]
        switch explanation.outcome {
        case .routed(let messages):
            json["outcome"] = "routed"
            json["messages"] = messages.map { message in
                var item: [String: Any] = ["site_id": message.siteID, "webhook_topic": message.topic.name, "message_id": message.messageID, "sequence": message.sequence]
                if let notBefore = message.notBeforeMilliseconds { item["not_before"] = Double(notBefore) / 1000 }
                return item
            }
        case .deadLetter(let reason):
            json["outcome"] = "dead_lettered"
            json["dead_letter_reason"] = reason
            json["messages"] = [Any]()
        case .skipped(let reason):
            json["outcome"] = "skipped"
            json["skip_reason"] = reason
            json["messages"] = [Any]()
        }
        return json
    }

    static func route(_ result: Router.RouteResult) -> [String: Any] {
        let route = result.route
        var json: [String: Any] = [
            "source": route.source, "format": route.format.rawValue, "matched": result.matched, "webhook_topics": result.webhookTopics,
        ]
        switch route.site {
        case .fixed(let id): json["site"] = ["fixed": id]
        case .field(let path): json["site"] = ["field": path]
        case .header(let name): json["site"] = ["header": name]
        }
        switch route.topic {
        case .fixed(let name): json["topic"] = ["fixed": name]
        case .field(let path): json["topic"] = ["field": path]
        case .notification(let path): json["topic"] = ["notification_field": path]
        case .header(let name): json["topic"] = ["header": name]
        }
        if case .debezium = route.envelope { json["envelope"] = "debezium" }
        if let field = route.payloadField { json["payload_field"] = field }
        if let site = result.siteID { json["site_id"] = site }
        if let reason = result.failure ?? result.skipped { json["reason"] = reason }
        return json
    }

    static func webhook(_ verdict: WebhookVerdict) -> [String: Any] {
        var json: [String: Any] = [
            "id": verdict.webhook.id, "site_id": verdict.webhook.siteID, "status": verdict.state.status.rawValue, "verdict": verdict.verdict.rawValue,
            "detail": verdict.detail, "topics": verdict.webhook.topics, "cursor": verdict.cursor ?? NSNull(),
            "messages": verdict.messages.map { ["message_id": $0.messageID, "webhook_topic": $0.webhookTopic] },
        ]
        if let pause = verdict.state.pause { json["pause"] = pause.rawValue }
        if let lane = verdict.lane { json["lane"] = ["mode": lane.mode.rawValue, "standing": lane.standing.rawValue, "position": lane.position] as [String: Any] }
        if let attempts = verdict.attempts { json["attempts"] = attempts.map(attempt) }
        return json
    }

    static func attempt(_ attempt: RecordedAttempt) -> [String: Any] {
        var json: [String: Any] = [
            "attempt": attempt.attempt, "outcome": attempt.outcome, "latency_ms": attempt.latencyMilliseconds, "at": attempt.at,
            "message_ids": attempt.messages.map(\.messageID),
        ]
        if let status = attempt.status { json["status"] = status }
        if let error = attempt.error { json["error"] = error }
        if let batch = attempt.batchID { json["batch_id"] = batch }
        return json
    }
}
