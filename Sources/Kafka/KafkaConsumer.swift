import CLibrdkafka
import Foundation
import Logging
import Synchronization
import Waiting

/// A member of a consumer group.
///
/// One dedicated thread polls librdkafka and serves its rebalance callback; the application reads
/// `events` from one task. Offsets are stored explicitly (`enable.auto.offset.store=false`) once
/// the work for a record is done, and committed by librdkafka's auto-commit, by `commit()`, and
/// always before a partition is given up.
public final class KafkaConsumer: Sendable {
    public enum StartPosition: String, Sendable, CaseIterable {
        case earliest, latest
    }

    public struct Configuration: Sendable {
        public var kafka: KafkaConfig
        public var groupID: String
        /// Where a partition with no committed offset starts.
        public var startFrom: StartPosition
        /// Records buffered ahead of the application before fetching pauses.
        public var bufferCapacity: Int

        public init(kafka: KafkaConfig, groupID: String, startFrom: StartPosition = .latest, bufferCapacity: Int = 10_000) {
            self.kafka = kafka
            self.groupID = groupID
            self.startFrom = startFrom
            self.bufferCapacity = bufferCapacity
        }

        var properties: [String: String] {
            kafka.flattened(defaults: [
                "group.id": groupID,
                "enable.auto.offset.store": "false",
                "enable.auto.commit": "true",
                "auto.commit.interval.ms": "1000",
                "auto.offset.reset": startFrom.rawValue,
                "partition.assignment.strategy": "cooperative-sticky",
                // A killed instance's partitions move after at most this long (DESIGN.md §12).
                "session.timeout.ms": "6000",
                "heartbeat.interval.ms": "1000",
                "fetch.wait.max.ms": "50",
                "enable.partition.eof": "false",
                // Prefetch at most 1 MB (librdkafka's default is 64 MB): the bridge's own
                // buffer and the lanes' windows hold the rest. Each fetched buffer stays until its
                // last record is copied out, so the prefetch costs several times this in peak
                // memory (docs/benchmarks.md: 4 MB took 10 MB more with 10,000 webhooks).
                "queued.max.messages.kbytes": "1024",
            ])
        }
    }

    /// State touched by the polling thread and by application calls.
    struct Shared: Sendable {
        var stopRequested = false
        var closing = false
        var appPaused: Set<TopicPartition> = []
        var didClose = false
        /// A revocation the polling thread is waiting on; `close()` releases it, since the
        /// application stops reading events when it closes.
        var pendingRevocation: RebalanceAcknowledgement?
        /// Start positions resolved from a watermark at assignment, not yet committed.
        var uncommittedStarts: [TopicPartition: Int64] = [:]
        /// The last revocation was a lost assignment; cleared by the next assignment.
        var assignmentLost = false
    }

    let client: RDKafkaClient
    let buffer: ConsumerEventBuffer
    let shared = Waitable(Shared())
    let startFrom: StartPosition
    let logger: Logger
    private let pollBatchSize = 500

    /// The events, read by one task.
    public var events: KafkaConsumerEvents { KafkaConsumerEvents(buffer: buffer) }

    public init(configuration: Configuration, logger: Logger) throws(KafkaError) {
        self.logger = logger
        self.startFrom = configuration.startFrom
        sessionTimeout = .milliseconds(configuration.properties["session.timeout.ms"].flatMap { Int64($0) } ?? 45_000)
        self.buffer = ConsumerEventBuffer(capacity: configuration.bufferCapacity)
        let context = RDKafkaClient.Context(logger: logger)
        // The callback is installed before the handle exists and captures the buffer only, never
        // `self`; it is replaced below once `self` is complete.
        context.rebalance = { _, _ in }
        self.client = try RDKafkaClient(role: .consumer, properties: configuration.properties, context: context)
        context.rebalance = { [unowned self] err, partitions in self.rebalance(err, partitions) }
        // Route the main queue (logs, errors) into the consumer queue, served by consumer_poll.
        rd_kafka_poll_set_consumer(client.handle)
    }

