import Foundation
import Kafka
import WebhookDomain

/// The attempts topic (DESIGN.md §9): one record per delivery attempt, keyed by webhook id, for
/// audit. Written without waiting for the broker, so auditing never slows a delivery; the
/// payload is included only with `logging.log_payloads: true`.
public struct AttemptLog: Sendable {
    let producer: KafkaProducer
    let topic: String
    let includePayloads: Bool

    public init(producer: KafkaProducer, topic: String, includePayloads: Bool) {
        self.producer = producer
        self.topic = topic
        self.includePayloads = includePayloads
    }

    func record(_ messages: [RoutedMessage], request: WebhookRequest, webhookID: String, attempt: Int, result: HTTPAttemptResult, acked: Bool) {
        var value: [String: Any] = [
            "version": 1,
            "webhook_id": webhookID,
            "attempt": attempt,
            "outcome": acked ? "acked" : result.outcomeLabel,
            "latency_ms": result.latency.milliseconds,
            "at": Date().timeIntervalSince1970,
            "messages": messages.map { ["message_id": $0.messageID, "topic": $0.topic.name, "sequence": $0.sequence] },
        ]
        if let status = result.status { value["status"] = status }
        if !acked { value["error"] = result.failureDescription }
        if let batchID = request.headers.first(where: { $0.name == "batch_id" })?.value { value["batch_id"] = batchID }
        if includePayloads { value["payloads"] = messages.map { String(decoding: $0.payload, as: UTF8.self) } }
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        producer.enqueue(KafkaOutgoingRecord(topic: topic, key: Array(webhookID.utf8), value: Array(data)))
    }
}
