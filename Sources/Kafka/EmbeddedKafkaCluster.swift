import CLibrdkafka
import Logging

/// An in-process Kafka cluster: librdkafka's mock cluster, which speaks the real Kafka protocol on
/// loopback TCP (consumer groups included), so other clients and processes can use it.
///
/// Known limits (DESIGN.md §12): admin CreateTopics fails against it, so topics are made with
/// `createTopic`; unknown topics are auto-created with 4 partitions on first use; topic configs
/// are not kept; ListOffsets ignores timestamps.
/// The mock cluster API is thread-safe: it posts every call to the cluster's own thread.
public final class EmbeddedKafkaCluster: @unchecked Sendable {
    public enum RequestKind: Int16, Sendable {
        case produce = 0, fetch = 1, listOffsets = 2, metadata = 3, offsetCommit = 8, offsetFetch = 9
        case findCoordinator = 10, joinGroup = 11, heartbeat = 12, leaveGroup = 13, syncGroup = 14
    }

    /// The handle the mock cluster lives in; it must outlive the cluster.
    private let client: RDKafkaClient
    private let cluster: OpaquePointer
    public let bootstrapServers: String

    public init(brokers: Int = 1, logger: Logger) throws(KafkaError) {
        client = try RDKafkaClient(role: .producer, properties: ["log.connection.close": "false"], context: .init(logger: logger))
        guard let cluster = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            throw KafkaError(code: .configuration, message: "cannot start the embedded Kafka cluster")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit { rd_kafka_mock_cluster_destroy(cluster) }

    /// Creates a topic (replication 1). Creating an existing topic is not an error.
    public func createTopic(_ name: String, partitions: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, partitions, 1)
        if err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { try KafkaError.check(err, "create topic \(name)") }
    }

    /// Takes a broker down (connections are closed and refused) or brings it back.
    public func setBroker(_ id: Int32, up: Bool) {
        _ = up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id)
    }

    /// Makes the next requests of this kind fail with these error codes, one each.
    public func pushRequestErrors(_ kind: RequestKind, _ errors: [Int32]) {
        var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        rd_kafka_mock_push_request_errors_array(cluster, kind.rawValue, codes.count, &codes)
    }

    /// Makes the next requests of this kind to one broker fail with these error codes, one each
    /// (before the cluster-wide ones), each answered after `delayMilliseconds`: a fault of only
    /// what that broker leads or coordinates.
    public func pushRequestErrors(_ kind: RequestKind, broker: Int32, _ errors: [Int32], delayMilliseconds: Int32 = 0) {
        for error in errors {
            _ = webhook_bridge_mock_broker_push_request_error(cluster, broker, kind.rawValue, rd_kafka_resp_err_t(rawValue: error), delayMilliseconds)
        }
    }

    /// The errors still waiting on a broker for requests of this kind (0 once all were met).
    public func pendingRequestErrors(_ kind: RequestKind, broker: Int32) -> Int {
        var count = 0
        _ = rd_kafka_mock_broker_error_stack_cnt(cluster, broker, kind.rawValue, &count)
        return count
    }

    /// Moves a partition's leadership to a broker.
    public func setLeader(_ topic: String, partition: Int32, broker: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_partition_set_leader(cluster, topic, partition, broker), "set leader of \(topic) [\(partition)]")
    }

    /// Makes a broker the coordinator of a consumer group (else the group id's hash picks one).
    public func setGroupCoordinator(_ group: String, broker: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_coordinator_set(cluster, "group", group, broker), "set coordinator of \(group)")
    }

    /// Adds round-trip time to every answer of a broker.
    public func setBrokerRoundTrip(_ id: Int32, milliseconds: Int32) {
        _ = rd_kafka_mock_broker_set_rtt(cluster, id, milliseconds)
    }
}
