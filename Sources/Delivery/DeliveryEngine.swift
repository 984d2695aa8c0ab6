import Kafka
import Logging
import Synchronization
import WebhookDomain

/// Reads the source topics in the consumer group, routes each record, fans it out to the lanes
/// of subscribed webhooks, dead-letters what cannot be placed, and stores offsets as records
/// are done.
public final class DeliveryEngine: Sendable {
    public struct Configuration: Sendable {
        public var router: Router
        public var sites: [Site]
        public var webhooks: [Webhook]
        public var deadLetterTopic: String
        /// Records in memory, not yet done, before reading pauses.
        public var maxPendingRecords: Int

        public init(router: Router, sites: [Site], webhooks: [Webhook], deadLetterTopic: String, maxPendingRecords: Int = 20_000) {
            self.router = router
            self.sites = sites
            self.webhooks = webhooks
            self.deadLetterTopic = deadLetterTopic
            self.maxPendingRecords = maxPendingRecords
        }
    }

    private struct SubscriptionKey: Hashable {
        var site: String
        var topic: String
    }

    private let configuration: Configuration
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let progress: PartitionProgress
    private let lanes: [WebhookLane]
    private let subscribers: [SubscriptionKey: [WebhookLane]]
    private let logger: Logger
    public let readiness = Readiness()
    private let stopRequested: AsyncStream<Void>
    private let requestStop: AsyncStream<Void>.Continuation
    private let completions: AsyncStream<Void>
    private let completed: AsyncStream<Void>.Continuation

    public init(
        configuration: Configuration, consumer: KafkaConsumer, producer: KafkaProducer, client: WebhookHTTPClient,
        retryPause: Duration = .seconds(1), logger: Logger
    ) {
        self.configuration = configuration
        self.consumer = consumer
        self.producer = producer
        self.logger = logger
        let progress = PartitionProgress()
        self.progress = progress
        (stopRequested, requestStop) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (completions, completed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let completed = self.completed
        let context = DeliveryContext(
            client: client, progress: progress,
            storeOffset: { partition, offset in
                consumer.storeOffsets([TopicPartitionOffset(partition, offset: offset)])
                completed.yield()
            }, retryPause: retryPause, logger: logger)
        let sites = Dictionary(configuration.sites.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var lanes: [WebhookLane] = []
        var subscribers: [SubscriptionKey: [WebhookLane]] = [:]
        // Only enabled webhooks take messages for now; statuses, parking and cursors are issue 3.
        for webhook in configuration.webhooks where webhook.status == .enabled {
            guard let site = sites[webhook.siteID] else { continue }
            let lane = WebhookLane(webhook: webhook, site: site, context: context)
            lanes.append(lane)
            for topic in Set(webhook.topics) { subscribers[SubscriptionKey(site: webhook.siteID, topic: topic), default: []].append(lane) }
        }
        self.lanes = lanes
        self.subscribers = subscribers
    }

    /// Subscribes and delivers until `stop()`; then lets in-flight requests end, commits what was
    /// acknowledged and leaves the group.
    public func run() async throws(KafkaError) {
        try consumer.subscribe(configuration.router.sourceTopics)
        await withDiscardingTaskGroup { group in
            for lane in lanes { group.addTask { await lane.run() } }
            await withTaskGroup(of: Void.self) { intake in
                intake.addTask { await self.consume() }
                intake.addTask { for await _ in self.stopRequested { break } }
                await intake.next()
                intake.cancelAll()
            }
            logger.info("delivery stopping: no new records; in-flight requests finish")
            for lane in lanes { await lane.stop() }
        }
        do { try await consumer.commit() } catch { logger.warning("final commit failed", metadata: ["error": "\(error)"]) }
        await consumer.close()
        readiness.set(false)
        logger.info("delivery stopped")
    }

    /// Asks `run()` to stop taking records and wind down.
    public func stop() { requestStop.yield() }

    private func consume() async {
        var epochs: [TopicPartition: UInt64] = [:]
        var completionSignals = completions.makeAsyncIterator()
        for await event in consumer.events {
            switch event {
            case .assigned(let partitions):
                for partition in partitions { epochs[partition.topicPartition] = progress.assign(partition.topicPartition) }
                logger.info("partitions assigned", metadata: ["partitions": "\(partitions.map { "\($0.topicPartition)@\($0.offset)" })"])
                readiness.set(true)
            case .revoked(let partitions, let acknowledgement):
                await revoke(partitions)
                for partition in partitions { epochs[partition] = nil }
                acknowledgement.done()
            case .records(let records):
                for record in records {
                    guard let epoch = epochs[record.topicPartition] else { continue }
                    // False only when stopping mid-record: nothing after it may be registered.
                    guard await dispatch(record, epoch: epoch) else { return }
                }
                while progress.pendingRecords > configuration.maxPendingRecords {
                    guard await completionSignals.next() != nil else { return }
                }
            }
        }
    }

    /// Partitions are about to move: finish their in-flight requests, store and commit.
    private func revoke(_ partitions: [TopicPartition]) async {
        let revoked = Set(partitions)
        for lane in lanes { await lane.revoke(revoked) }
        for partition in partitions { progress.revoke(partition) }
        do { try await consumer.commit() } catch { logger.warning("commit on revocation failed", metadata: ["error": "\(error)"]) }
        logger.info("partitions revoked", metadata: ["partitions": "\(partitions)"])
    }

    private func dispatch(_ record: KafkaRecord, epoch: UInt64) async -> Bool {
        let source = SourceRecord(
            topic: record.topic, partition: record.partition, offset: record.offset, key: record.key, value: record.value,
            messageIDHeader: record.header("message_id"), timestampMilliseconds: record.timestampMilliseconds)
        var deliveries: [(WebhookLane, RoutedMessage)] = []
        switch configuration.router.route(source) {
        case .deadLetter(let reason):
            guard await deadLetter(record, reason: reason) else { return false }
        case .routed(let messages):
            for message in messages {
                for lane in subscribers[SubscriptionKey(site: message.siteID, topic: message.topic.name)] ?? [] {
                    deliveries.append((lane, message))
                }
            }
        }
        // Registered before any lane can complete it, so the storable offset never runs ahead.
        if let offset = progress.register(record.topicPartition, offset: record.offset, deliveries: deliveries.count) {
            consumer.storeOffsets([TopicPartitionOffset(record.topicPartition, offset: offset)])
        }
        for (lane, message) in deliveries {
            await lane.enqueue(LaneMessage(message: message, partition: record.topicPartition, epoch: epoch))
        }
        return true
    }

    /// Keeps the original key, value and headers and adds the reason; retried until the broker
    /// has it, since the record's offset may only be stored afterwards.
    private func deadLetter(_ record: KafkaRecord, reason: String) async -> Bool {
        logger.warning("dead-lettered", metadata: ["source": "\(record.topicPartition)", "offset": "\(record.offset)", "reason": "\(reason)"])
        let headers = record.headers + [
            KafkaHeader(key: "dead_letter_reason", string: reason),
            KafkaHeader(key: "source_topic", string: record.topic),
            KafkaHeader(key: "source_partition", string: String(record.partition)),
            KafkaHeader(key: "source_offset", string: String(record.offset)),
        ]
        let letter = KafkaOutgoingRecord(
            topic: configuration.deadLetterTopic, key: record.key, value: record.value, headers: headers,
            timestampMilliseconds: record.timestampMilliseconds)
        while !Task.isCancelled {
            do {
                try await producer.send(letter)
                return true
            } catch {
                logger.error("dead-letter produce failed; trying again", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        return false
    }
}
