/// A destination: where and how to send, which topics, with which keys, in which state.
public struct Webhook: Sendable, Equatable {
    public var id: String
    public var siteID: String
    public var url: String
    public var method: HTTPMethod
    public var topics: [String]
    /// Newest first: h0, h1, h2. Never logged.
    public var hashKeys: [HashKey]
    public var status: WebhookStatus
    public var options: WebhookOptions
    /// Static extra headers of every request (`WebhookHeader.problem` judges them).
    public var headers: [WebhookHeader]
    /// How the receiver authenticates the bridge, besides the signature. Never logged or shown.
    public var auth: WebhookAuth?
    /// A private CA and a client certificate towards the receiver; nil: the system's trust store.
    public var tls: WebhookTLS?
    /// Which messages it gets, of the topics it subscribes to; nil: all.
    public var filter: WebhookFilter?

    public init(
        id: String, siteID: String, url: String, method: HTTPMethod = .post, topics: [String], hashKeys: [HashKey],
        status: WebhookStatus = .enabled, options: WebhookOptions = .init(), headers: [WebhookHeader] = [], auth: WebhookAuth? = nil,
        tls: WebhookTLS? = nil, filter: WebhookFilter? = nil
    ) {
        self.id = id
        self.siteID = siteID
        self.url = url
        self.method = method
        self.topics = topics
        self.hashKeys = hashKeys
        self.status = status
        self.options = options
        self.headers = headers
        self.auth = auth
        self.tls = tls
        self.filter = filter
    }

    /// Adds a new newest key and keeps the three newest.
    public mutating func rotate(to key: HashKey) {
        hashKeys = Array(([key] + hashKeys).prefix(3))
    }
}

/// The six methods of the reference guide (DESIGN.md §4).
public enum HTTPMethod: String, Sendable, CaseIterable, Codable {
    case get = "GET", xget = "XGET", post = "POST", patch = "PATCH", put = "PUT", delete = "DELETE"

    /// The method on the wire: `XGET` is a GET that carries a body.
    public var wireMethod: String { self == .xget ? "GET" : rawValue }
    /// Every method but `GET` carries the JSON body; `GET` sends it as the `payload` query parameter.
    public var carriesBody: Bool { self != .get }
}

public enum WebhookStatus: String, Sendable, Codable, CaseIterable {
    case enabled, paused, disabled, dead
}

public enum SignatureScheme: String, Sendable, Codable, CaseIterable {
    case hmac, standard, both
}

/// The body's shape (DESIGN.md §4).
public enum BodyFormat: String, Sendable, Codable, CaseIterable {
    /// The event as it is (a batch: `{"messages": [...]}`).
    case json
    /// Structured-mode CloudEvents 1.0 (a batch: `application/cloudevents-batch+json`).
    case cloudevents
}

public struct WebhookOptions: Sendable, Equatable {
    public var batching = false
    public var format: BodyFormat = .json
    public var signature: SignatureScheme = .hmac
    public var maxBatchSize = 30
    public var batchLinger: Duration = .milliseconds(20)
    /// Messages held in memory for this webhook before it is parked.
    public var maxPending = 1_000
    /// Requests a second at most (a token bucket with a burst of one second); nil: no limit.
    public var rateLimit: Double?
    /// AIMD on requests in flight, within `max_in_flight` (see `ConcurrencyLimit`).
    public var adaptive = false

    public init() {}

    public static let maxBatchSizeLimit = 30
}
