import Foundation
import WebhookDomain

// The JSON shapes of the control topic's values (DESIGN.md §8), private to `ControlRecord`'s
// codec. Each has a `version`, required when read.

extension ControlRecord {
    /// `site/<id>`. Records written before ownership have no `origin`: their configuration is
    /// the API's until the file sets one (DESIGN.md §8).
    struct SiteValue: Codable {
        var version = ControlRecord.version
        var configuration: SiteConfiguration
        var origin: Origin?

        init(_ stored: StoredSite) {
            configuration = stored.configuration
            origin = stored.origin
        }

        var stored: StoredSite { StoredSite(configuration, origin: origin ?? .api) }
    }

    /// `topic/<site>/<name>`. Without `origin` (written before ownership): the API's.
    struct TopicValue: Codable {
        var version = ControlRecord.version
        var topic: String
        var ordered: Bool
        var origin: Origin?

        init(_ stored: StoredTopic) {
            topic = stored.topic.name
            ordered = stored.topic.ordered
            origin = stored.origin
        }

        var stored: StoredTopic { StoredTopic(WebhookTopic(name: topic, ordered: ordered), origin: origin ?? .api) }
    }

    /// `status/<webhook>` and `api-status/<webhook>`.
    struct StatusValue: Codable {
        var version = ControlRecord.version
        var state: WebhookState

        /// The state with a `last_error` fit to show (DESIGN.md §10): this version writes only
        /// error kinds and statuses, an older one wrote the HTTP client's words, hosts included.
        var displayableState: WebhookState {
            var state = state
            state.lastError = state.lastError.map(FailureText.displayable)
            return state
        }
    }

    /// `cursor/<webhook>/<source topic>/<partition>`.
    struct CursorValue: Codable {
        var version = ControlRecord.version
        var offset: Int64
        /// Set when written by a replay request (absent otherwise).
        var replay: Bool?
    }

    /// `webhook/<id>`.
    struct WebhookValue: Codable {
        var version = ControlRecord.version
        var id: String
        var siteID: String
        var url: String
        var httpMethod: String
        var topics: [String]
        var hashKeys: [String]
        var options: OptionsRecord
        var origin: String
        var headers: [WebhookHeader]?
        var auth: AuthRecord?
        var tls: TLSRecord?
        var filter: WebhookFilter?

        enum CodingKeys: String, CodingKey {
            case version, id, url, topics, options, origin, headers, auth, tls, filter
            case siteID = "site_id"
            case httpMethod = "http_method"
            case hashKeys = "hash_keys"
        }

        init(_ stored: StoredWebhook) {
            let webhook = stored.webhook
            id = webhook.id
            siteID = webhook.siteID
            url = webhook.url
            httpMethod = webhook.method.rawValue
            topics = webhook.topics
            hashKeys = webhook.hashKeys.map(\.text)
            options = OptionsRecord(webhook.options)
            origin = stored.origin.rawValue
            headers = webhook.headers.isEmpty ? nil : webhook.headers
            auth = webhook.auth.map(AuthRecord.init)
            tls = webhook.tls.map(TLSRecord.init)
            filter = webhook.filter
        }

        /// The webhook as written: its options are not clamped here (the catalog clamps what
        /// it hands to delivery), so a record reads back exactly as it was written.
        var stored: StoredWebhook? {
            guard let method = HTTPMethod(rawValue: httpMethod), let origin = Origin(rawValue: origin) else { return nil }
            let webhook = Webhook(
                id: id, siteID: siteID, url: url, method: method, topics: topics, hashKeys: hashKeys.map(HashKey.init), options: options.applied(),
                headers: headers ?? [], auth: auth?.auth, tls: tls?.tls, filter: filter)
            return StoredWebhook(webhook, origin: origin)
        }
    }
}

/// A webhook's `auth` as the API reads it and the control topic keeps it (secrets included:
/// protect the topic like any secret store).
public struct AuthRecord: Codable, Equatable, Sendable {
    public var type: String
    public var token: String?
    public var username: String?
    public var password: String?
    public var tokenURL: String?
    public var clientID: String?
    public var clientSecret: String?
    public var scope: String?

    enum CodingKeys: String, CodingKey {
        case type, token, username, password, scope
        case tokenURL = "token_url"
        case clientID = "client_id"
        case clientSecret = "client_secret"
    }

    public init(type: String) { self.type = type }

