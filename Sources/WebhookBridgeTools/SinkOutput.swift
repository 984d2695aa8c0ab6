import Foundation
import WebhookDomain

/// The lines `webhook-bridge sink` prints for a request: time, method, message_id, topic,
/// sequence and the signature verdict, and for a batch one line per message.
public enum SinkOutput {
    public static func lines(for request: WebhookReceiver.Received, verifying: Bool) -> [String] {
        let time = ISO8601DateFormatter().string(from: request.receivedAt)
        let verdict = verifying ? verdictText(request) : "signature not checked (no --secret)"
        var lines: [String] = []
        if let count = request.header("message_count") {
            lines.append("\(time) \(request.method) batch_id=\(request.header("batch_id") ?? "-") messages=\(count) \(verdict)")
            for message in (request.json?["messages"] as? [[String: Any]]) ?? [] {
                let headers = message["headers"] as? [String: Any] ?? [:]
                lines.append("    message_id=\(headers["message_id"] ?? "-") topic=\(headers["topic"] ?? "-") sequence=\(headers["sequence"] ?? "-")")
            }
        } else {
            lines.append(
                "\(time) \(request.method) message_id=\(request.header("message_id") ?? "-") topic=\(request.header("topic") ?? "-") sequence=\(request.header("sequence") ?? "-") \(verdict)")
        }
        return lines
    }

    static func verdictText(_ request: WebhookReceiver.Received) -> String {
        var parts: [String] = []
        if request.header("x-webhook-signature") != nil || request.header("webhook-signature") == nil {
            parts.append("hmac: " + describe(request.hmacVerdict, key: "h"))
        }
        if request.header("webhook-signature") != nil {
            parts.append("standard: " + describe(request.standardVerdict, key: "v1#"))
        }
        return parts.joined(separator: " ")
    }

    static func describe(_ verdict: WebhookSignature.Verdict, key: String) -> String {
        switch verdict {
        case .valid(let index): "valid (\(key)\(index))"
        case .invalid: "INVALID"
        case .missing: "missing"
        }
    }
}
