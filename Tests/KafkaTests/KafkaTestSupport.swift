import Foundation
import Kafka
import Logging

/// One embedded cluster per test process; every test uses its own topics and groups.
enum TestCluster {
    static let logger: Logger = {
        var logger = Logger(label: "kafka-tests")
        logger.logLevel = .warning
        return logger
    }()

    static let shared: EmbeddedKafkaCluster = try! EmbeddedKafkaCluster(brokers: 1, logger: logger)

    static var kafka: KafkaConfig { KafkaConfig(bootstrapServers: shared.bootstrapServers) }

    static func uniqueName(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8))" }

    static func topic(_ prefix: String, partitions: Int32) throws -> String {
        let name = uniqueName(prefix)
        try shared.createTopic(name, partitions: partitions)
        return name
    }

    static func producer() throws -> KafkaProducer {
        try KafkaProducer(configuration: .init(kafka: kafka), logger: logger)
    }

    static func consumer(group: String, startFrom: KafkaConsumer.StartPosition = .earliest, properties: [String: String] = [:]) throws -> KafkaConsumer {
        var kafka = self.kafka
        kafka.properties = properties
        return try KafkaConsumer(configuration: .init(kafka: kafka, groupID: group, startFrom: startFrom), logger: logger)
    }
}

/// Reads a consumer's events into records until `count` have arrived, acknowledging rebalances.
/// Stores each record's offset as it goes when `store` is set.
func readRecords(_ consumer: KafkaConsumer, count: Int, store: Bool = false) async -> [KafkaRecord] {
    var records: [KafkaRecord] = []
    for await event in consumer.events {
        switch event {
        case .records(let batch):
            records.append(contentsOf: batch)
            if store {
                consumer.storeOffsets(batch.map { TopicPartitionOffset($0.topicPartition, offset: $0.offset + 1) })
            }
        case .assigned: break
        case .revoked(_, let ack): ack.done()
        }
        if records.count >= count { break }
    }
    return records
}
