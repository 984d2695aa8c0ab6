import Foundation
import WebhookDomain

/// One record of the control topic (DESIGN.md §8), typed: what its key names and its decoded
/// value, nil for a tombstone (a deletion). `init?(key:value:)`, `key` and `value()` are the only
/// codec of the topic's keys and values: the view, the catalog, the store and the dispatcher read
/// and write through them, and nothing else spells a key.
///
/// Keys: `site/<site>`, `topic/<site>/<name>`, `webhook/<id>`, `status/<webhook>`,
/// `api-status/<webhook>`, `cursor/<webhook>/<source topic>/<partition>`. Ids may contain `/`
/// (the key's last components are read first: a Kafka topic name and a partition number cannot).
/// Values are JSON objects with a `version` (`ControlRecord.version`).
public enum ControlRecord: Sendable, Equatable {
    /// A site's configuration (never its token, which stays in the config file).
    case site(id: String, StoredSite?)
    /// A custom topic of a site.
    case topic(site: String, name: String, StoredTopic?)
    /// A webhook's definition, keys included (every instance signs with them, so the control
    /// topic must be protected like any secret store).
    case webhook(id: String, StoredWebhook?)
    /// A webhook's state as its lane last wrote it (an automatic transition, or its initial status).
    case status(webhookID: String, WebhookState?)
    /// The last status change made through the API (with its `basis`); `WebhookState.effective`
    /// of this and `status` is the state in effect.
    case requestedStatus(webhookID: String, WebhookState?)
    /// Where a webhook resumes in one source partition (DESIGN.md §7).
    case cursor(webhookID: String, SourcePartition, Cursor?)

    /// The schema version written in every value, so a later release can read older records.
    /// Values of any version are read by their fields (unknown fields are ignored).
    public static let version = 1

    /// A webhook record's value: the webhook (its `status` is not part of it: that is the
    /// status records') and who manages it (DESIGN.md §8).
    public struct StoredWebhook: Sendable, Equatable {
        public var webhook: Webhook
        public var origin: Origin

        public init(_ webhook: Webhook, origin: Origin) {
            self.webhook = webhook
            self.origin = origin
        }
    }

    /// Who manages a site's configuration, a custom topic or a webhook (DESIGN.md §8): the
    /// config file (upserted at start-up and on reload, pruned when gone from it, 409
    /// `managed_by_config` to the API) or the API (never touched by the file).
    public enum Origin: String, Sendable, Codable {
        case config, api
    }

    /// A site record's value: its configuration and who manages it.
    public struct StoredSite: Sendable, Equatable {
        public var configuration: SiteConfiguration
        public var origin: Origin

        public init(_ configuration: SiteConfiguration, origin: Origin) {
            self.configuration = configuration
            self.origin = origin
        }
    }

    /// A custom-topic record's value: the topic and who manages it.
    public struct StoredTopic: Sendable, Equatable {
        public var topic: WebhookTopic
        public var origin: Origin

        public init(_ topic: WebhookTopic, origin: Origin) {
            self.topic = topic
            self.origin = origin
        }
    }

    public struct Cursor: Sendable, Equatable {
        /// The lowest offset the webhook still has to receive.
        public var offset: Int64
        /// Written by a replay request: the partition's owner replays from `offset`.
        public var replay: Bool

        public init(offset: Int64, replay: Bool = false) {
            self.offset = offset
            self.replay = replay
        }
    }

    /// The key prefixes of the kinds that are read as a whole (the view indexes keys by prefix).
    enum Prefix {
        static let sites = "site/"
        static let webhooks = "webhook/"
        static let statuses = "status/"
        static let requestedStatuses = "api-status/"
        static func topics(site: String) -> String { "topic/\(site)/" }
        static func cursors(webhookID: String) -> String { "cursor/\(webhookID)/" }
    }

    // MARK: - Keys

    public var key: String {
        switch self {
        case .site(let id, _): "site/\(id)"
        case .topic(let site, let name, _): "topic/\(site)/\(name)"
        case .webhook(let id, _): "webhook/\(id)"
        case .status(let id, _): "status/\(id)"
        case .requestedStatus(let id, _): "api-status/\(id)"
        case .cursor(let id, let partition, _): "cursor/\(id)/\(partition.topic)/\(partition.partition)"
        }
    }

    /// Whether this record deletes its key.
    public var isTombstone: Bool {
        switch self {
        case .site(_, let value): value == nil
        case .topic(_, _, let value): value == nil
        case .webhook(_, let value): value == nil
        case .status(_, let value), .requestedStatus(_, let value): value == nil
        case .cursor(_, _, let value): value == nil
        }
    }

