import Delivery
import Foundation
import Hummingbird
import Kafka
import Logging
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
    private let logger: Logger
    /// Declared last so it is released after the clients that talk to it.
    private let embedded: EmbeddedKafkaCluster?

    /// `store` keeps webhook states and cursors; `alerts` receives alert events.
    public init(config: BridgeConfig, logger: Logger, store: (any DeliveryStore)? = nil, alerts: (any AlertSink)? = nil) async throws {
        self.config = config
        self.logger = logger
        if config.kafka.isEmbedded {
            let cluster = try EmbeddedKafkaCluster(brokers: config.kafka.embeddedBrokers, logger: logger)
            for topic in Set(config.routes.map(\.source)) { try cluster.createTopic(topic, partitions: config.kafka.embeddedPartitions) }
            for topic in [config.kafka.deadLetterTopic, config.kafka.attemptsTopic] { try cluster.createTopic(topic, partitions: 1) }
            try cluster.createTopic(config.kafka.controlTopic, partitions: 1)
            embedded = cluster
            bootstrapServers = cluster.bootstrapServers
            logger.notice("embedded Kafka cluster started", metadata: ["bootstrap_servers": "\(cluster.bootstrapServers)"])
        } else {
            embedded = nil
            bootstrapServers = config.kafka.bootstrapServers
        }
        let kafka = KafkaConfig(bootstrapServers: bootstrapServers, properties: config.kafka.properties)
        let consumer = try KafkaConsumer(
            configuration: .init(kafka: kafka, groupID: config.kafka.groupID, startFrom: config.kafka.startFrom), logger: logger)
        producer = try KafkaProducer(configuration: .init(kafka: kafka), logger: logger)
        let maxInFlight = config.sites.map(\.maxInFlight).max() ?? 8
        client = WebhookHTTPClient(maxConnectionsPerHost: max(64, maxInFlight))
        engine = DeliveryEngine(
            configuration: .init(router: config.router, sites: config.sites, webhooks: config.webhooks, deadLetterTopic: config.kafka.deadLetterTopic),
            consumer: consumer, producer: producer, client: client, kafka: kafka,
            // Not durable yet: the control-topic store replaces it (DESIGN.md §8).
            store: store ?? InMemoryDeliveryStore(), alerts: alerts ?? LoggingAlertSink(logger: logger), logger: logger)
    }

    /// The services of this instance. `onAdminRunning` gets the admin API's bound port (useful
    /// with port 0).
    public func serviceGroup(signals: [UnixSignal] = [.sigterm, .sigint], onAdminRunning: @escaping @Sendable (Int) -> Void = { _ in }) -> ServiceGroup {
        let admin = Application(
            router: AdminRoutes.build(readiness: engine.readiness),
            configuration: .init(address: .hostname(config.http.adminHost, port: config.http.adminPort), serverName: "webhook-bridge"),
            onServerRunning: { channel in onAdminRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        let delivery = DeliveryService(engine: engine, producer: producer, client: client)
        return ServiceGroup(
            configuration: .init(
                services: [.init(service: admin), .init(service: delivery)],
                gracefulShutdownSignals: signals,
                logger: logger))
    }
}
