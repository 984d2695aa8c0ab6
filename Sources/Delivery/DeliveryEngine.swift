import Kafka
import Logging
import Synchronization
import WebhookDomain

/// Reads the source topics in the consumer group, routes each record, offers it to the lanes of
/// the webhooks subscribed to it, dead-letters what cannot be placed, and stores each
/// partition's offset as its records are settled.
public final class DeliveryEngine: Sendable {
    public struct Configuration: Sendable {
        public var router: Router
        public var sites: [Site]
        public var webhooks: [Webhook]
        public var deadLetterTopic: String
        /// Records in memory, not yet settled, before reading pauses.
        public var maxPendingRecords: Int
        /// Requests in flight for all webhooks together (`http.max_concurrent_requests`).
        public var maxConcurrentRequests: Int
        /// The wait before a failed dead-letter write is tried again, doubling up to `deadLetterMaxRetry`.
        public var deadLetterFirstRetry: Duration
        public var deadLetterMaxRetry: Duration
        /// Where `format: avro` routes' schemas come from.
        public var schemaRegistry: SchemaRegistry?

        public init(
            router: Router, sites: [Site], webhooks: [Webhook], deadLetterTopic: String, maxPendingRecords: Int = 20_000, maxConcurrentRequests: Int = 256,
            deadLetterFirstRetry: Duration = .seconds(1), deadLetterMaxRetry: Duration = .seconds(30), schemaRegistry: SchemaRegistry? = nil
        ) {
            self.schemaRegistry = schemaRegistry
            self.router = router
            self.sites = sites
            self.webhooks = webhooks
            self.deadLetterTopic = deadLetterTopic
            self.maxPendingRecords = maxPendingRecords
            self.maxConcurrentRequests = maxConcurrentRequests
            self.deadLetterFirstRetry = deadLetterFirstRetry
            self.deadLetterMaxRetry = deadLetterMaxRetry
        }
    }

    private struct SubscriptionKey: Hashable {
        var site: String
        var topic: String
    }

    /// `Configuration.maxPendingRecords`: the rest of the configuration is not kept (its webhooks
    /// are the lanes' now).
    private let maxPendingRecords: Int
    let consumer: KafkaConsumer
    let progress: PartitionProgress
    let context: DeliveryContext
    private let routing: SharedRouter
    /// Writes dead letters, each partition's apart from the others'.
    private let deadLetters: DeadLetterWriter
    /// Lanes by webhook id, and by (site, topic) for dispatch; the assigned partitions with their
    /// epoch and the next offset the dispatcher will look at, for lanes added while running.
    private let lanes: Mutex<Lanes>
    /// Lanes whose runner is to start: a lane runs only while it has work (`WebhookLane.Runner`).
    private let runnableLanes: AsyncStream<WebhookLane>
    private let startRunner: AsyncStream<WebhookLane>.Continuation

    private struct Lanes {
        var byID: [String: WebhookLane] = [:]
        var bySubscription: [SubscriptionKey: [WebhookLane]] = [:]
        var sites: [String: SharedSite] = [:]
        var positions: [SourcePartition: (next: Int64, epoch: UInt64)] = [:]

        mutating func index(_ lane: WebhookLane, _ webhook: Webhook) {
            for topic in Set(webhook.topics) { bySubscription[SubscriptionKey(site: webhook.siteID, topic: topic), default: []].append(lane) }
        }

        /// One shared object per site for its lanes; the first of a duplicated id.
        static func share(_ sites: [Site]) -> [String: SharedSite] {
            Dictionary(sites.map { ($0.id, SharedSite($0)) }, uniquingKeysWith: { first, _ in first })
        }

        mutating func unindex(_ lane: WebhookLane, _ webhook: Webhook) {
            for topic in Set(webhook.topics) {
                let key = SubscriptionKey(site: webhook.siteID, topic: topic)
                bySubscription[key]?.removeAll { $0 === lane }
                if bySubscription[key]?.isEmpty == true { bySubscription[key] = nil }
            }
        }
    }
    private let logger: Logger
    public let readiness: Readiness
    private let stopRequested: AsyncStream<Void>
    private let requestStop: AsyncStream<Void>.Continuation
    private let completions: AsyncStream<Void>
    private let completed: AsyncStream<Void>.Continuation