    /// The same key with no value: what deletes it, and what names it for a look-up.
    public var tombstone: ControlRecord {
        switch self {
        case .site(let id, _): .site(id: id, nil)
        case .topic(let site, let name, _): .topic(site: site, name: name, nil)
        case .webhook(let id, _): .webhook(id: id, nil)
        case .status(let id, _): .status(webhookID: id, nil)
        case .requestedStatus(let id, _): .requestedStatus(webhookID: id, nil)
        case .cursor(let id, let partition, _): .cursor(webhookID: id, partition, nil)
        }
    }

    // MARK: - Decoding

    /// The record a key and value make, or nil when the key is not one of the topic's or the
    /// value does not decode (the caller logs and skips it: never a crash).
    public init?(key: String, value: [UInt8]?) {
        guard let slash = key.firstIndex(of: "/") else { return nil }
        let kind = key[..<slash]
        let rest = String(key[key.index(after: slash)...])
        guard !rest.isEmpty else { return nil }
        let data = value.map { Data($0) }
        switch kind {
        case "site":
            guard let stored = Self.decode(SiteValue.self, data, { $0.stored }) else { return nil }
            self = .site(id: rest, stored)
        case "topic":
            guard let stored = Self.decode(TopicValue.self, data, { $0.stored }) else { return nil }
            // The value names the topic, which splits the key even where a name holds a `/` (the
            // config file allows it); a tombstone is split at its last `/`.
            if let stored {
                let name = stored.topic.name
                guard rest.hasSuffix("/" + name), rest.count > name.count + 1 else { return nil }
                self = .topic(site: String(rest.dropLast(name.count + 1)), name: name, stored)
            } else {
                guard let (site, name) = Self.lastComponent(of: rest) else { return nil }
                self = .topic(site: site, name: name, nil)
            }
        case "webhook":
            guard let stored = Self.decode(WebhookValue.self, data, { $0.stored }) else { return nil }
            // The value names the webhook too: a value written for another key is not this record.
            if let stored, stored.webhook.id != rest { return nil }
            self = .webhook(id: rest, stored)
        case "status":
            guard let state = Self.decode(StatusValue.self, data, { $0.displayableState }) else { return nil }
            self = .status(webhookID: rest, state)
        case "api-status":
            guard let state = Self.decode(StatusValue.self, data, { $0.displayableState }) else { return nil }
            self = .requestedStatus(webhookID: rest, state)
        case "cursor":
            guard let (head, partitionText) = Self.lastComponent(of: rest), let partition = Int32(partitionText), partition >= 0,
                let (webhookID, topic) = Self.lastComponent(of: head)
            else { return nil }
            guard let cursor = Self.decode(CursorValue.self, data, { Cursor(offset: $0.offset, replay: $0.replay ?? false) }) else { return nil }
            self = .cursor(webhookID: webhookID, SourcePartition(topic, partition), cursor)
        default:
            return nil
        }
    }

    /// `a/b/c` → (`a/b`, `c`); nil unless both parts are non-empty.
    private static func lastComponent(of text: String) -> (String, String)? {
        guard let slash = text.lastIndex(of: "/") else { return nil }
        let head = String(text[..<slash])
        let last = String(text[text.index(after: slash)...])
        return head.isEmpty || last.isEmpty ? nil : (head, last)
    }

    /// `.some(nil)` for a tombstone, `.some(value)` for a value that decodes, nil for one that
    /// does not.
    private static func decode<Wire: Decodable, Value>(_ type: Wire.Type, _ data: Data?, _ transform: (Wire) -> Value?) -> Value?? {
        guard let data else { return .some(nil) }
        guard let wire = try? JSONDecoder().decode(Wire.self, from: data), let value = transform(wire) else { return nil }
        return .some(value)
    }

    // MARK: - Encoding

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The record's value as written to the topic, nil for a tombstone.
    public func value() throws -> [UInt8]? {
        switch self {
        case .site(_, let stored): try stored.map { try Self.encode(SiteValue($0)) }
        case .topic(_, _, let stored): try stored.map { try Self.encode(TopicValue($0)) }
        case .webhook(_, let stored): try stored.map { try Self.encode(WebhookValue($0)) }
        case .status(_, let state), .requestedStatus(_, let state): try state.map { try Self.encode(StatusValue(state: $0)) }
        case .cursor(_, _, let cursor): try cursor.map { try Self.encode(CursorValue(offset: $0.offset, replay: $0.replay ? true : nil)) }
        }
    }

    private static func encode<T: Encodable>(_ value: T) throws -> [UInt8] { Array(try encoder.encode(value)) }
}
