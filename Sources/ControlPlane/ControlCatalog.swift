import Delivery
import Foundation
import Kafka
import Synchronization
import WebhookDomain

/// Sites, custom topics and webhooks as the control topic holds them (DESIGN.md §8), on top of
/// the config file's sites (which bring the tokens; tokens are never written to the topic).
///
/// Reads come from the view; writes go through the topic and are visible here once read back.
public struct ControlCatalog: Sendable {
    public let view: ControlTopicView
    public let store: ControlTopicStore
    /// What the config file brings that the control topic does not hold: the sites' ids and
    /// tokens (and the settings used until a site record says otherwise), the routes and extra
    /// topics. Shared by every copy of the catalog, and replaced by a reload (`adopt(_:)`).
    private let file: Shared

    private final class Shared: Sendable {
        struct Definitions {
            var sites: [String: Site]
            var routes: [Route]
            var extraTopics: [WebhookTopic]
        }

        let definitions: Mutex<Definitions>

        init(_ definitions: Definitions) { self.definitions = Mutex(definitions) }
    }

    public init(view: ControlTopicView, configSites: [Site], routes: [Route], extraTopics: [WebhookTopic]) {
        self.view = view
        store = ControlTopicStore(view: view)
        file = Shared(.init(sites: Self.byID(configSites), routes: routes, extraTopics: extraTopics))
    }

    public init(view: ControlTopicView, file definitions: FileDefinitions) {
        self.init(view: view, configSites: definitions.sites, routes: definitions.routes, extraTopics: definitions.extraTopics)
    }

    /// A reloaded file's sites (tokens included), routes and extra topics take effect here.
    public func adopt(_ definitions: FileDefinitions) {
        file.definitions.withLock { $0 = .init(sites: Self.byID(definitions.sites), routes: definitions.routes, extraTopics: definitions.extraTopics) }
    }

    private static func byID(_ sites: [Site]) -> [String: Site] {
        Dictionary(sites.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private var configSites: [String: Site] { file.definitions.withLock { $0.sites } }

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
        storedSite(id)?.configuration
    }

    func storedSite(_ id: String) -> ControlRecord.StoredSite? {
        guard case .site(_, let stored)? = view.record(.site(id: id, nil)) else { return nil }
        return stored
    }

    public func customTopics(site: String) -> [WebhookTopic] {
        storedTopics(site: site).map(\.topic)
    }

    func storedTopics(site: String) -> [ControlRecord.StoredTopic] {
        view.records(prefix: ControlRecord.Prefix.topics(site: site)).compactMap { record in
            // The prefix also holds the topics of sites whose id extends this one with a `/`.
            guard case .topic(site, _, let stored?) = record else { return nil }
            return stored
        }.sorted { $0.topic.name < $1.topic.name }
    }

    /// Whether the config file manages an object (DESIGN.md §8): the API then answers 409
    /// `managed_by_config` to a change of it.
    public func isManagedByFile(_ object: ManagedObject) -> Bool {
        switch object {
        case .siteConfiguration(let id): storedSite(id)?.origin == .config
        case .topic(let site, let name): storedTopics(site: site).first { $0.topic.name == name }?.origin == .config
        case .webhook(let id): storedWebhook(id)?.origin == .config
        }
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

    public var router: Router {
        let (routes, extraTopics) = file.definitions.withLock { ($0.routes, $0.extraTopics) }
        return Router(routes: routes, sites: sites, extraTopics: extraTopics)
    }

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
        try await view.write(deletion(ofWebhook: webhookID))
    }

    /// Saves a custom topic made through the API.
    public func save(topic: WebhookTopic, site: String) async throws {
        try await view.write(.topic(site: site, name: topic.name, .init(topic, origin: .api)))
    }

    /// Saves a site configuration set through the API.
    public func save(configuration: SiteConfiguration, site: String) async throws {
        try await view.write(.site(id: site, .init(configuration, origin: .api)))
    }

    /// Writes a status change requested through the API, with the revision after the stored one.
    public func save(state: WebhookState, webhookID: String) async throws {
        var state = state
        state.revision = self.state(webhookID).revision.clampedAdding(1)
        try await store.saveRequested(state: state, webhookID: webhookID)
    }
}

/// An object the config file or the API may manage.
public enum ManagedObject: Sendable {
    case siteConfiguration(String)
    case topic(site: String, name: String)
    case webhook(String)
}

extension Webhook {
    func withStatus(_ status: WebhookStatus) -> Webhook {
        var copy = self
        copy.status = status
        return copy
    }
}
