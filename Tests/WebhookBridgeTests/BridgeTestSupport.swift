import Delivery
import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Testing
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

/// The embedded cluster shared by this test target; each test makes its own topics and group.
enum BridgeTestCluster {
    static let logger: Logger = {
        var logger = Logger(label: "bridge-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()

    static let shared: EmbeddedKafkaCluster = try! EmbeddedKafkaCluster(brokers: 1, logger: logger)

    static func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8))" }

    /// A consumer group name with its own dead-letter (`<group>-dlq`), control
    /// (`<group>-control`) and attempts (`<group>-attempts`) topics, so tests share no state.
    static func group() throws -> String {
        let group = unique("g")
        try shared.createTopic("\(group)-dlq", partitions: 1)
        try shared.createTopic("\(group)-control", partitions: 1)
        try shared.createTopic("\(group)-attempts", partitions: 1)
        return group
    }
}

/// A receiver running on loopback for the length of `body`.
func withReceiver<T: Sendable>(
    secret: HashKey?, respond: @escaping @Sendable (WebhookReceiver.Received) async -> WebhookReceiver.Answer = { _ in .init() },
    _ body: @Sendable (WebhookReceiver, Int) async throws -> T
) async throws -> T {
    let receiver = WebhookReceiver(secret: secret, logger: BridgeTestCluster.logger, respond: respond)
    let group = ServiceGroup(configuration: .init(services: [.init(service: receiver.service())], logger: BridgeTestCluster.logger))
    return try await whileRunning(group, ready: { _ = await receiver.boundPort() }) {
        try await body(receiver, await receiver.boundPort())
    }
}

/// A bridge instance running for the length of `body`, stopped gracefully afterwards.
func withBridge<T: Sendable>(
    _ config: BridgeConfig, store: (any DeliveryStore)? = nil, alerts: (any AlertSink)? = nil, _ body: @Sendable (Bridge) async throws -> T
) async throws -> T {
    let bridge = try await Bridge(config: config, logger: BridgeTestCluster.logger, store: store, alerts: alerts)
    return try await whileRunning(bridge.serviceGroup(signals: []), ready: { try await waitUntilReady(bridge) }) {
        try await body(bridge)
    }
}

/// The `kafka` and `http` sections of a test bridge: the shared cluster, the group's own
/// dead-letter and control topics, any admin port, private destinations allowed.
func testKafkaAndHTTP(group: String) -> String {
    """
    kafka: {bootstrap_servers: "\(BridgeTestCluster.shared.bootstrapServers)", group_id: \(group), start_from: earliest, dead_letter_topic: \(group)-dlq, control_topic: \(group)-control, attempts_topic: \(group)-attempts}
    http: {admin_listen: "127.0.0.1:0", allow_private_destinations: true}
    """
}

/// Readiness has no callback: it is a state the admin API polls, so tests poll it too.
func waitUntilReady(_ bridge: Bridge) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while !bridge.engine.readiness.isReady {
        guard ContinuousClock.now < deadline else {
            Issue.record("bridge not ready within 30 s")
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// A config for one test: its own source topic(s), group and receiver.
func testConfig(sources: [(topic: String, webhookTopic: String)], receiverPort: Int, group: String) throws -> BridgeConfig {
    let routes = sources.map { "  - {source: \($0.topic), site: c404, topic: \($0.webhookTopic)}" }.joined(separator: "\n")
    let topics = Set(sources.map(\.webhookTopic)).sorted().joined(separator: ", ")
    var config = try BridgeConfig.parse(yaml: """
        \(testKafkaAndHTTP(group: group))
        sites: [{id: c404, token: c404-test-token-0001, max_in_flight: 8, retry_intervals: [0.05, 0.05, 0.05, 0.05, 0.05, 0.05]}]
        routes:
        \(routes)
        webhooks:
          - {id: hook, site: c404, url: "http://127.0.0.1:\(receiverPort)/hooks", topics: [\(topics)], hash_key: test-key-0123456789}
        """)
    config.http.adminPort = 0
    return config
}

func produce(_ records: [KafkaOutgoingRecord]) async throws {
    let producer = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: BridgeTestCluster.shared.bootstrapServers)), logger: BridgeTestCluster.logger)
    for record in records { try await producer.send(record) }
    await producer.close()
}

/// Offsets (from the `sequence` header) per entity, in arrival order, first arrivals only.
func offsetsByEntity(_ requests: [WebhookReceiver.Received], entityField: String = "entity") -> [String: [Int64]] {
    var seen: Set<String> = []
    var result: [String: [Int64]] = [:]
    for request in requests {
        guard let id = request.header("message_id"), seen.insert(id).inserted,
            let entity = request.json?[entityField] as? String,
            let offset = request.header("sequence")?.split(separator: "-").last.flatMap({ Int64($0) })
        else { continue }
        result[entity, default: []].append(offset)
    }
    return result
}