    public init(
        configuration: Configuration, consumer: KafkaConsumer, producer: KafkaProducer, client: WebhookHTTPClient, kafka: KafkaConfig,
        store: any DeliveryStore, alerts: any AlertSink, states: [String: WebhookState] = [:], attempts: AttemptLog? = nil,
        metrics: DeliveryMetrics = DeliveryMetrics(), tracing: DeliveryTracing? = nil, logger: Logger
    ) {
        maxPendingRecords = configuration.maxPendingRecords
        self.consumer = consumer
        self.logger = logger
        readiness = Readiness(grace: consumer.sessionTimeout) { ready in
            if ready { logger.notice("ready") } else { logger.warning("not ready") }
        }
        let progress = PartitionProgress()
        self.progress = progress
        (stopRequested, requestStop) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (completions, completed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let completed = self.completed
        routing = SharedRouter(configuration.router, decoding: configuration.schemaRegistry.map { SourceDecoding(registry: $0, logger: logger) })
        let (runnableLanes, startRunner) = AsyncStream.makeStream(of: WebhookLane.self)
        (self.runnableLanes, self.startRunner) = (runnableLanes, startRunner)
        let context = DeliveryContext(
            client: client, maxConcurrentRequests: configuration.maxConcurrentRequests, progress: progress, store: store, alerts: alerts, routing: routing, kafka: kafka,
            storeOffset: { partition, offset in
                consumer.storeOffsets([TopicPartitionOffset(partition.kafka, offset: offset)])
                completed.yield()
            }, logger: logger, attempts: attempts, metrics: metrics, tracing: tracing, startRunner: { startRunner.yield($0) })
        self.context = context
        deadLetters = DeadLetterWriter(
            topic: configuration.deadLetterTopic, producer: producer, context: context,
            retry: .init(first: configuration.deadLetterFirstRetry, max: configuration.deadLetterMaxRetry))
        var lanes = Lanes()
        lanes.sites = Lanes.share(configuration.sites)
        for webhook in configuration.webhooks {
            guard let site = lanes.sites[webhook.siteID] else { continue }
            let lane = WebhookLane(webhook: webhook, site: site, status: states[webhook.id], context: context)
            lanes.byID[webhook.id] = lane
            lanes.index(lane, webhook)
        }
        self.lanes = Mutex(lanes)
    }

    /// The source partitions this instance holds now.
    public var assignedPartitions: [SourcePartition] { lanes.withLock { Array($0.positions.keys) } }

    /// The lane of a webhook (for status changes and inspection).
    public func lane(_ webhookID: String) -> WebhookLane? { lanes.withLock { $0.byID[webhookID] } }

    var lanesByID: [String: WebhookLane] { lanes.withLock { $0.byID } }
    private var allLanes: [WebhookLane] { Array(lanesByID.values) }
    /// Each assigned partition's next offset for the dispatcher.
    var positions: [SourcePartition: Int64] { lanes.withLock { $0.positions.mapValues(\.next) } }

    /// Subscribes and delivers until `stop()`; then lets in-flight requests end, commits what was
    /// settled and leaves the group.
    public func run() async throws(KafkaError) {
        try consumer.subscribe(routing.router.sourceTopics)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.deadLetters.run() }
            group.addTask {
                await withTaskGroup(of: Void.self) { intake in
                    intake.addTask { await self.consume() }
                    intake.addTask { await self.tickLanes() }
                    intake.addTask { await self.watchHealth() }
                    intake.addTask { for await _ in self.stopRequested { break } }
                    await intake.next()
                    intake.cancelAll()
                }
                self.logger.info("delivery stopping: no new records; in-flight requests finish")
                self.deadLetters.stop()
                // A stopped lane starts no runner: the runners still to start are already queued.
                for lane in self.allLanes { lane.stop() }
                self.startRunner.finish()
            }
            // Each lane's runner starts here, inside the same group, when a wake finds the lane
            // idle with work to do; it ends when the lane has nothing left to do.
            for await lane in runnableLanes { group.addTask { await lane.run() } }
        }
        readiness.update { $0.stop() }
        do { try await consumer.commit() } catch { logger.warning("final commit failed", metadata: ["error": "\(error)"]) }
        await consumer.close()
        logger.info("delivery stopped")
    }

    // MARK: - Changes from the control topic

    /// A webhook was created or changed. A new one takes the records read from now on (or, not
    /// delivering, is parked at the current positions).
    public func upsert(_ webhook: Webhook, state: WebhookState?) {
        lanes.withLock { lanes in
            guard let site = lanes.sites[webhook.siteID] else { return }
            if let lane = lanes.byID[webhook.id] {
                let current = lane.webhook
                // Every instance reads back its own start-up writes: nothing to do for those.
                guard current != webhook else { return }
                lanes.unindex(lane, current)
                lanes.index(lane, webhook)
                lane.update(webhook: webhook, site: site)
                return
            }
            let lane = WebhookLane(webhook: webhook, site: site, status: state, context: context)
            lane.assignRunning(lanes.positions.map { ($0.key, $0.value.next, $0.value.epoch) })
            lanes.byID[webhook.id] = lane
            lanes.index(lane, webhook)
        }
    }

    /// A webhook was deleted: its lane stops and nothing is kept for it, its metric series
    /// neither (after the lane is retired, so that no request ending late brings them back).
    public func remove(webhookID: String) {
        let lane: WebhookLane? = lanes.withLock { lanes in
            guard let lane = lanes.byID.removeValue(forKey: webhookID) else { return nil }
            lanes.unindex(lane, lane.webhook)
            return lane
        }
        lane?.retire()
    }

    /// A webhook's status record changed in the control topic.
    public func adopt(_ state: WebhookState, webhookID: String) {
        lane(webhookID)?.adopt(state)
    }

    /// Sites or custom topics changed: new routing, and new settings for the sites' lanes.
    public func update(sites: [Site], router: Router) {
        routing.router = router
        let affected: [(WebhookLane, SharedSite)] = lanes.withLock { lanes in
            lanes.sites = Lanes.share(sites)
            return lanes.byID.values.compactMap { lane in lanes.sites[lane.webhook.siteID].map { (lane, $0) } }
        }
        for (lane, site) in affected { lane.update(webhook: lane.webhook, site: site) }
    }

    /// Asks `run()` to stop taking records and wind down.
    public func stop() { requestStop.yield() }

    /// Once a second: retention (paused or disabled too long → dead) and due probe retries.
    private func tickLanes() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            for lane in allLanes { await lane.tick() }
        }
    }

    /// Once a second: can the consumer reach a broker, and does it hold its assignment? `/ready`
    /// turns 503 when not, for longer than the session timeout (DESIGN.md §3).
    private func watchHealth() async {
        while !Task.isCancelled {
            let healthy = await consumer.brokersReachable(timeoutMilliseconds: 1_000) && !consumer.assignmentLost
            readiness.update { $0.observe(healthy: healthy, at: .now) }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Commits the start positions of partitions the group had never committed, before any of
    /// their records is handled; tried until the broker has them or the engine stops.
    private func commitStartPositions() async -> Bool {
        var wait = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await consumer.commitStartPositions()
                return true
            } catch {
                logger.error("start positions not committed; trying again", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(5))
            }
        }
        return false
    }

    /// Starts tracking a partition from `start`: every lane knows how the partition reaches it
    /// before any record is dispatched.
    private func assign(_ partition: SourcePartition, start: Int64) async -> UInt64 {
        let epoch = progress.assign(partition)
        lanes.withLock { $0.positions[partition] = (start, epoch) }
        for lane in allLanes { await lane.assign(partition, start: start, epoch: epoch) }
        return epoch
    }

    private func consume() async {
        var epochs: [SourcePartition: UInt64] = [:]
        var completionSignals = completions.makeAsyncIterator()
        /// The lane last parked to free memory.
        var relieving: WebhookLane?
        for await event in consumer.events {
            switch event {
            case .assigned(let partitions):
                for assigned in partitions {
                    let partition = assigned.topicPartition.source
                    epochs[partition] = await assign(partition, start: max(assigned.offset, 0))
                }
                logger.info("partitions assigned", metadata: ["partitions": "\(partitions.map { "\($0.topicPartition)@\($0.offset)" })"])
                guard await commitStartPositions() else { return }
                readiness.update { $0.assignmentSettled() }
            case .revoked(let partitions, let acknowledgement):
                let revoked = Set(partitions.map(\.source))
                deadLetters.revoke(revoked)
                for lane in allLanes { await lane.revoke(revoked) }
                for partition in revoked {
                    progress.revoke(partition)
                    epochs[partition] = nil
                }
                lanes.withLock { lanes in for partition in revoked { lanes.positions[partition] = nil } }
                do { try await consumer.commit() } catch { logger.warning("commit on revocation failed", metadata: ["error": "\(error)"]) }
                logger.info("partitions revoked", metadata: ["partitions": "\(partitions)"])
                acknowledgement.done()
            case .records(let records):
                for record in records {
                    let partition = record.topicPartition.source
                    guard var epoch = epochs[partition] else { continue }
                    if progress.isRereading(partition, offset: record.offset) {
                        // The consumer went back (an offset reset after log truncation, say): start
                        // the partition afresh from here, as if it were assigned again.
                        logger.warning("offsets went backwards: the partition starts again", metadata: ["partition": "\(partition)", "offset": "\(record.offset)"])
                        for lane in allLanes { await lane.revoke([partition]) }
                        epoch = await assign(partition, start: record.offset)
                        epochs[partition] = epoch
                    }
                    dispatch(record, await routing.route(record), epoch: epoch)
                }
                // Over the limit, the webhook holding the most unsettled records is parked (one
                // at a time), rather than intake stopping for every webhook (DESIGN.md §6).
                while progress.pendingRecords > maxPendingRecords {
                    if relieving?.parkableRecords ?? 0 == 0 { relieving = parkHeaviestLane() }
                    guard await completionSignals.next() != nil else { return }
                }
            }
        }
    }

    /// Parks the lane holding the most unsettled live records, if any holds some; returns it.
    /// Only a lane holding at least 1% of the limit is parked: parking one that holds a few
    /// records frees little and costs a catch-up that reads its partitions again, so with many
    /// small webhooks (10,000 holding ten records each) intake waits instead, as it did before.
    private func parkHeaviestLane() -> WebhookLane? {
        let worthParking = max(1, maxPendingRecords / 100)
        guard let (lane, records) = allLanes.map({ ($0, $0.parkableRecords) }).max(by: { $0.1 < $1.1 }), records >= worthParking,
            lane.parkToFreeMemory()
        else { return nil }
        logger.notice(
            "unsettled records at the limit: the webhook holding the most is parked",
            metadata: ["webhook": "\(lane.webhookID)", "records": "\(records)", "limit": "\(maxPendingRecords)"])
        lane.series.parkedForMemory()
        return lane
    }

    private func dispatch(_ record: KafkaRecord, _ outcome: Router.Outcome, epoch: UInt64) {
        let partition = record.topicPartition.source
        var deliveries: [(WebhookLane, RoutedMessage)] = []
        switch outcome {
        case .deadLetter(let reason):
            lanes.withLock { $0.positions[partition]?.next = record.offset.clampedAdding(1) }
            // One pending delivery, settled by the writer once the broker has the dead letter:
            // until then the partition's stored offset stays below it (DESIGN.md §7), while
            // this and the other partitions go on.
            _ = progress.register(partition, offset: record.offset, deliveries: 1)
            deadLetters.write(record, reason: reason, partition: partition, epoch: epoch)
            return
        case .skipped(let reason):
            // Settled at once: nothing is owed for it.
            context.metrics.skipped(sourceTopic: record.topic, reason: reason)
            lanes.withLock { $0.positions[partition]?.next = record.offset.clampedAdding(1) }
        case .routed(let messages):
            if messages.first?.messageIDHeaderReplaced == true { context.metrics.messageIDHeaderReplaced(sourceTopic: record.topic) }
            lanes.withLock { lanes in
                for message in messages {
                    for lane in lanes.bySubscription[SubscriptionKey(site: message.siteID, topic: message.topic.name)] ?? [] {
                        deliveries.append((lane, message))
                    }
                }
                lanes.positions[partition]?.next = record.offset.clampedAdding(1)
            }
        }
        // Registered before any lane can settle it, so the storable offset never runs ahead.
        if let offset = progress.register(partition, offset: record.offset, deliveries: deliveries.count) {
            consumer.storeOffsets([TopicPartitionOffset(record.topicPartition, offset: offset)])
        }
        for (lane, message) in deliveries where lane.offer(message, partition: partition) == .settledNow {
            context.settle(partition, offset: record.offset, epoch: epoch)
        }
    }
}
