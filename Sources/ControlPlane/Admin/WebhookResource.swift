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
        // Its type (and an OAuth 2.0 client's endpoint and id) only: the secrets are never returned.
        switch webhook.auth {
        case .oauth2(let client)?: json["auth"] = ["type": "oauth2", "token_url": client.tokenURL, "client_id": client.clientID]
        case let auth?: json["auth"] = ["type": auth.type]
        case nil: break
        }
        // Which parts are set; the PEMs themselves are not shown.
        if let tls = webhook.tls {
            json["tls"] = ["ca": tls.certificateAuthority != nil, "client_certificate": tls.clientCertificate != nil]
        }
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
