import Alerts
import ControlPlane
import Delivery
import Foundation
import Hummingbird
import Kafka
import Logging
import Synchronization
import NIOCore
import ServiceLifecycle
import UnixSignals
import WebhookDomain

/// One bridge instance, assembled from a validated configuration: Kafka clients, the delivery
/// engine and the admin API, run as one `ServiceGroup` (admin API first, delivery last, so
/// graceful shutdown stops delivery before the API goes away).
public final class Bridge: Sendable {
    public let config: BridgeConfig
    /// The brokers actually used (the embedded cluster's address in embedded mode).
    public let bootstrapServers: String
    public let engine: DeliveryEngine
    private let producer: KafkaProducer
    private let client: WebhookHTTPClient
    let control: ControlTopicView
    let kafka: KafkaConfig
    /// Sends alert emails and SMS when `smtp` or `sms` is configured (else alerts are logged).
    public let mailer: AlertMailer?
    /// Sites, topics and webhooks as the control topic holds them.
    public let catalog: ControlCatalog
    /// Keys generated at start-up for config webhooks without one, and actually in use (a key
    /// stored in the control topic from an earlier start wins): shown once to the user.
    public let generatedKeysInUse: [(webhookID: String, key: HashKey)]
    /// The OTLP span exporter, with `tracing.otlp_endpoint`.
    private let traceExport: TraceExport?
    private let boundAdminPort = Mutex<Int?>(nil)
    private let boundOpsPort = Mutex<Int?>(nil)
    let metrics: BridgeMetrics

    /// The admin API's port once it listens (useful with port 0).
    public var adminPort: Int? { boundAdminPort.withLock { $0 } }
    /// The operators' listener's port once it listens (`http.ops_listen`; nil without it).
    public var opsPort: Int? { boundOpsPort.withLock { $0 } }
    let logger: Logger
    /// Declared last so it is released after the clients that talk to it.
    private let embedded: EmbeddedKafkaCluster?

    /// `store` keeps webhook states and cursors (the control topic unless given); `alerts`
    /// receives alert events (logged unless given).
    public convenience init(config: BridgeConfig, logger: Logger, store: (any DeliveryStore)? = nil, alerts: (any AlertSink)? = nil) async throws {
        try await self.init(config: config, logger: logger, store: store, alerts: alerts, metrics: BridgeMetrics())
    }

