import ControlPlane
import Kafka
import Logging

extension Bridge {
    /// What starting or reloading with `config` would create, change and delete in its
    /// cluster's control topic (`webhook-bridge config plan`): the topic is read, nothing is
    /// written. A conflict the start would meet is thrown as it would be then.
    public static func plan(_ config: BridgeConfig, logger: Logger) async throws -> ConfigPlan {
        guard config.kafka.bootstrapServers != "embedded" else {
            throw ConfigError(path: "kafka.bootstrap_servers", problem: "embedded: an embedded broker starts empty, so a start would create everything the file defines")
        }
        let kafka = KafkaConfig(bootstrapServers: config.kafka.bootstrapServers, properties: config.kafka.properties)
        let view = try ControlTopicView(topic: config.kafka.controlTopic, kafka: kafka, logger: logger)
        do {
            try await view.load()
            let plan = try ControlCatalog(view: view, file: config.fileDefinitions).plan(config.fileDefinitions)
            await view.close()
            return plan
        } catch {
            await view.close()
            throw error
        }
    }
}
