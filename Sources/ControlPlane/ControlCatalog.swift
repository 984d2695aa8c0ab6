import Delivery
import Foundation
import Kafka
import WebhookDomain

/// Sites, custom topics and webhooks as the control topic holds them (DESIGN.md §8), on top of
/// the config file's sites (which bring the tokens; tokens are never written to the topic).
///
/// Reads come from the view; writes go through the topic and are visible here once read back.
public struct ControlCatalog: Sendable {
    public let view: ControlTopicView
    public let store: ControlTopicStore
    /// The config file's sites: their ids and tokens, and the settings used until a site record
    /// says otherwise.
    private let configSites: [String: Site]
    private let routes: [Route]
    private let extraTopics: [WebhookTopic]

    public init(view: ControlTopicView, configSites: [Site], routes: [Route], extraTopics: [WebhookTopic]) {
        self.view = view
        store = ControlTopicStore(view: view)
        self.configSites = Dictionary(configSites.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.routes = routes
        self.extraTopics = extraTopics
    }

    static func webhookKey(_ id: String) -> String { "webhook/\(id)" }
    static func siteKey(_ id: String) -> String { "site/\(id)" }
    static func topicKey(site: String, _ name: String) -> String { "topic/\(site)/\(name)" }

    // MARK: - Reading

    /// Every site with its stored configuration and custom topics applied.
    public var sites: [Site] { configSites.keys.sorted().compactMap(site) }

    public func site(_ id: String) -> Site? {
        guard var site = configSites[id] else { return nil }
        if let record = view.value(Self.siteKey(id)).flatMap({ ControlRecords.decode(SiteRecord.self, $0) }) {
            site = record.configuration.applied(to: site)
        }
        site.customTopics = customTopics(site: id)
        return site
    }

    public func customTopics(site: String) -> [WebhookTopic] {
        view.values(prefix: "topic/\(site)/").values.compactMap { ControlRecords.decode(TopicRecord.self, $0) }
            .map { WebhookTopic(name: $0.topic, ordered: $0.ordered) }.sorted { $0.name < $1.name }
    }

    public var webhooks: [Webhook] {
        view.values(prefix: "webhook/").values.compactMap { ControlRecords.decode(WebhookRecord.self, $0)?.webhook }.sorted { $0.id < $1.id }
    }

    public func webhook(_ id: String) -> Webhook? {
        view.value(Self.webhookKey(id)).flatMap { ControlRecords.decode(WebhookRecord.self, $0)?.webhook }
    }

    /// The stored status, or the default for a webhook that has none yet.
    public func state(_ webhookID: String) -> WebhookState {
        store.state(webhookID) ?? WebhookState()
    }

    public var router: Router { Router(routes: routes, sites: sites, extraTopics: extraTopics) }

    // MARK: - Writing (applied when read back)

    public func save(_ webhook: Webhook, origin: String = "api") async throws {
        try await view.write(Self.webhookKey(webhook.id), ControlRecords.encode(WebhookRecord(webhook, origin: origin)))
    }

    /// Deletes a webhook with its status and cursors.
    public func delete(webhookID: String) async throws {
        let cursors = store.cursors(webhookID: webhookID)
        try await store.save(cursors: cursors.mapValues { _ in nil }, webhookID: webhookID)
        try await view.write(ControlTopicStore.statusKey(webhookID), nil)
        try await view.write(ControlTopicStore.requestedStatusKey(webhookID), nil)
        try await view.write(Self.webhookKey(webhookID), nil)
    }

    public func save(topic: WebhookTopic, site: String) async throws {
        try await view.write(Self.topicKey(site: site, topic.name), ControlRecords.encode(TopicRecord(topic: topic.name, ordered: topic.ordered)))
    }

    public func save(configuration: SiteConfiguration, site: String) async throws {
        try await view.write(Self.siteKey(site), ControlRecords.encode(SiteRecord(configuration: configuration)))
    }

    /// Writes a status change requested through the API, with the revision after the stored one.
    public func save(state: WebhookState, webhookID: String) async throws {
        var state = state
        state.revision = self.state(webhookID).revision.clampedAdding(1)
        try await store.saveRequested(state: state, webhookID: webhookID)
    }

    /// Start-up: the config file's sites, custom topics and webhooks are upserted. A webhook's
    /// configured `status` is its initial status: it is written only when none is stored yet, so
    /// changes made through the API survive restarts. A config webhook whose key was generated
    /// (`generatedKeys`: none in the file) keeps the keys stored for it, if any.
    public func upsert(sites: [Site], webhooks: [Webhook], generatedKeys: Set<String>) async throws {
        for site in sites {
            let configuration = SiteConfiguration(site)
            if view.value(Self.siteKey(site.id)).flatMap({ ControlRecords.decode(SiteRecord.self, $0) })?.configuration != configuration {
                try await save(configuration: configuration, site: site.id)
            }
            for topic in site.customTopics where !customTopics(site: site.id).contains(topic) { try await save(topic: topic, site: site.id) }
        }
        // Thousands of webhooks are written together, not each waiting for its read-back.
        var writes: [(key: String, value: [UInt8]?)] = []
        for var webhook in webhooks {
            let existing = self.webhook(webhook.id)
            if let existing, generatedKeys.contains(webhook.id) { webhook.hashKeys = existing.hashKeys }
            if existing != webhook.withStatus(existing?.status ?? webhook.status) {
                writes.append((Self.webhookKey(webhook.id), try ControlRecords.encode(WebhookRecord(webhook, origin: "config"))))
            }
            if store.state(webhook.id) == nil {
                writes.append((ControlTopicStore.statusKey(webhook.id), try ControlTopicStore.statusValue(WebhookState(status: webhook.status))))
            }
        }
        try await view.write(writes)
    }
}

extension Webhook {
    func withStatus(_ status: WebhookStatus) -> Webhook {
        var copy = self
        copy.status = status
        return copy
    }
}