    /// With the metrics registry of listeners that started before the bridge (`BridgeService`).
    init(config: BridgeConfig, logger: Logger, store: (any DeliveryStore)? = nil, alerts: (any AlertSink)? = nil, metrics: BridgeMetrics) async throws {
        self.config = config.withoutWebhooks
        self.metrics = metrics
        self.logger = logger
        if config.kafka.isEmbedded {
            let cluster = try EmbeddedKafkaCluster(brokers: config.kafka.embeddedBrokers, logger: logger)
            for topic in Set(config.routes.filter { !$0.isPattern }.map(\.source)) { try cluster.createTopic(topic, partitions: config.kafka.embeddedPartitions) }
            for topic in [config.kafka.deadLetterTopic, config.kafka.attemptsTopic] { try cluster.createTopic(topic, partitions: 1) }
            try cluster.createTopic(config.kafka.controlTopic, partitions: 1)
            embedded = cluster
            bootstrapServers = cluster.bootstrapServers
            logger.notice("embedded Kafka cluster started", metadata: ["bootstrap_servers": "\(cluster.bootstrapServers)"])
        } else {
            embedded = nil
            bootstrapServers = config.kafka.bootstrapServers
        }
        kafka = Self.kafkaConfig(config, bootstrapServers: bootstrapServers, embedded: embedded != nil)
        if embedded == nil {
            await Self.createTopics(config.kafka, kafka: kafka, logger: logger)
            try Task.checkCancellation()
            try await Self.checkControlTopic(config.kafka.controlTopic, kafka: kafka, logger: logger)
            try Task.checkCancellation()
        }
        // The whole control topic is read before any source record (DESIGN.md §8); then the
        // config file's sites, topics and webhooks are upserted into it.
        control = try ControlTopicView(topic: config.kafka.controlTopic, kafka: kafka, logger: logger)
        try await control.load()
        // A start-up cancelled (SIGTERM) while reading stops here, before writing anything.
        try Task.checkCancellation()
        let catalog = ControlCatalog(view: control, file: config.fileDefinitions)
        try await control.whileFollowing {
            try await Self.apply(catalog.plan(config.fileDefinitions), to: catalog, metrics: metrics, logger: logger)
        }
        self.catalog = catalog
        let store = store ?? catalog.store
        let states = try await store.states()
        let webhooks = catalog.webhooks
        // Stored before the policy was tightened: each delivery is refused, and this says so at once.
        let policy = DestinationPolicy(allowPrivateDestinations: config.http.allowPrivateDestinations)
        for webhook in webhooks where policy.problem(with: webhook.url) != nil {
            logger.warning("webhook's destination is refused by the current policy: its deliveries will fail (refused_destination)", metadata: ["webhook": "\(webhook.id)"])
        }
        generatedKeysInUse = config.generatedKeys.filter { generated in webhooks.first { $0.id == generated.webhookID }?.hashKeys.first == generated.key }
        if let smtp = config.smtp, smtp.username != nil, smtp.tls == .none, !smtp.allowPlaintextAuth {
            // Not a config error: deliveries matter more than alerts, so the bridge starts; each
            // email then fails with the reason (logged and counted), and this says it at once.
            logger.warning(
                "smtp.username is set with smtp.tls none: AUTH will be refused and alert emails will fail (set smtp.tls to starttls or implicit, or smtp.allow_plaintext_auth: true)")
        }
        if config.smtp != nil || config.smsURL != nil {
            mailer = AlertMailer(
                configuration: .init(smtp: config.smtp.map(Self.smtpClientConfiguration), smsURL: config.smsURL), metrics: metrics.factory, logger: logger)
        } else {
            mailer = nil
        }
        let consumer = try KafkaConsumer(
            configuration: .init(kafka: kafka, groupID: config.kafka.groupID, startFrom: config.kafka.startFrom), logger: logger)
        producer = try KafkaProducer(configuration: .init(kafka: kafka), logger: logger)
        traceExport = TraceExport.start(config.tracing, logger: logger)
        let maxInFlight = config.sites.map(\.maxInFlight).max() ?? 8
        client = WebhookHTTPClient(maxConnectionsPerHost: max(64, maxInFlight), allowPrivateDestinations: config.http.allowPrivateDestinations)
        engine = DeliveryEngine(
            configuration: .init(
                router: catalog.router, sites: catalog.sites, webhooks: webhooks, deadLetterTopic: config.kafka.deadLetterTopic,
                maxConcurrentRequests: config.http.maxConcurrentRequests,
                deadLetterFirstRetry: config.kafka.deadLetterRetry.first, deadLetterMaxRetry: config.kafka.deadLetterRetry.max,
                schemaRegistry: config.schemaRegistry.map { SchemaRegistry(configuration: .init(url: $0.url, username: $0.username, password: $0.password)) }),
            consumer: consumer, producer: producer, client: client, kafka: kafka,
            store: store, alerts: alerts ?? mailer ?? LoggingAlertSink(logger: logger), states: states,
            attempts: AttemptLog(producer: producer, topic: config.kafka.attemptsTopic, includePayloads: config.logPayloads),
            metrics: DeliveryMetrics(factory: metrics.factory), tracing: traceExport?.tracing, logger: logger)
    }