    public init(_ auth: WebhookAuth) {
        type = auth.type
        switch auth {
        case .bearer(let token): self.token = token
        case .basic(let username, let password): (self.username, self.password) = (username, password)
        case .oauth2(let client): (tokenURL, clientID, clientSecret, scope) = (client.tokenURL, client.clientID, client.clientSecret, client.scope)
        }
    }

    /// The auth these fields make, or the problem (naming the field).
    public func validated() -> Result<WebhookAuth, SettingsError> {
        func required(_ value: String?, _ path: String) throws(SettingsError) -> String {
            guard let value else { throw SettingsError(path: path, problem: "required") }
            return value
        }
        let auth: WebhookAuth
        do throws(SettingsError) {
            switch type {
            case "bearer": auth = .bearer(token: try required(token, "token"))
            case "basic": auth = .basic(username: try required(username, "username"), password: try required(password, "password"))
            case "oauth2":
                auth = .oauth2(
                    OAuth2Client(
                        tokenURL: try required(tokenURL, "token_url"), clientID: try required(clientID, "client_id"),
                        clientSecret: try required(clientSecret, "client_secret"), scope: scope))
            default: throw SettingsError(path: "type", problem: "expected one of bearer, basic, oauth2")
            }
        } catch {
            return .failure(error)
        }
        if let problem = auth.problem { return .failure(SettingsError(path: "", problem: problem)) }
        return .success(auth)
    }

    var auth: WebhookAuth? { try? validated().get() }
}

/// A webhook's `tls` as the API reads it and the control topic keeps it: PEM texts (the key
/// included, as for `auth`).
public struct TLSRecord: Codable, Equatable, Sendable {
    public var ca: String?
    public var clientCertificate: String?
    public var clientKey: String?

    enum CodingKeys: String, CodingKey {
        case ca
        case clientCertificate = "client_certificate"
        case clientKey = "client_key"
    }

    public init(ca: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil) {
        (self.ca, self.clientCertificate, self.clientKey) = (ca, clientCertificate, clientKey)
    }

    init(_ tls: WebhookTLS) {
        self.init(ca: tls.certificateAuthority, clientCertificate: tls.clientCertificate, clientKey: tls.clientKey)
    }

    public var tls: WebhookTLS { WebhookTLS(certificateAuthority: ca, clientCertificate: clientCertificate, clientKey: clientKey) }
}

/// Webhook options as the API and the control topic write them.
public struct OptionsRecord: Codable, Equatable, Sendable {
    public var batching: Bool?
    public var format: BodyFormat?
    public var signature: SignatureScheme?
    public var maxBatchSize: Int?
    /// Seconds, fractions allowed.
    public var batchLinger: Double?
    public var maxPending: Int?
    /// Requests a second; nil: none (or, read from the API, unchanged).
    public var rateLimit: Double?
    public var adaptive: Bool?
    /// The API's `"rate_limit": null`: applied, the rate limit goes. Never stored.
    public var removesRateLimit = false

    enum CodingKeys: String, CodingKey {
        case batching, signature, format, adaptive
        case maxBatchSize = "max_batch_size"
        case batchLinger = "batch_linger"
        case maxPending = "max_pending"
        case rateLimit = "rate_limit"
    }

    public init(_ options: WebhookOptions) {
        batching = options.batching
        format = options.format == .json ? nil : options.format
        signature = options.signature
        maxBatchSize = options.maxBatchSize
        batchLinger = options.batchLinger.seconds
        maxPending = options.maxPending
        rateLimit = options.rateLimit
        // Left out at its default, like `format`: records written before these options read the same.
        adaptive = options.adaptive ? true : nil
    }

    public init() {}

    /// These options applied over `base`, as they are: a value out of range stays out of range
    /// for `WebhookOptions.validate()` to refuse (the API) or `clamped()` to bound (the control
    /// topic's reader).
    public func applied(to base: WebhookOptions = WebhookOptions()) -> WebhookOptions {
        var options = base
        if let batching { options.batching = batching }
        if let format { options.format = format }
        if let signature { options.signature = signature }
        if let maxBatchSize { options.maxBatchSize = maxBatchSize }
        if let batchLinger { options.batchLinger = DurationText.secondsKeepingRange(batchLinger) }
        if let maxPending { options.maxPending = maxPending }
        if let rateLimit { options.rateLimit = rateLimit }
        if removesRateLimit { options.rateLimit = nil }
        if let adaptive { options.adaptive = adaptive }
        return options
    }

    /// The options as the control topic's reader takes them: clamped to their limits (a record
    /// was checked by no door; a max_pending of Int.min would trap in the lane's arithmetic).
    var options: WebhookOptions { applied().clamped() }
}
