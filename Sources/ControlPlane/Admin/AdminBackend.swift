import Delivery
import Kafka
import WebhookDomain

/// Everything the admin API reads and changes, behind one seam (DESIGN.md §9): the sites,
/// webhooks, topics and statuses it serves, replays, and this instance's readiness, metrics and
/// runtime. The API holds no catalog, configuration or callbacks of its own.
///
/// Writes go to the control topic and return once read back (see `ControlCatalog`), so what the
/// API answers after a write is what every instance will apply.
public protocol AdminBackend: Sendable {
    // MARK: What the API serves

    /// Every site with its stored configuration applied (tokens come from the config file).
    var sites: [Site] { get }
    func site(_ id: String) -> Site?
    var webhooks: [Webhook] { get }
    func webhook(_ id: String) -> Webhook?
    /// A webhook's status (a new webhook's is `enabled`).
    func state(_ webhookID: String) -> WebhookState
    /// Routing as it stands: the API asks it which topics a site may subscribe to.
    var router: Router { get }
    func customTopics(site: String) -> [WebhookTopic]
    /// Which destinations a webhook may have (`http.allow_private_destinations`).
    var destinationPolicy: DestinationPolicy { get }
    /// What one site may own (`quotas`).
    var quotas: Quotas { get }
    /// Whether a replay of the webhook is still in flight: its catch-up has not yet handed every
    /// partition back to the live path (DESIGN.md §10 allows one at a time).
    func replayInFlight(webhookID: String) -> Bool
    /// Whether the config file manages an object: its definition then changes only in the file
    /// (409 `managed_by_config`).
    func isManagedByFile(_ object: ManagedObject) -> Bool

    // MARK: Changes

    /// Stores a new webhook with its first status (the status first, so no instance delivers
    /// to it before it is known).
    func create(_ webhook: Webhook, status: WebhookStatus) async throws
    func save(_ webhook: Webhook) async throws
    func save(state: WebhookState, webhookID: String) async throws
    func delete(webhookID: String) async throws
    func save(topic: WebhookTopic, site: String) async throws
    func save(configuration: SiteConfiguration, site: String) async throws
    /// Sets the webhook's cursors to the first records at or after a time (milliseconds since the
    /// epoch) in every source partition, and returns them; the instances owning the partitions
    /// replay from there.
    func replay(webhookID: String, atOrAfter milliseconds: Int64) async throws -> [TopicPartition: Int64]

    // MARK: This instance

    var isReady: Bool { get }
    /// True while the instance is still starting (the control topic loading): the tenants' routes
    /// answer 503 `starting` meanwhile, `/health` 200 and `/ready` 503.
    var isStarting: Bool { get }
    /// The Prometheus text of `/metrics`.
    func metricsText() -> String
    /// Every webhook's runtime here and the lag of the partitions this instance holds (`/status`).
    func runtime() -> (webhooks: [WebhookRuntime], partitions: [PartitionLag])
    /// Where one source record went, per webhook (`/explain`): see `DeliveryEngine.explain`.
    func explain(topic: String, partition: Int32, offset: Int64) async throws(ExplainError) -> RecordExplanation
}

extension AdminBackend {
    public var isStarting: Bool { false }
}
