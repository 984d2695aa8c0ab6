import Foundation
import Logging
import Testing
import WebhookDomain

@testable import Kafka
@testable import WebhookBridge

/// Kafka security through `kafka.properties` (issue 15 item 5). The embedded broker, librdkafka's
/// mock cluster, speaks neither SASL nor TLS (docs/decisions.md, "Kafka security"), so these tests
/// show the properties reaching librdkafka as the file gives them, and librdkafka's refusals
/// reaching the user as config errors that name the key.
@Suite("Kafka security properties (issue 15 item 5)")
struct KafkaSecurityTests {
    /// librdkafka logs its failed connections to the unused address below; they are not the point.
    static let quiet: Logger = {
        var logger = Logger(label: "kafka-security-tests")
        logger.logLevel = .critical
        return logger
    }()

    @Test("SASL_SSL properties, the password from the environment and a key password from a file, reach every client's librdkafka configuration unchanged, beside the bridge's own")
    func propertiesReachLibrdkafka() async throws {
        let keyPasswordFile = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-key-password-\(UUID().uuidString)")
        try "key-password-from-file\n".write(to: keyPasswordFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: keyPasswordFile) }
        let config = try BridgeConfig.parse(
            yaml: """
                kafka:
                  bootstrap_servers: "127.0.0.1:1"
                  properties: {security.protocol: SASL_SSL, sasl.mechanisms: SCRAM-SHA-512, sasl.username: bridge, ssl.endpoint.identification.algorithm: https, client.id: bridge-security-test}
                  properties_env: {sasl.password: TEST_KAFKA_PASSWORD}
                  properties_file: {ssl.key.password: \(keyPasswordFile.path)}
                """,
            environment: ["TEST_KAFKA_PASSWORD": "password-from-env"])
        let kafka = Bridge.kafkaConfig(config, bootstrapServers: config.kafka.bootstrapServers, embedded: false)
        let expected = [
            "bootstrap.servers": "127.0.0.1:1",
            // librdkafka answers with an enum's canonical (lowercase) name.
            "security.protocol": "sasl_ssl",
            "sasl.mechanisms": "SCRAM-SHA-512",
            "sasl.username": "bridge",
            "sasl.password": "password-from-env",
            "ssl.key.password": "key-password-from-file",
            "ssl.endpoint.identification.algorithm": "https",
            "client.id": "bridge-security-test",
        ]
        let producer = try KafkaProducer(configuration: .init(kafka: kafka), logger: Self.quiet)
        let consumer = try KafkaConsumer(configuration: .init(kafka: kafka, groupID: "security-test"), logger: Self.quiet)
        for (key, value) in expected {
            #expect(producer.client.configuredValue(key) == value, "producer's \(key)")
            #expect(consumer.client.configuredValue(key) == value, "consumer's \(key)")
        }
        // The bridge's own settings stay under the user's.
        #expect(producer.client.configuredValue("enable.idempotence") == "true")
        #expect(consumer.client.configuredValue("enable.auto.offset.store") == "false")
        await producer.close()
        // Never subscribed, so never polling: released as it is (rd_kafka_destroy).
        _ = consumer
    }

    @Test("a property or value librdkafka refuses is a config error naming the key, offline (config check), without quoting a secret")
    func refusedByLibrdkafka() throws {
        func problem(_ yaml: String, environment: [String: String] = [:]) -> ConfigError? {
            do {
                _ = try BridgeConfig.parse(yaml: yaml, environment: environment)
                return nil
            } catch { return error }
        }
        let protocolError = try #require(problem("kafka: {properties: {security.protocol: SASL_TLS}}"))
        #expect(protocolError.path == "kafka.properties.security.protocol")
        #expect(protocolError.problem.contains(#"Invalid value "SASL_TLS" for configuration property "security.protocol""#), "\(protocolError)")
        let typo = try #require(problem("kafka: {properties: {sasl.pasword: secret-password}}"))
        #expect(typo.path == "kafka.properties.sasl.pasword")
        #expect(typo.problem.contains("No such configuration property"), "\(typo)")
        #expect(!typo.problem.contains("secret-password"))
        // A value from the environment or a file is a secret: librdkafka's words are kept, the value is not.
        let fromEnvironment = try #require(problem("kafka: {properties_env: {security.protocol: PROTOCOL}}", environment: ["PROTOCOL": "secret-protocol"]))
        #expect(fromEnvironment.path == "kafka.properties_env.security.protocol")
        #expect(fromEnvironment.problem.contains("Invalid value (the value given) for configuration property"), "\(fromEnvironment)")
        #expect(!fromEnvironment.description.contains("secret-protocol"))
    }

    @Test("the embedded broker speaks neither SASL nor TLS: such clients get no answer from it (the documented limit, noticed if librdkafka lifts it)")
    func embeddedBrokerHasNoSASLOrTLS() async throws {
        // A cluster of its own: the broker logs each refused handshake.
        let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: Self.quiet)
        func answers(_ properties: [String: String], timeoutMilliseconds: Int32) async throws -> Bool {
            let admin = try KafkaAdmin(kafka: KafkaConfig(bootstrapServers: cluster.bootstrapServers, properties: properties), logger: Self.quiet)
            return await admin.isMockCluster(timeoutMilliseconds: timeoutMilliseconds)
        }
        async let sasl = answers(
            ["security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "bridge", "sasl.password": "password"],
            timeoutMilliseconds: 3_000)
        async let tls = answers(["security.protocol": "SSL"], timeoutMilliseconds: 3_000)
        #expect(try await answers([:], timeoutMilliseconds: 10_000), "without them it answers")
        #expect(try await !sasl, "the mock cluster answered a SASL client")
        #expect(try await !tls, "the mock cluster answered a TLS client")
    }
}
