import Foundation
import WebhookDomain

/// The JSON values of the control topic (DESIGN.md §8). Each carries a `version` (the schema
/// version, 1) so a later release can read older records.
enum ControlRecords {
    static let version = 1

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] { Array(try encoder.encode(value)) }
    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? { try? JSONDecoder().decode(type, from: Data(bytes)) }
}

/// `webhook/<id>`: a webhook's definition, keys included (every instance signs with them, so
/// the control topic must be protected like any secret store).
struct WebhookRecord: Codable, Equatable {
    var version = ControlRecords.version
    var id: String
    var siteID: String
    var url: String
    var httpMethod: String
    var topics: [String]
    var hashKeys: [String]
    var options: OptionsRecord
    /// Where the webhook came from: `config` (upserted at every start) or `api`.
    var origin: String

    enum CodingKeys: String, CodingKey {
        case version, id, url, topics, options, origin
        case siteID = "site_id"
        case httpMethod = "http_method"
        case hashKeys = "hash_keys"
    }

    init(_ webhook: Webhook, origin: String) {
        id = webhook.id
        siteID = webhook.siteID
        url = webhook.url
        httpMethod = webhook.method.rawValue
        topics = webhook.topics
        hashKeys = webhook.hashKeys.map(\.text)
        options = OptionsRecord(webhook.options)
        self.origin = origin
    }

    var webhook: Webhook? {
        guard let method = HTTPMethod(rawValue: httpMethod) else { return nil }
        return Webhook(id: id, siteID: siteID, url: url, method: method, topics: topics, hashKeys: hashKeys.map(HashKey.init), options: options.options)
    }
}

/// Webhook options as the API and the control topic write them.
public struct OptionsRecord: Codable, Equatable, Sendable {
    public var batching: Bool?
    public var signature: SignatureScheme?
    public var maxBatchSize: Int?
    /// Seconds, fractions allowed.
    public var batchLinger: Double?
    public var maxPending: Int?

    enum CodingKeys: String, CodingKey {
        case batching, signature
        case maxBatchSize = "max_batch_size"
        case batchLinger = "batch_linger"
        case maxPending = "max_pending"
    }

    public init(_ options: WebhookOptions) {
        batching = options.batching
        signature = options.signature
        maxBatchSize = options.maxBatchSize
        batchLinger = options.batchLinger.seconds
        maxPending = options.maxPending
    }

    public init() {}

    /// These options applied over `base`.
    public func applied(to base: WebhookOptions = WebhookOptions()) -> WebhookOptions {
        var options = base
        if let batching { options.batching = batching }
        if let signature { options.signature = signature }
        // Counts are clamped to the API's ranges: a webhook record read from the control topic
        // was checked by no one (a max_pending of Int.min would trap in the lane's arithmetic).
        if let maxBatchSize { options.maxBatchSize = min(max(maxBatchSize, 1), WebhookOptions.maxBatchSizeLimit) }
        if let batchLinger { options.batchLinger = DurationText.seconds(batchLinger) }
        if let maxPending { options.maxPending = min(max(maxPending, 1), 1_000_000) }
        return options
    }

    var options: WebhookOptions { applied() }
}

/// `topic/<site>/<name>`: a custom topic.
struct TopicRecord: Codable, Equatable {
    var version = ControlRecords.version
    var topic: String
    var ordered: Bool
}

/// `site/<id>`: a site's configuration (never its token, which stays in the config file).
struct SiteRecord: Codable, Equatable {
    var version = ControlRecords.version
    var configuration: SiteConfiguration
}