    /// What every Kafka client of the bridge is given: the brokers, the embedded broker's tuning,
    /// then the file's `kafka.properties` (with their `_env` and `_file` secrets) as they are,
    /// which win over the tuning.
    static func kafkaConfig(_ config: BridgeConfig, bootstrapServers: String, embedded: Bool) -> KafkaConfig {
        // The embedded (mock) broker holds a fetch until fetch.wait.max.ms even when records
        // arrive, unlike a real broker, which answers as soon as there is data: poll it often.
        var tuning = embedded ? ["fetch.wait.max.ms": "1"] : [:]
        // Topics created later that match a route's pattern are found at the next metadata
        // refresh: every 10 s rather than librdkafka's 5 minutes.
        if config.routes.contains(where: \.isPattern) { tuning["topic.metadata.refresh.interval.ms"] = "10000" }
        return KafkaConfig(bootstrapServers: bootstrapServers, properties: tuning.merging(config.kafka.properties) { _, user in user })
    }

    /// The services of this instance. `onAdminRunning` gets the admin API's bound port (useful
    /// with port 0).
    public func serviceGroup(signals: [UnixSignal] = [.sigterm, .sigint], onAdminRunning: @escaping @Sendable (Int) -> Void = { _ in }) -> ServiceGroup {
        let api = AdminAPI(backend: adminBackend, logger: logger, authFailuresPerMinute: config.http.authFailuresPerMinute)
        let listeners = Self.listeners(
            config.http, api: api, metrics: metrics, logger: logger,
            onAdminRunning: { [self] port in
                boundAdminPort.withLock { $0 = port }
                onAdminRunning(port)
            },
            onOpsRunning: { [self] port in boundOpsPort.withLock { $0 = port } })
        return Self.serviceGroup(listeners + coreServices(), signals: signals, config: config, logger: logger)
    }

