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
        var json = JSONWriter()
        json.add("version", Int64(1))
        json.add("webhook_id", webhookID)
        json.add("attempt", Int64(attempt))
        json.add("outcome", acked ? "acked" : result.outcomeLabel)
        json.add("latency_ms", result.latency.milliseconds)
        json.add("at", Date().timeIntervalSince1970)
        json.addObjects("messages", messages) { item, message in
            item.add("message_id", message.messageID)
            item.add("topic", message.topic.name)
            item.add("sequence", message.sequence)
        }
        if let status = result.status { json.add("status", Int64(status)) }
        if !acked { json.add("error", result.failureDescription) }
        if let batchID = request.headers.first(where: { $0.name == "batch_id" })?.value { json.add("batch_id", batchID) }
        if includePayloads { json.add("payloads", strings: messages.lazy.map { String(decoding: $0.payload, as: UTF8.self) }) }
        producer.enqueue(KafkaOutgoingRecord(topic: topic, key: Array(webhookID.utf8), value: json.finish()))
    }
}
