import Crypto
import Foundation

/// An HTTP request ready to send to a webhook, built from one message or a batch (DESIGN.md §4).
public struct WebhookRequest: Sendable {
    /// The method on the wire (`XGET` goes out as `GET` with a body).
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public static let userAgent = "webhook-bridge/\(WebhookBridgeVersion.current)"

    public init(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8]?) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The request for one message, with the record's trace context.
    public static func single(_ message: RoutedMessage, to webhook: Webhook, timestamp: Int64) -> WebhookRequest {
        single(message, to: webhook, timestamp: timestamp, traceContext: message.traceContext)
    }

    /// The request for one message, carrying `traceContext` (with tracing on, the attempt span's).
    public static func single(_ message: RoutedMessage, to webhook: Webhook, timestamp: Int64, traceContext: TraceContext?) -> WebhookRequest {
        let cloudEvents = webhook.options.format == .cloudevents
        var headers: [(name: String, value: String)] = [
            ("Content-Type", cloudEvents ? "application/cloudevents+json" : "application/json"),
            ("message_id", message.messageID),
            ("topic", message.topic.name),
            ("webhook_id", webhook.id),
            ("sequence", message.sequence),
            ("User-Agent", userAgent),
        ]
        if let traceContext { headers += traceContext.headers }
        let payload = cloudEvents ? CloudEvent.body(of: message) : message.payload
        let request = signed(payload: payload, id: message.messageID, webhook: webhook, timestamp: timestamp, headers: &headers)
        return WebhookRequest(method: webhook.method.wireMethod, url: request.url, headers: headers, body: request.body)
    }

    /// The request for a batch: `{"messages":[{"headers":{…},"data":{…}}, …]}`, signed as a whole.
    /// The `batch_id` is derived from the message ids, so a retried batch keeps its id.
    public static func batch(_ messages: [RoutedMessage], to webhook: Webhook, timestamp: Int64) -> WebhookRequest {
        // A batch carries its first message's trace context.
        batch(messages, to: webhook, timestamp: timestamp, traceContext: messages.first?.traceContext)
    }

    /// The batch request, carrying `traceContext` (with tracing on, the attempt span's).
    public static func batch(_ messages: [RoutedMessage], to webhook: Webhook, timestamp: Int64, traceContext: TraceContext?) -> WebhookRequest {
        let cloudEvents = webhook.options.format == .cloudevents
        var body = Array((cloudEvents ? "[" : #"{"messages":["#).utf8)
        for (index, message) in messages.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            if cloudEvents {
                body += CloudEvent.body(of: message)
                continue
            }
            body += Array(#"{"headers":{"message_id":"#.utf8) + jsonString(message.messageID)
            body += Array(#","topic":"#.utf8) + jsonString(message.topic.name)
            body += Array(#","sequence":"#.utf8) + jsonString(message.sequence)
            body += Array(#"},"data":"#.utf8) + message.payload + [UInt8(ascii: "}")]
        }
        body += Array((cloudEvents ? "]" : "]}").utf8)
        let batchID = MessageID.uuidString(Array(SHA256.hash(data: Array(messages.map(\.messageID).joined(separator: "\n").utf8)).prefix(16)))
        var headers: [(name: String, value: String)] = [
            ("Content-Type", cloudEvents ? "application/cloudevents-batch+json" : "application/json"),
            ("batch_id", batchID),
            ("message_count", String(messages.count)),
            ("webhook_id", webhook.id),
            ("User-Agent", userAgent),
        ]
        if let traceContext { headers += traceContext.headers }
        let request = signed(payload: body, id: batchID, webhook: webhook, timestamp: timestamp, headers: &headers)
        return WebhookRequest(method: webhook.method.wireMethod, url: request.url, headers: headers, body: request.body)
    }

    /// Places the payload (body, or `payload` query parameter for GET) and adds the signature
    /// headers of the webhook's scheme. For GET the signed bytes are the payload itself.
    private static func signed(
        payload: [UInt8], id: String, webhook: Webhook, timestamp: Int64, headers: inout [(name: String, value: String)]
    ) -> (url: String, body: [UInt8]?) {
        headers += webhook.headers.map { ($0.name, $0.value) }
        if let header = webhook.auth?.staticHeader { headers.append(("Authorization", header)) }
        let scheme = webhook.options.signature
        if scheme == .hmac || scheme == .both {
            headers.append((WebhookSignature.hmacHeader, WebhookSignature.hmac(keys: webhook.hashKeys, timestamp: timestamp, body: payload)))
        }
        if scheme == .standard || scheme == .both {
            headers += WebhookSignature.standard(keys: webhook.hashKeys, id: id, timestamp: timestamp, body: payload)
        }
        guard webhook.method.carriesBody else {
            let encoded = String(decoding: payload, as: UTF8.self).addingPercentEncoding(withAllowedCharacters: queryValueAllowed) ?? ""
            let separator = webhook.url.contains("?") ? "&" : "?"
            return (webhook.url + separator + "payload=" + encoded, nil)
        }
        return (webhook.url, payload)
    }

    private static let queryValueAllowed: CharacterSet = {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return allowed
    }()

    static func jsonString(_ text: String) -> [UInt8] { JSONWriter.string(text) }
}

public enum WebhookBridgeVersion {
    public static let current = "0.1.0"
}
