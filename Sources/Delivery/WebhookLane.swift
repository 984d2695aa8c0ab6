import DequeModule
import Foundation
import Kafka
import Logging
import WebhookDomain

/// Delivers one webhook's messages: per-entity order on ordered topics, at most `max_in_flight`
/// requests at once (DESIGN.md §6).
///
/// Messages of one entity on an ordered topic wait in that entity's queue until the one before
/// is acknowledged; entities take turns. Unordered messages go in arrival order. `run()` owns
/// every request task (one task group); `stop()` lets in-flight requests finish and starts no more.
public actor WebhookLane {
    public nonisolated let webhookID: String
    private let webhook: Webhook
    private let site: Site
    private let context: DeliveryContext

    private var entityQueues: [[UInt8]: Deque<LaneMessage>] = [:]
    /// Entities with queued messages and nothing in flight, in turn order.
    private var readyEntities = Deque<[UInt8]>()
    private var busyEntities: Set<[UInt8]> = []
    private var unordered = Deque<LaneMessage>()
    private var inFlight = 0
    private var inFlightByPartition: [TopicPartition: Int] = [:]
    private var revoking: Set<TopicPartition> = []
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    private var stopping = false

    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    public init(webhook: Webhook, site: Site, context: DeliveryContext) {
        self.webhookID = webhook.id
        self.webhook = webhook
        self.site = site
        self.context = context
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func enqueue(_ item: LaneMessage) {
        guard !stopping else { return }
        if item.message.topic.ordered {
            let entity = item.message.entity
            entityQueues[entity, default: []].append(item)
            if entityQueues[entity]!.count == 1, !busyEntities.contains(entity) { readyEntities.append(entity) }
        } else {
            unordered.append(item)
        }
        wake.yield()
    }

    /// Starts requests while there is room; runs until `stop()` and every request has ended.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await _ in wakeups {
                while inFlight < site.maxInFlight, let item = takeNext() {
                    inFlight += 1
                    inFlightByPartition[item.partition, default: 0] += 1
                    group.addTask { await self.deliver(item) }
                }
            }
        }
    }

    /// Starts no new request; in-flight ones finish (a failure is then not tried again).
    public func stop() {
        stopping = true
        wake.finish()
    }

    /// Before a partition is given up: drops its queued messages and waits for its in-flight
    /// requests to end. Acknowledged ones have stored their offsets by then.
    public func revoke(_ partitions: Set<TopicPartition>) async {
        revoking.formUnion(partitions)
        for entity in Array(entityQueues.keys) {
            entityQueues[entity]?.removeAll { partitions.contains($0.partition) }
            if entityQueues[entity]?.isEmpty == true { entityQueues[entity] = nil }
        }
        readyEntities.removeAll { entityQueues[$0] == nil }
        unordered.removeAll { partitions.contains($0.partition) }
        while partitions.contains(where: { (inFlightByPartition[$0] ?? 0) > 0 }) {
            await withCheckedContinuation { drainWaiters.append($0) }
        }
        revoking.subtract(partitions)
    }

    private func takeNext() -> LaneMessage? {
        if let entity = readyEntities.popFirst(), let item = entityQueues[entity]?.popFirst() {
            if entityQueues[entity]!.isEmpty { entityQueues[entity] = nil }
            busyEntities.insert(entity)
            return item
        }
        return unordered.popFirst()
    }

    private func finished(_ item: LaneMessage) {
        inFlight -= 1
        inFlightByPartition[item.partition, default: 1] -= 1
        if inFlightByPartition[item.partition] == 0 { inFlightByPartition[item.partition] = nil }
        if item.message.topic.ordered {
            let entity = item.message.entity
            busyEntities.remove(entity)
            if entityQueues[entity] != nil { readyEntities.append(entity) }
        }
        let waiters = drainWaiters
        drainWaiters = []
        for waiter in waiters { waiter.resume() }
        wake.yield()
    }

    private func mayRetry(_ item: LaneMessage) -> Bool {
        !stopping && !revoking.contains(item.partition)
    }

    /// Sends one message until it is acknowledged or its partition or the lane is going away.
    private nonisolated func deliver(_ item: LaneMessage) async {
        var attempt = 0
        let message = item.message
        if let notBefore = message.notBeforeMilliseconds {
            let wait = notBefore - Int64(Date().timeIntervalSince1970 * 1000)
            if wait > 0 { try? await Task.sleep(for: .milliseconds(wait)) }
        }
        while true {
            attempt += 1
            let request = WebhookRequest.single(message, to: webhook, timestamp: Int64(Date().timeIntervalSince1970))
            let result = await context.client.send(request, timeout: site.ackTimeout)
            let acked = result.status.map { site.ackStatuses.contains($0) } ?? false
            log(message, result: result, attempt: attempt, acked: acked)
            if acked {
                if let offset = context.progress.complete(item.partition, offset: message.sourceOffset, epoch: item.epoch) {
                    context.storeOffset(item.partition, offset)
                }
                break
            }
            guard await mayRetry(item) else { break }
            try? await Task.sleep(for: context.retryPause)
            guard await mayRetry(item) else { break }
        }
        await finished(item)
    }

    private nonisolated func log(_ message: RoutedMessage, result: HTTPAttemptResult, attempt: Int, acked: Bool) {
        var metadata: Logger.Metadata = [
            "message_id": "\(message.messageID)", "webhook": "\(webhookID)", "topic": "\(message.topic.name)",
            "sequence": "\(message.sequence)", "attempt": "\(attempt)",
            "latency_ms": "\(result.latency.milliseconds)", "outcome": "\(acked ? "acked" : result.outcomeLabel)",
        ]
        if let status = result.status { metadata["status"] = "\(status)" }
        if acked {
            context.logger.debug("delivery", metadata: metadata)
        } else {
            metadata["error"] = "\(result.failureDescription)"
            context.logger.warning("delivery failed", metadata: metadata)
        }
    }
}
