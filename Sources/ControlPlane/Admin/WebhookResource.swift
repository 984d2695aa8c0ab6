import Foundation
import WebhookDomain

/// How the API shows a webhook: never its keys.
enum WebhookResource {
    static func json(_ webhook: Webhook, state: WebhookState) -> [String: Any] {
        var json: [String: Any] = [
            "id": webhook.id, "site_id": webhook.siteID, "url": webhook.url, "http_method": webhook.method.rawValue, "topics": webhook.topics,
            "status": state.status.rawValue, "hash_key_count": webhook.hashKeys.count,
            "options": [
                "batching": webhook.options.batching, "signature": webhook.options.signature.rawValue,
                "max_batch_size": webhook.options.maxBatchSize, "batch_linger": webhook.options.batchLinger.seconds,
                "max_pending": webhook.options.maxPending, "format": webhook.options.format.rawValue,
                "rate_limit": webhook.options.rateLimit.map { $0 as Any } ?? NSNull(), "adaptive": webhook.options.adaptive,
            ] as [String: Any],
        ]
        if !webhook.headers.isEmpty { json["headers"] = Dictionary(webhook.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }) }
        // Its type only: the secrets are never returned.
        if let auth = webhook.auth { json["auth"] = ["type": auth.type] }
        if let filter = webhook.filter, let data = try? JSONEncoder().encode(filter), let object = try? JSONSerialization.jsonObject(with: data) {
            json["filter"] = object
        }
        if let pause = state.pause { json["pause"] = pause.rawValue }
        if state.status == .paused, state.pause == .auto { json["retries"] = state.retries }
        if let next = state.nextRetryAtMilliseconds { json["next_retry_at"] = Double(next) / 1000 }
        if let error = state.lastError { json["last_error"] = error }
        return json
    }
}
