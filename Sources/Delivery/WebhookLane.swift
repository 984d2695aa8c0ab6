import Foundation
import Kafka
import Logging
import Synchronization
import WebhookDomain

/// Delivers one webhook's messages (DESIGN.md §5–§7): per-entity order, at most `max_in_flight`
/// requests, batching, the status and retry state machine, parking and catch-up.
///
/// The decisions are `StateMachine`'s, a value kept under the lane's lock; this class executes
/// what it returns. The dispatcher hands records over with `offer`, synchronously and under the
/// lock, so that whether a record goes to this webhook live, is held, or is left to the
/// webhook's cursor is decided atomically with parking and with the catch-up's hand-back.
/// `run()` owns every task of the lane (requests, parking, catch-up, probe retries) in one task
/// group.
public final class WebhookLane: RequestSlots.Waiter {
    public let webhookID: String
    let context: DeliveryContext
    let state: Mutex<StateMachine>
    /// Revocations waiting for their partitions' in-flight requests to end.
    private let drainWaiters = Mutex<[CheckedContinuation<Void, Never>]>([])
    /// The Kafka client of this webhook's catch-ups.
    let catchUpReader = CatchUpReader()
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    public init(webhook: Webhook, site: Site, status: WebhookState, context: DeliveryContext) {
        webhookID = webhook.id
        self.context = context
        state = Mutex(StateMachine(webhook: webhook, site: site, status: status))
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    var logger: Logger { context.logger }

    /// The webhook's current status and retry state.
    public var status: WebhookState { state.withLock { $0.status } }
    public var webhook: Webhook { state.withLock { $0.webhook } }

    /// Messages waiting in memory for this webhook.
    public var queuedCount: Int { state.withLock { $0.queue.count } }

    func signal() { wake.yield() }

    // MARK: - The dispatcher's side

    /// What became of an offered message.
    public enum OfferResult: Sendable {
        /// Queued or held: the lane settles it later.
        case taken
        /// Left to the webhook's durable cursor (or its catch-up): settle it now.
        case settledNow
    }

    /// A message routed to this webhook from a record the live consumer read.
    public func offer(_ message: RoutedMessage, partition: SourcePartition) -> OfferResult {
        let (result, wake) = state.withLock { $0.offer(message, partition: partition) }
        if wake { self.wake.yield() }
        return result
    }

    // MARK: - Running

    /// Runs the lane's tasks until `stop()` and every one of them has ended.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await _ in wakeups {
                startWork(in: &group)
            }
        }
    }

    /// Starts no new request, parking or catch-up; in-flight requests finish.
    public func stop() {
        state.withLock { $0.stop() }
        wake.finish()
        context.slots.withdraw(self)
    }

    private func startWork(in group: inout DiscardingTaskGroup) {
        let (work, needsSlot) = state.withLock { state in
            state.nextWork(now: .now, takeSlot: { context.slots.tryAcquire(for: self) }, releaseSlot: { context.slots.release() })
        }
        if !needsSlot { context.slots.withdraw(self) }
        for item in work {
            switch item {
            case .send(let batch): group.addTask { await self.deliver(batch) }
            case .park: group.addTask { await self.park() }
            case .catchUp(let partition, let generation): group.addTask { await self.catchUp(partition, generation: generation) }
            case .retry: group.addTask { await self.retryProbe() }
            case .linger(let duration):
                group.addTask {
                    try? await Task.sleep(for: duration)
                    self.wake.yield()
                }
            }
        }
    }

    // MARK: - Requests

    /// Sends one request (a message or a batch) and settles its messages.
    private func deliver(_ batch: [QueuedMessage]) async {
        let (webhook, site) = state.withLock { ($0.webhook, $0.site) }
        // The slot was taken for this request in `startWork`.
        let result = await send(batch.map(\.message), webhook: webhook, site: site, attempt: 1)
        context.slots.release()
        let acked = result.status.map { site.ackStatuses.contains($0) } ?? false
        let (settle, effects) = state.withLock { $0.requestFinished(batch, failure: acked ? nil : Self.failure(result), now: context.now()) }
        settleInProgress(settle)
        if let effects { await afterTransition(effects) }
        resumeDrainWaiters()
        wake.yield()
    }

    func settleInProgress(_ settlements: [Settlement]) {
        for settlement in settlements { context.settle(settlement.partition, offset: settlement.offset, epoch: settlement.epoch) }
    }

    /// One HTTP attempt, logged. `messages` is never empty (a request, or a batch, or the probe).
    func send(_ messages: [RoutedMessage], webhook: Webhook, site: Site, attempt: Int) async -> HTTPAttemptResult {
        guard let first = messages.first else { return HTTPAttemptResult(status: nil, retryAfter: nil, failure: .connection(.connectionError, detail: "no message to send"), latency: .zero) }
        if let notBefore = messages.compactMap(\.notBeforeMilliseconds).max() {
            // A record's time is external data: a wait of any size must not trap (a day at most
            // at a time).
            while case let wait = notBefore.clampedSubtracting(context.now()), wait > 0, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(min(wait, 86_400_000)))
            }
        }
        let timestamp = context.now() / 1000
        let request =
            webhook.options.batching
            ? WebhookRequest.batch(messages, to: webhook, timestamp: timestamp)
            : WebhookRequest.single(first, to: webhook, timestamp: timestamp)
        let result = await context.client.send(request, timeout: site.ackTimeout)
        let acked = result.status.map { site.ackStatuses.contains($0) } ?? false
        let outcome = acked ? "acked" : result.outcomeLabel
        context.attempts?.record(messages, request: request, webhookID: webhookID, attempt: attempt, result: result, acked: acked)
        context.metrics.attempt(webhookID: webhookID, outcome: outcome, latency: result.latency, messages: messages.count)
        var metadata: Logger.Metadata = [
            "message_id": "\(messages.count == 1 ? first.messageID : request.headers.first { $0.name == "batch_id" }?.value ?? "")",
            "webhook": "\(webhookID)", "topic": "\(first.topic.name)", "attempt": "\(attempt)", "messages": "\(messages.count)",
            "latency_ms": "\(result.latency.milliseconds)", "outcome": "\(outcome)",
        ]
        if let status = result.status { metadata["status"] = "\(status)" }
        if acked {
            logger.info("delivery", metadata: metadata)
        } else {
            metadata["error"] = "\(result.failureDescription)"
            // The operator's log may name the host and its addresses; nothing a tenant sees does.
            if result.failureDetail != result.failureDescription { metadata["detail"] = "\(result.failureDetail)" }
            logger.warning("delivery failed", metadata: metadata)
        }
        return result
    }

    static func failure(_ result: HTTPAttemptResult) -> DeliveryFailure {
        DeliveryFailure(status: result.status, retryAfter: result.retryAfter, reason: result.failureDescription)
    }

    func resumeDrainWaiters() {
        let waiters = drainWaiters.withLock { waiters in
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until no request of these partitions is in flight.
    func waitForRequests(of partitions: Set<SourcePartition>) async {
        while state.withLock({ $0.hasRequestsInFlight(partitions) }) {
            await withCheckedContinuation { continuation in
                // Registered under the lane's lock, so a request ending in between cannot be missed.
                let resumeNow = state.withLock { state in
                    guard state.hasRequestsInFlight(partitions) else { return true }
                    drainWaiters.withLock { $0.append(continuation) }
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }
}
