import CLibrdkafka
import Logging

/// Topic administration and offset look-ups.
public final class KafkaAdmin: Sendable {
    public struct NewTopic: Sendable {
        public var name: String
        public var partitions: Int32
        public var replicationFactor: Int32
        public var configs: [String: String]

        public init(name: String, partitions: Int32, replicationFactor: Int32 = -1, configs: [String: String] = [:]) {
            self.name = name
            self.partitions = partitions
            self.replicationFactor = replicationFactor
            self.configs = configs
        }
    }

    private let client: RDKafkaClient
    /// Kept for the look-ups that read records (`offsets(atOrAfter:in:)`).
    let kafka: KafkaConfig
    let logger: Logger

    public init(kafka: KafkaConfig, logger: Logger) throws(KafkaError) {
        client = try RDKafkaClient(role: .producer, properties: kafka.flattened(defaults: [:]), context: .init(logger: logger))
        self.kafka = kafka
        self.logger = logger
    }

    /// Creates topics; a topic that already exists is not an error.
    public func createTopics(_ topics: [NewTopic], timeoutMilliseconds: Int32 = 15_000) async throws(KafkaError) {
        let client = self.client
        try await BlockingCalls.run(cancellable: true) { () throws(KafkaError) in
            var errorText = [CChar](repeating: 0, count: 512)
            var newTopics: [OpaquePointer?] = []
            defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
            for topic in topics {
                guard let newTopic = rd_kafka_NewTopic_new(topic.name, topic.partitions, topic.replicationFactor, &errorText, errorText.count) else {
                    throw KafkaError(code: .configuration, message: "topic \(topic.name): \(String(cChars: errorText))")
                }
                newTopics.append(newTopic)
                for (key, value) in topic.configs {
                    try KafkaError.check(rd_kafka_NewTopic_set_config(newTopic, key, value), "topic \(topic.name) config \(key)")
                }
            }
            let queue = rd_kafka_queue_new(client.handle)
            defer { rd_kafka_queue_destroy(queue) }
            let options = rd_kafka_AdminOptions_new(client.handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
            defer { rd_kafka_AdminOptions_destroy(options) }
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
            newTopics.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreateTopics(client.handle, buffer.baseAddress, buffer.count, options, queue)
            }
            guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds + 5_000) else {
                throw KafkaError(code: .timedOut, message: "create topics: no answer", isRetriable: true)
            }
            defer { rd_kafka_event_destroy(event) }
            try KafkaError.check(rd_kafka_event_error(event), "create topics")
            guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
            var count = 0
            guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
            for i in 0..<count {
                let err = rd_kafka_topic_result_error(results[i])
                if err != RD_KAFKA_RESP_ERR_NO_ERROR, err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                    throw KafkaError(err, context: "create topic \(String(cString: rd_kafka_topic_result_name(results[i])))")
                }
            }
        }
    }

    /// Whether the cluster is librdkafka's mock cluster (the embedded broker, `dev-broker`), told
    /// by its cluster id: it answers neither CreateTopics nor DescribeConfigs, and creates a topic
    /// on first use.
    public func isMockCluster(timeoutMilliseconds: Int32 = 10_000) async -> Bool {
        let client = self.client
        return (try? await BlockingCalls.run(cancellable: true) { () throws(KafkaError) in client.isMockCluster(timeoutMilliseconds: timeoutMilliseconds) }) ?? false
    }

    /// A topic's configuration as the broker reports it (DescribeConfigs): every entry with a
    /// value, defaults included (sensitive values are never reported). Nil where the cluster keeps
    /// no topic configs: librdkafka 2.0.2's mock cluster (the embedded broker, `dev-broker`)
    /// never answers DescribeConfigs, so it is recognised by its cluster id and not asked.
    /// Throws when the broker answers with an error or not in time.
    public func topicConfigs(_ topic: String, timeoutMilliseconds: Int32 = 10_000) async throws(KafkaError) -> [String: String]? {
        let client = self.client
        return try await BlockingCalls.run(cancellable: true) { () throws(KafkaError) -> [String: String]? in
            if client.isMockCluster(timeoutMilliseconds: timeoutMilliseconds) { return nil }
            var errorText = [CChar](repeating: 0, count: 512)
            // Ours: rd_kafka_DescribeConfigs copies the resources it is given, so this one is
            // destroyed here whatever happens.
            var resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic)
            guard resource != nil else { throw KafkaError(code: .configuration, message: "describe configs of \(topic): no resource") }
            defer { rd_kafka_ConfigResource_destroy(resource) }
            let queue = rd_kafka_queue_new(client.handle)
            defer { rd_kafka_queue_destroy(queue) }
            let options = rd_kafka_AdminOptions_new(client.handle, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS)
            defer { rd_kafka_AdminOptions_destroy(options) }
            _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
            rd_kafka_DescribeConfigs(client.handle, &resource, 1, options, queue)
            // The result event is ours; the resources and entries read from it live as long as
            // it does, so their texts are copied into Swift strings before it is destroyed.
            guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds + 5_000) else {
                throw KafkaError(code: .timedOut, message: "describe configs of \(topic): no answer", isRetriable: true)
            }
            defer { rd_kafka_event_destroy(event) }
            try KafkaError.check(rd_kafka_event_error(event), "describe configs of \(topic)")
            var count = 0
            guard let result = rd_kafka_event_DescribeConfigs_result(event), let resources = rd_kafka_DescribeConfigs_result_resources(result, &count),
                count > 0, let described = resources[0]
            else { throw KafkaError(code: .rdkafka(RD_KAFKA_RESP_ERR__FAIL.rawValue), message: "describe configs of \(topic): no resource in the answer") }
            try KafkaError.check(rd_kafka_ConfigResource_error(described), "describe configs of \(topic)")
            var configs: [String: String] = [:]
            var entryCount = 0
            guard let entries = rd_kafka_ConfigResource_configs(described, &entryCount) else { return configs }
            for i in 0..<entryCount {
                guard let entry = entries[i], let value = rd_kafka_ConfigEntry_value(entry) else { continue }
                configs[String(cString: rd_kafka_ConfigEntry_name(entry))] = String(cString: value)
            }
            return configs
        }
    }

    /// Low (log start) and high (next offset) watermark of a partition.
    public func watermarks(_ partition: TopicPartition) async throws(KafkaError) -> (low: Int64, high: Int64) {
        let client = self.client
        return try await BlockingCalls.run(cancellable: true) { () throws(KafkaError) in try client.queryWatermarks(partition) }
    }

    /// Whether the cluster has this topic (asking does not create it).
    public func topicExists(_ topic: String) async throws(KafkaError) -> Bool {
        let client = self.client
        return try await BlockingCalls.run(cancellable: true) { () throws(KafkaError) in try client.topicNames().contains(topic) }
    }

    /// The names of the cluster's topics.
    public func topicNames() async throws(KafkaError) -> Set<String> {
        let client = self.client
        return try await BlockingCalls.run(cancellable: true) { () throws(KafkaError) in try client.topicNames() }
    }

    /// The number of partitions of a topic (0 if the broker does not know it).
    public func partitionCount(of topic: String) async throws(KafkaError) -> Int32 {
        let client = self.client
        return try await BlockingCalls.run(cancellable: true) { () throws(KafkaError) in try client.partitionCount(of: topic) }
    }

    /// For each partition, the earliest offset whose timestamp is at or after the given time
    /// (milliseconds since the epoch); -1 where there is none or the broker gives no answer.
    public func offsetsForTimes(_ times: [TopicPartition: Int64], timeoutMilliseconds: Int32 = 10_000) async throws(KafkaError) -> [TopicPartition: Int64] {
        let client = self.client
        return try await BlockingCalls.run(cancellable: true) { () throws(KafkaError) in
            let list = PartitionList.make(times.map { TopicPartitionOffset($0.key, offset: $0.value) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_offsets_for_times(client.handle, list, timeoutMilliseconds), "offsets for times")
            var offsets: [TopicPartition: Int64] = [:]
            for entry in PartitionList.read(list) { offsets[entry.topicPartition] = entry.offset }
            return offsets
        }
    }
}

extension RDKafkaClient {
    /// Whether the cluster id is the mock cluster's. Blocks.
    func isMockCluster(timeoutMilliseconds: Int32) -> Bool {
        // Ours: librdkafka allocates the id for the caller, freed with rd_kafka_mem_free.
        guard let id = rd_kafka_clusterid(handle, timeoutMilliseconds) else { return false }
        defer { rd_kafka_mem_free(handle, id) }
        return String(cString: id).hasPrefix("mockCluster")
    }
}
