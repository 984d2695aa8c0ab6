import Kafka
import Logging
import WebhookDomain

/// A backend whose sites, webhooks, topics and statuses are a `ControlCatalog`'s and whose
/// replays look up offsets in Kafka: it gets `AdminBackend`'s first two parts from these and
/// supplies only the instance's own (readiness, metrics, runtime) and the destination policy.
public protocol ControlCatalogAdminBackend: AdminBackend {
    var catalog: ControlCatalog { get }
    /// The brokers replays look up offsets on.
    var kafka: KafkaConfig { get }
    /// The source topics a replay sets cursors on.
    var sourceTopics: [String] { get }
    var logger: Logger { get }
}

extension ControlCatalogAdminBackend {
    public var sites: [Site] { catalog.sites }
    public func site(_ id: String) -> Site? { catalog.site(id) }
    public var webhooks: [Webhook] { catalog.webhooks }
    public func webhook(_ id: String) -> Webhook? { catalog.webhook(id) }
    public func state(_ webhookID: String) -> WebhookState { catalog.state(webhookID) }
    public var router: Router { catalog.router }
    public func customTopics(site: String) -> [WebhookTopic] { catalog.customTopics(site: site) }
    /// Asked of the control topic, which the lanes of every instance write as they catch up
    /// (`ControlCatalog.catchUpInFlight(webhookID:)`): this instance's own delivery engine holds
    /// only some of the partitions.
    public func replayInFlight(webhookID: String) -> Bool { catalog.catchUpInFlight(webhookID: webhookID) }
    public func isManagedByFile(_ object: ManagedObject) -> Bool { catalog.isManagedByFile(object) }

    public func create(_ webhook: Webhook, status: WebhookStatus) async throws {
        try await catalog.store.save(state: WebhookState(status: status, since: WallClock.milliseconds()), webhookID: webhook.id)
        try await catalog.save(webhook)
    }

    public func save(_ webhook: Webhook) async throws { try await catalog.save(webhook) }
    public func save(state: WebhookState, webhookID: String) async throws { try await catalog.save(state: state, webhookID: webhookID) }
    public func delete(webhookID: String) async throws { try await catalog.delete(webhookID: webhookID) }
    public func save(topic: WebhookTopic, site: String) async throws { try await catalog.save(topic: topic, site: site) }
    public func save(configuration: SiteConfiguration, site: String) async throws { try await catalog.save(configuration: configuration, site: site) }

    public func replay(webhookID: String, atOrAfter milliseconds: Int64) async throws -> [TopicPartition: Int64] {
        let admin = try KafkaAdmin(kafka: kafka, logger: logger)
        var partitions: [TopicPartition] = []
        // The routes' topics, and the topics their patterns match now.
        var topics = Set(sourceTopics.filter { !$0.hasPrefix("^") })
        let patterns = sourceTopics.filter { $0.hasPrefix("^") }
        if !patterns.isEmpty {
            let router = catalog.router
            topics.formUnion(try await admin.topicNames().filter { !router.routes(for: $0).isEmpty })
        }
        for topic in topics.sorted() {
            let count = try await admin.partitionCount(of: topic)
            partitions += (0..<count).map { TopicPartition(topic, $0) }
        }
        let offsets = try await admin.offsets(atOrAfter: milliseconds, in: partitions)
        try await catalog.store.saveReplay(cursors: Dictionary(uniqueKeysWithValues: offsets.map { ($0.key.source, $0.value) }), webhookID: webhookID)
        return offsets
    }
}
