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

    // MARK: - Reading

    /// Every site with its stored configuration and custom topics applied.
    public var sites: [Site] { configSites.keys.sorted().compactMap(site) }

    /// A config site with its stored configuration over it, clamped to the limits (a record was
    /// checked by no door; `ControlDispatcher` logs one that was out of range when it arrives).
    public func site(_ id: String) -> Site? {
        guard var site = configSites[id] else { return nil }
        if let configuration = storedConfiguration(site: id) { site = configuration.applied(to: site).clamped() }
        site.customTopics = customTopics(site: id)
        return site
    }

    func storedConfiguration(site id: String) -> SiteConfiguration? {
        guard case .site(_, let configuration)? = view.record(.site(id: id, nil)) else { return nil }
        return configuration
    }

    public func customTopics(site: String) -> [WebhookTopic] {
        view.records(prefix: ControlRecord.Prefix.topics(site: site)).compactMap { record in
            // The prefix also holds the topics of sites whose id extends this one with a `/`.
            guard case .topic(site, _, let topic?) = record else { return nil }
            return topic
        }.sorted { $0.name < $1.name }
    }

    /// Every stored webhook, its options clamped to their limits.
    public var webhooks: [Webhook] {
        view.records(prefix: ControlRecord.Prefix.webhooks).compactMap { record in
            guard case .webhook(_, let stored?) = record else { return nil }
            return Self.clamped(stored.webhook)
        }.sorted { $0.id < $1.id }
    }

    public func webhook(_ id: String) -> Webhook? {
        storedWebhook(id).map { Self.clamped($0.webhook) }
    }

    func storedWebhook(_ id: String) -> ControlRecord.StoredWebhook? {
        guard case .webhook(_, let stored)? = view.record(.webhook(id: id, nil)) else { return nil }
        return stored
    }

    /// A webhook as delivery takes it: options within their limits (see `site(_:)`).
    static func clamped(_ webhook: Webhook) -> Webhook {
        var webhook = webhook
        webhook.options = webhook.options.clamped()
        return webhook
    }

    /// The stored status, or the default for a webhook that has none yet.
    public func state(_ webhookID: String) -> WebhookState {
        store.state(webhookID) ?? WebhookState()
    }

    public var router: Router { Router(routes: routes, sites: sites, extraTopics: extraTopics) }

    /// Whether a catch-up of the webhook has not yet handed every partition back to the live
    /// path: it is enabled and a cursor of it is still stored. A replay's cursors are written by
    /// the API, then again by the lane of the instance that owns each partition as it parks there,
    /// and each is deleted once that partition's catch-up has joined the live path and every
    /// message it read is acknowledged (`WebhookLane.catchUp`). A paused or disabled webhook's
    /// cursors only wait for it: a replay then just moves them, and is not in flight.
    public func catchUpInFlight(webhookID: String) -> Bool {
        state(webhookID).status == .enabled && !store.cursors(webhookID: webhookID).isEmpty
    }

    // MARK: - Writing (applied when read back)

    public func save(_ webhook: Webhook, origin: ControlRecord.Origin = .api) async throws {
        try await view.write(.webhook(id: webhook.id, .init(webhook, origin: origin)))
    }

    /// Deletes a webhook with its status and cursors.
    public func delete(webhookID: String) async throws {
        let cursors = store.cursors(webhookID: webhookID)
        try await store.save(cursors: cursors.mapValues { _ in nil }, webhookID: webhookID)
        try await view.write(.status(webhookID: webhookID, nil))
        try await view.write(.requestedStatus(webhookID: webhookID, nil))
        try await view.write(.webhook(id: webhookID, nil))
    }

    public func save(topic: WebhookTopic, site: String) async throws {
        try await view.write(.topic(site: site, name: topic.name, topic))
    }

    public func save(configuration: SiteConfiguration, site: String) async throws {
        try await view.write(.site(id: site, configuration))
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
            if storedConfiguration(site: site.id) != configuration {
                try await save(configuration: configuration, site: site.id)
            }
            for topic in site.customTopics where !customTopics(site: site.id).contains(topic) { try await save(topic: topic, site: site.id) }
        }
        // Thousands of webhooks are written together, not each waiting for its read-back.
        var writes: [ControlRecord] = []
        for var webhook in webhooks {
            let existing = storedWebhook(webhook.id)?.webhook
            if let existing, generatedKeys.contains(webhook.id) { webhook.hashKeys = existing.hashKeys }
            if existing != webhook.withStatus(existing?.status ?? webhook.status) {
                writes.append(.webhook(id: webhook.id, .init(webhook, origin: .config)))
            }
            if store.state(webhook.id) == nil {
                writes.append(.status(webhookID: webhook.id, WebhookState(status: webhook.status)))
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
