import ArgumentParser
import Foundation
import Kafka
import Logging
import ServiceLifecycle
import WebhookBridge

struct DevBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-broker",
        abstract: "Start an embedded Kafka broker (librdkafka's mock cluster) for local work.",
        discussion: "Prints the bootstrap address as the first line of stdout, then runs until SIGTERM or SIGINT. Topics not created here are auto-created with 4 partitions on first use.")

    @Option(help: "Number of brokers.") var brokers = 1
    @Option(help: "Partitions of each topic given with --topic.") var partitions: Int32 = 4
    @Option(name: .customLong("topic"), help: "A topic to create (repeatable).") var topics: [String] = []

    func run() async throws {
        LogSetup.bootstrap(level: "warning", format: .text)
        let logger = Logger(label: "webhook-bridge.dev-broker")
        let cluster = try EmbeddedKafkaCluster(brokers: brokers, logger: logger)
        for topic in topics { try cluster.createTopic(topic, partitions: partitions) }
        // The first line of stdout, flushed at once: scripts read it to find the broker.
        FileHandle.standardOutput.write(Data((cluster.bootstrapServers + "\n").utf8))
        try await ServiceGroup(configuration: .init(services: [.init(service: UntilShutdown())], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
        withExtendedLifetime(cluster) {}
    }
}

/// Keeps the process alive until a shutdown signal.
struct UntilShutdown: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}
