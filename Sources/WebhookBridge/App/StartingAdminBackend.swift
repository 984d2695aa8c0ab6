import ControlPlane
import Delivery
import Kafka
import Synchronization
import WebhookDomain

/// The admin API's backend while the bridge starts: empty and not ready until `started(_:)`,
/// then the running bridge's. The API answers 503 `starting` on the tenants' routes meanwhile
/// (`isStarting`), and so does `/explain`, so the empty answers below only reach `/metrics` and
/// `/status`.
final class StartingAdminBackend: AdminBackend {
    private let running = Mutex<BridgeAdminBackend?>(nil)
    let destinationPolicy: DestinationPolicy
    let quotas: Quotas

    init(destinationPolicy: DestinationPolicy, quotas: Quotas) {
        self.destinationPolicy = destinationPolicy
        self.quotas = quotas
    }

    func started(_ backend: BridgeAdminBackend) { running.withLock { $0 = backend } }

    private var backend: BridgeAdminBackend? { running.withLock { $0 } }

    /// Changes are refused until the bridge runs (the API does not call them before: see `isStarting`).
    private func runningBackend() throws -> BridgeAdminBackend {
        guard let backend else { throw StartingError() }
        return backend
    }

    struct StartingError: Error, CustomStringConvertible {
        var description: String { "the bridge is starting" }
    }

    var isStarting: Bool { backend == nil }
    var sites: [Site] { backend?.sites ?? [] }
    func site(_ id: String) -> Site? { backend?.site(id) }
    var webhooks: [Webhook] { backend?.webhooks ?? [] }
    func webhook(_ id: String) -> Webhook? { backend?.webhook(id) }
    func state(_ webhookID: String) -> WebhookState { backend?.state(webhookID) ?? WebhookState() }
    var router: Router { backend?.router ?? Router(routes: [], sites: []) }
    func customTopics(site: String) -> [WebhookTopic] { backend?.customTopics(site: site) ?? [] }
    func replayInFlight(webhookID: String) -> Bool { backend?.replayInFlight(webhookID: webhookID) ?? false }
    func isManagedByFile(_ object: ManagedObject) -> Bool { backend?.isManagedByFile(object) ?? false }

    func create(_ webhook: Webhook, status: WebhookStatus) async throws { try await runningBackend().create(webhook, status: status) }
    func save(_ webhook: Webhook) async throws { try await runningBackend().save(webhook) }
    func save(state: WebhookState, webhookID: String) async throws { try await runningBackend().save(state: state, webhookID: webhookID) }
    func delete(webhookID: String) async throws { try await runningBackend().delete(webhookID: webhookID) }
    func save(topic: WebhookTopic, site: String) async throws { try await runningBackend().save(topic: topic, site: site) }
    func save(configuration: SiteConfiguration, site: String) async throws { try await runningBackend().save(configuration: configuration, site: site) }
    func replay(webhookID: String, atOrAfter milliseconds: Int64) async throws -> [TopicPartition: Int64] {
        try await runningBackend().replay(webhookID: webhookID, atOrAfter: milliseconds)
    }

    var isReady: Bool { backend?.isReady ?? false }
    func metricsText() -> String { backend?.metricsText() ?? "" }
    func runtime() -> (webhooks: [WebhookRuntime], partitions: [PartitionLag]) { backend?.runtime() ?? ([], []) }
    func explain(topic: String, partition: Int32, offset: Int64) async throws(ExplainError) -> RecordExplanation {
        guard let backend else { throw .unavailable("the bridge is starting") }
        return try await backend.explain(topic: topic, partition: partition, offset: offset)
    }
}