    /// The admin listener, and the operators' one with `ops_listen` (DESIGN.md §10): the
    /// operators' endpoints then leave the tenants' listener.
    static func listeners(
        _ http: BridgeConfig.HTTPSettings, api: AdminAPI, metrics: BridgeMetrics, logger: Logger,
        onAdminRunning: @escaping @Sendable (Int) -> Void, onOpsRunning: @escaping @Sendable (Int) -> Void
    ) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        var listeners: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: HTTPListener.application(
                    name: "admin", router: api.router(includingOps: http.opsListen == nil),
                    address: .init(host: http.adminHost, port: http.adminPort), limits: http.listenerLimits, metrics: metrics.factory, logger: logger,
                    onRunning: onAdminRunning))
        ]
        if let ops = http.opsListen {
            listeners.append(
                .init(
                    service: HTTPListener.application(
                        name: "ops", router: api.opsRouter(), address: ops, limits: http.listenerLimits, metrics: metrics.factory, logger: logger,
                        onRunning: onOpsRunning)))
        }
        return listeners
    }

    /// Everything but the listeners: the span exporter, alerts, the control-topic follower and
    /// delivery. Shutdown runs in reverse: delivery (which may still write cursors) stops before
    /// the follower that applies those writes, and the span exporter stops last, once the
    /// attempts that delivery lets finish have ended their spans.
    func coreServices() -> [ServiceGroupConfiguration.ServiceConfiguration] {
        (traceExport.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0.service)] } ?? [])
            + (mailer.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] } ?? []) + [
            .init(service: ControlTopicService(view: control, dispatcher: ControlDispatcher(reader: catalog, delivery: engine, logger: logger))),
            .init(service: DeliveryService(engine: engine, producer: producer, client: client)),
        ]
    }

    /// Brings the control topic in line with the config file (start-up and reload): the file's
    /// objects are created, changed or deleted; each change is logged, each deletion counted.
    static func apply(_ plan: ConfigPlan, to catalog: ControlCatalog, metrics: BridgeMetrics, logger: Logger) async throws {
        try await catalog.apply(plan)
        for change in plan.changes {
            logger.notice("config: \(change)")
            if change.action == .delete { metrics.configDeletions(kind: change.kind.rawValue).increment() }
        }
    }

    /// Reloads the file at `path` on SIGHUP; `appliedText` is the text this bridge started from.
    func configReloader(path: String, appliedText: String) -> ConfigReloader {
        ConfigReloader(
            path: path, appliedText: appliedText, sources: Set(config.routes.map(\.source)), catalog: catalog, delivery: engine, metrics: metrics,
            logger: logger)
    }

    /// A service group that cancels what is still running after `shutdown_timeout`.
    static func serviceGroup(
        _ services: [ServiceGroupConfiguration.ServiceConfiguration], signals: [UnixSignal], config: BridgeConfig, logger: Logger
    ) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: logger)
        configuration.maximumGracefulShutdownDuration = config.shutdownTimeout
        return ServiceGroup(configuration: configuration)
    }

    /// On a real cluster: creates the bridge's own topics if they are missing, in one request: the
    /// control topic (compacted, one partition), the attempts and the dead-letter topics (the
    /// broker's default partitions and replication). A failure is logged, not fatal: a topic may
    /// exist already, be auto-created, or be made by an operator with other rights. The mock
    /// cluster (`dev-broker`) is not asked: it creates topics on first use and never answers.
    private static func createTopics(_ settings: BridgeConfig.KafkaSettings, kafka: KafkaConfig, logger: Logger) async {
        let topics: [KafkaAdmin.NewTopic] = [
            .init(name: settings.controlTopic, partitions: 1, configs: ["cleanup.policy": "compact"]),
            .init(name: settings.attemptsTopic, partitions: -1),
            .init(name: settings.deadLetterTopic, partitions: -1),
        ]
        let admin: KafkaAdmin
        do {
            admin = try KafkaAdmin(kafka: kafka, logger: logger)
        } catch {
            logger.warning("topics not created (no admin client)", metadata: ["error": "\(error)"])
            return
        }
        if await admin.isMockCluster(timeoutMilliseconds: 5_000) || Task.isCancelled { return }
        var missing: [KafkaAdmin.NewTopic] = []
        for topic in topics where (try? await admin.topicExists(topic.name)) != true { missing.append(topic) }
        guard !missing.isEmpty else { return }
        let names = missing.map(\.name)
        do {
            try await admin.createTopics(missing, timeoutMilliseconds: 5_000)
            logger.notice("topics created", metadata: ["topics": "\(names)"])
        } catch {
            logger.warning("topics not created (they may exist already)", metadata: ["topics": "\(names)", "error": "\(error)"])
        }
    }

    /// Refuses a control topic that is not compacted where the broker reports its configs; goes
    /// on, logging it, where it reports none (the embedded mock broker; see `ControlTopicCheck`).
    private static func checkControlTopic(_ topic: String, kafka: KafkaConfig, logger: Logger) async throws {
        let configs: [String: String]?
        do {
            configs = try await KafkaAdmin(kafka: kafka, logger: logger).topicConfigs(topic, timeoutMilliseconds: 5_000)
        } catch {
            // No answer (or not allowed: ACLs may deny DescribeConfigs): nothing to decide on.
            logger.info("control topic's cleanup.policy not checked", metadata: ["topic": "\(topic)", "error": "\(error)"])
            return
        }
        switch ControlTopicCheck.verdict(topic: topic, configs: configs, bootstrapServers: kafka.bootstrapServers) {
        case .compacted: return
        case .unknown: logger.info("control topic's cleanup.policy not checked: the broker reports no topic configs", metadata: ["topic": "\(topic)"])
        case .refused(let reason):
            logger.critical("\(reason)")
            throw ControlTopicNotCompacted(description: reason)
        }
    }

    static func smtpClientConfiguration(_ smtp: BridgeConfig.SMTPSettings) -> SMTPClient.Configuration {
        SMTPClient.Configuration(
            host: smtp.host, port: smtp.port, tls: smtp.tls.rawValue, username: smtp.username, password: smtp.password,
            allowPlaintextAuth: smtp.allowPlaintextAuth, from: smtp.from, caFile: smtp.caFile)
    }
}