    /// Joins the group for these topics and starts the polling thread.
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = PartitionList.make(topics.map { TopicPartition($0, Int32(RD_KAFKA_PARTITION_UA)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_subscribe(client.handle, list), "subscribe to \(topics)")
        let thread = Thread { [self] in pollLoop() }
        thread.name = "kafka-consumer-poll"
        thread.start()
    }

    /// Marks records as done: `next` is the offset of the next record to read (last done + 1).
    /// Offsets of partitions no longer assigned are ignored.
    public func storeOffsets(_ offsets: [TopicPartitionOffset]) {
        guard !offsets.isEmpty else { return }
        let list = PartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_offsets_store(client.handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, err != RD_KAFKA_RESP_ERR__STATE {
            logger.warning("kafka offset store failed", metadata: ["error": "\(KafkaError(err, context: "store"))"])
        }
    }

    /// Commits the stored offsets and waits for the broker's answer.
    public func commit() async throws(KafkaError) {
        let client = self.client
        try await BlockingCalls.run { () throws(KafkaError) in
            let err = rd_kafka_commit(client.handle, nil, 0)
            if err == RD_KAFKA_RESP_ERR__NO_OFFSET { return }
            try KafkaError.check(err, "commit")
        }
    }

    /// Commits the start positions resolved from a watermark at assignment (partitions the group
    /// had never committed), and waits for the broker's answer: from then on every owner of those
    /// partitions starts there, so nothing produced after the assignment can be skipped by a
    /// later "latest" look-up. Call it before handling any record of an assignment.
    public func commitStartPositions() async throws(KafkaError) {
        let starts = shared.withLock { $0.uncommittedStarts }
        guard !starts.isEmpty else { return }
        let client = self.client
        try await BlockingCalls.run { () throws(KafkaError) in
            let list = PartitionList.make(starts.map { TopicPartitionOffset($0.key, offset: $0.value) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_commit(client.handle, list, 0), "commit start positions")
            if let error = PartitionList.firstError(list, context: "commit start position") { throw error }
        }
        shared.withLock { shared in
            for (partition, offset) in starts where shared.uncommittedStarts[partition] == offset { shared.uncommittedStarts[partition] = nil }
        }
        logger.info("start positions committed", metadata: ["partitions": "\(starts.map { "\($0.key)@\($0.value)" }.sorted())"])
    }

    /// Whether the member lost its assignment (session timeout, fencing) and has not been given
    /// a new one yet.
    public var assignmentLost: Bool { shared.withLock { $0.assignmentLost } }

    /// Whether any broker answers a metadata request within the timeout.
    public func brokersReachable(timeoutMilliseconds: Int32 = 1_000) async -> Bool {
        let client = self.client
        return (try? await BlockingCalls.run { () throws(KafkaError) in try client.brokerCount(timeoutMilliseconds: timeoutMilliseconds) > 0 }) ?? false
    }

    /// The group session timeout in effect (`session.timeout.ms`).
    public let sessionTimeout: Duration

    /// Committed offsets of these partitions, asked of the group coordinator.
    public func committed(_ partitions: [TopicPartition], timeoutMilliseconds: Int32 = 10_000) async throws(KafkaError) -> [TopicPartitionOffset] {
        let client = self.client
        return try await BlockingCalls.run { () throws(KafkaError) in
            let list = PartitionList.make(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_committed(client.handle, list, timeoutMilliseconds), "committed")
            return PartitionList.read(list)
        }
    }

    /// Stops fetching these partitions until `resume`.
    public func pause(_ partitions: [TopicPartition]) {
        shared.withLock { $0.appPaused.formUnion(partitions) }
        let list = PartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = rd_kafka_pause_partitions(client.handle, list)
    }

    public func resume(_ partitions: [TopicPartition]) {
        shared.withLock { $0.appPaused.subtract(partitions) }
        let list = PartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = rd_kafka_resume_partitions(client.handle, list)
    }

    /// A partition's high watermark from the consumer's own fetches (nil before the first one):
    /// cheap enough to call at every metrics scrape.
    public func highWatermark(_ partition: TopicPartition) -> Int64? { client.cachedHighWatermark(partition) }

    /// The partitions currently assigned to this member.
    public var assignment: [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(client.handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return PartitionList.read(list).map(\.topicPartition)
    }

    /// Leaves the group and ends `events`. Revocations during close are not reported: store and
    /// commit what is done before calling it. Safe to call more than once.
    public func close() async {
        let pending = shared.withLock { shared in
            shared.stopRequested = true
            defer { shared.pendingRevocation = nil }
            return shared.pendingRevocation
        }
        // A rebalance that started while the application was winding down must not keep the
        // polling thread (and so the close) waiting for an acknowledgement nobody will give.
        pending?.done()
        await shared.wait { $0.didClose }
    }

    // MARK: - The polling thread

    private func pollLoop() {
        var flowPaused = false
        var records: [KafkaRecord] = []
        while !shared.withLock({ $0.stopRequested }) {
            // Flow control. A full buffer usually drains within milliseconds, so first wait for
            // that without polling (librdkafka keeps prefetching, within its own bound). Only an
            // application that stays behind gets its partitions paused, so that the thread goes
            // back to serving rebalances: librdkafka 2.0 fetches again only about a second after
            // a resume, so pausing at every fill would starve intake (docs/benchmarks.md).
            if !flowPaused, buffer.isFull, !waitForRoom(upTo: .milliseconds(200)) {
                flowPaused = true
                setFetching(paused: true)
            } else if flowPaused, buffer.isBelowHalf {
                flowPaused = false
                setFetching(paused: false)
            }
            client.pollRecords(maxRecords: pollBatchSize, timeoutMilliseconds: 100, into: &records)
            flushRecords(&records)
        }
        shared.withLock { $0.closing = true }
        // rd_kafka_consumer_close runs the final revocation through our callback (not reported).
        let err = rd_kafka_consumer_close(client.handle)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("kafka consumer close", metadata: ["error": "\(KafkaError(err, context: "close"))"])
        }
        buffer.finish()
        shared.withLock { $0.didClose = true }
    }

    /// Waits (on the polling thread) until the buffer is below half full; false if it is not
    /// within `limit` or a stop was asked for.
    private func waitForRoom(upTo limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        while !buffer.isBelowHalf {
            if ContinuousClock.now >= deadline || shared.withLock({ $0.stopRequested }) { return false }
            usleep(500)
        }
        return true
    }

    private func flushRecords(_ records: inout [KafkaRecord]) {
        guard !records.isEmpty else { return }
        buffer.push(.records(records))
        records = []
    }

    private func setFetching(paused: Bool) {
        let appPaused = shared.withLock { $0.appPaused }
        let partitions = assignment.filter { !appPaused.contains($0) }
        guard !partitions.isEmpty else { return }
        let list = PartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = paused ? rd_kafka_pause_partitions(client.handle, list) : rd_kafka_resume_partitions(client.handle, list)
    }
}
