import Foundation
import Kafka
import Logging
import Synchronization
import WebhookDomain

/// Delivers one webhook's messages (DESIGN.md §5–§7): per-entity order, at most `max_in_flight`
/// requests, batching, the status and retry state machine, parking and catch-up.
///
/// The dispatcher hands records over with `offer`, synchronously and under the lane's lock, so
/// that whether a record goes to this webhook live, is held, or is left to the webhook's cursor
/// is decided atomically with parking and with the catch-up's hand-back. `run()` owns every
/// task of the lane (requests, parking, catch-up, probe retries) in one task group.
public final class WebhookLane: Sendable {
    /// How one source partition reaches this webhook.
    enum Mode: Equatable {
        /// Records are queued for delivery as the dispatcher reads them.
        case live
        /// A cursor write is in flight: records are held (their offsets stay uncommitted).
        case parking
        /// The durable cursor covers every record from here on: records are left to it.
        case parked
        /// A catch-up reader replays from the cursor; the dispatcher leaves records to it.
        case catchingUp
        /// The catch-up has read everything below this offset: the dispatcher leaves records
        /// below it to the catch-up and queues the rest live.
        case joining(Int64)

        /// The commit invariant (DESIGN.md §7), stated once: a live delivery that this webhook has
        /// not acknowledged may be settled — letting the partition's committed offset pass it —
        /// only while the webhook's cursor for the partition is durably in the store at or below
        /// it. That holds from the moment the cursor write returned (`.parked`) until the
        /// catch-up hands the partition back (`.joining`, for offsets below the hand-back point).
        /// While the cursor is being written (`.parking`) or the webhook is live, such a delivery
        /// is held instead. Every settlement without an acknowledgement asks this.
        func coversUnacknowledged(_ offset: Int64) -> Bool {
            switch self {
            case .parked, .catchingUp: true
            case .joining(let from): offset < from
            case .live, .parking: false
            }
        }
    }

    struct PartitionState {
        var mode: Mode
        /// The assignment epoch (for settling live deliveries in the partition's progress).
        var epoch: UInt64
        /// This webhook's unsettled messages of the partition (queued or in flight).
        var window = OffsetWindow()
        /// Every record below this that targets the webhook is settled or in `window`.
        var floor: Int64
        /// The highest offset the dispatcher offered to this webhook (or, before any offer, one
        /// below where the assignment started: the dispatcher is past everything below it).
        var lastOffered: Int64
        /// Live offsets held while parking, settled once the cursor is durable.
        var held: [Int64] = []
        /// Catch-up messages not yet acknowledged; the cursor is deleted when none are left.
        var catchUpOutstanding = 0
        /// Bumped to stop a running catch-up.
        var catchUpGeneration = 0
    }

    struct State {
        var webhook: Webhook
        var site: Site
        var status: WebhookState
        var queue = DeliveryQueue()
        var inFlightRequests = 0
        /// Messages acknowledged by this instance since it started (for `/status` and the bench).
        var acknowledgedMessages = 0
        var inFlightByPartition: [SourcePartition: Int] = [:]
        var partitions: [SourcePartition: PartitionState] = [:]
        /// Work for `run()`: parking, catch-ups to start, the probe retry.
        var parkRequested = false
        var catchUpsToStart: [SourcePartition] = []
        var retryScheduled = false
        /// The failed request's messages, retried whole while this instance owns the probe.
        var probeBatch: [QueuedMessage]?
        /// The messages a successful retry acknowledged, and their partition: the catch-up that
        /// follows the recovery does not send them again. It belongs to that one episode: a new
        /// failure, a replay, or the catch-up of that partition joining the live path clears it.
        var acknowledgedProbe: (partition: SourcePartition, messageIDs: Set<String>)?
        /// Replay requests: partitions whose cursor moves back to this offset at the next parking.
        var replays: [SourcePartition: Int64] = [:]
        /// Queue room promised to catch-up reads in progress.
        var catchUpReserved = 0
        var lingerStarted: ContinuousClock.Instant?
        var stopping = false
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public let webhookID: String
    let context: DeliveryContext
    let state: Mutex<State>
    /// The Kafka client of this webhook's catch-ups.
    let catchUpReader = CatchUpReader()
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    public init(webhook: Webhook, site: Site, status: WebhookState, context: DeliveryContext) {
        webhookID = webhook.id
        self.context = context
        state = Mutex(State(webhook: webhook, site: site, status: status))
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
        let result: (OfferResult, wake: Bool) = state.withLock { state in
            guard var partitionState = state.partitions[partition] else { return (.settledNow, false) }
            defer { state.partitions[partition] = partitionState }
            let offset = message.sourceOffset
            partitionState.lastOffered = max(partitionState.lastOffered, offset)
            if partitionState.mode.coversUnacknowledged(offset) { return (.settledNow, false) }
            switch partitionState.mode {
            case .parking, .parked, .catchingUp:
                partitionState.held.append(offset)
                return (.taken, false)
            case .joining, .live:
                partitionState.mode = .live
                partitionState.window.open(offset)
                partitionState.floor = max(partitionState.floor, offset.clampedAdding(1))
                state.queue.append(QueuedMessage(message: message, partition: partition, epoch: partitionState.epoch))
                // Too slow: park it so it stops taking memory and never holds others back.
                if state.queue.count >= state.webhook.options.maxPending { state.parkRequested = true }
                return (.taken, true)
            }
        }
        if result.wake { wake.yield() }
        return result.0
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
        state.withLock { state in
            state.stopping = true
            for partition in state.partitions.keys { state.partitions[partition]!.catchUpGeneration += 1 }
        }
        wake.finish()
        context.slots.withdraw(self)
    }

    private func startWork(in group: inout DiscardingTaskGroup) {
        enum Work {
            case send([QueuedMessage])
            case park
            case catchUp(SourcePartition, generation: Int)
            case retry
            case linger(Duration)
        }
        let work: [Work] = state.withLock { state in
            guard !state.stopping else {
                context.slots.withdraw(self)
                return []
            }
            var work: [Work] = []
            if state.parkRequested, !state.partitions.values.contains(where: { $0.mode == .parking }) {
                state.parkRequested = false
                work.append(.park)
            }
            for partition in state.catchUpsToStart where state.partitions[partition] != nil {
                work.append(.catchUp(partition, generation: state.partitions[partition]!.catchUpGeneration))
            }
            state.catchUpsToStart = []
            if state.status.status == .paused, state.status.pause == .auto, !state.retryScheduled, ownsProbe(state) {
                state.retryScheduled = true
                work.append(.retry)
            }
            guard state.status.isDelivering else {
                context.slots.withdraw(self)
                return work
            }
            let options = state.webhook.options
            let batchSize = options.batching ? options.maxBatchSize : 1
            var waitingForSlot = false
            defer { if !waitingForSlot { context.slots.withdraw(self) } }
            while state.inFlightRequests < state.site.maxInFlight, !state.queue.isEmpty {
                if options.batching, state.queue.count < batchSize, state.inFlightRequests > 0 || options.batchLinger > .zero {
                    // Wait up to batch_linger for a fuller batch.
                    let now = ContinuousClock.now
                    let started = state.lingerStarted ?? now
                    if state.lingerStarted == nil {
                        state.lingerStarted = now
                        work.append(.linger(options.batchLinger))
                    }
                    if now - started < options.batchLinger { break }
                }
                guard context.slots.tryAcquire(for: self) else {
                    waitingForSlot = true
                    break
                }
                let batch = state.queue.take(upTo: batchSize)
                guard !batch.isEmpty else {
                    context.slots.release()
                    break
                }
                state.lingerStarted = nil
                state.inFlightRequests += 1
                for item in batch { state.inFlightByPartition[item.partition, default: 0] += 1 }
                work.append(.send(batch))
            }
            return work
        }
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

    /// The probe's retry runs where its partition is assigned (DESIGN.md §8).
    func ownsProbe(_ state: State) -> Bool {
        guard let probe = state.status.probe else { return false }
        return state.partitions[SourcePartition(probe.sourceTopic, probe.partition)] != nil
    }

    // MARK: - Requests

    /// Sends one request (a message or a batch) and settles its messages.
    private func deliver(_ batch: [QueuedMessage]) async {
        let (webhook, site) = state.withLock { ($0.webhook, $0.site) }
        // The slot was taken for this request in `startWork`.
        let result = await send(batch.map(\.message), webhook: webhook, site: site, attempt: 1)
        context.slots.release()
        let acked = result.status.map { site.ackStatuses.contains($0) } ?? false
        var toSettle: [(SourcePartition, Int64, UInt64)] = []
        let effects: [WebhookState.Effect] = state.withLock { state in
            state.inFlightRequests -= 1
            if acked { state.acknowledgedMessages += batch.count }
            state.queue.finished(batch)
            var effects: [WebhookState.Effect] = []
            if !acked, state.status.isDelivering, let first = batch.first {
                // The first failure of an enabled webhook: this request becomes the probe.
                let probe = Probe(
                    sourceTopic: first.partition.topic, partition: first.partition.partition, offset: first.message.sourceOffset,
                    messageID: first.message.messageID, webhookTopic: first.message.topic.name)
                effects = transition(&state, .deliveryFailed(probe, Self.failure(result)))
                state.probeBatch = batch
                state.acknowledgedProbe = nil
                state.parkRequested = true
            }
            for item in batch {
                state.inFlightByPartition[item.partition, default: 1] -= 1
                if state.inFlightByPartition[item.partition] == 0 { state.inFlightByPartition[item.partition] = nil }
                if let settled = settleLocked(&state, item, acked: acked) { toSettle.append(settled) }
            }
            return effects
        }
        for (partition, offset, epoch) in toSettle { context.settle(partition, offset: offset, epoch: epoch) }
        if !effects.isEmpty || !acked { await afterTransition(effects) }
        resumeDrainWaiters()
        wake.yield()
    }

    /// Books a finished message. Returns the live delivery to settle in the partition's progress,
    /// if it may be settled now: acknowledged, or covered by the durable cursor
    /// (`Mode.coversUnacknowledged`); otherwise it is held until `park()` has written the cursor.
    ///
    /// A failed message stays open in the partition's window until `park()` (which every failure
    /// leads to) has taken the cursor from it: requests failing together are all kept.
    func settleLocked(_ state: inout State, _ item: QueuedMessage, acked: Bool) -> (SourcePartition, Int64, UInt64)? {
        let offset = item.message.sourceOffset
        guard var partitionState = state.partitions[item.partition] else { return nil }
        defer { state.partitions[item.partition] = partitionState }
        guard let epoch = item.epoch else {
            // Only the current catch-up's messages count: a parking reset the window and count.
            if acked, item.catchUpGeneration == partitionState.catchUpGeneration {
                partitionState.window.close(offset)
                partitionState.catchUpOutstanding -= 1
            }
            return nil
        }
        guard epoch == partitionState.epoch else { return nil }
        if acked || partitionState.mode.coversUnacknowledged(offset) {
            partitionState.window.close(offset)
            return (item.partition, offset, epoch)
        }
        partitionState.held.append(offset)
        return nil
    }

    /// One HTTP attempt, logged. `messages` is never empty (a request, or a batch, or the probe).
    func send(_ messages: [RoutedMessage], webhook: Webhook, site: Site, attempt: Int) async -> HTTPAttemptResult {
        guard let first = messages.first else { return HTTPAttemptResult(status: nil, retryAfter: nil, failure: .connection("no message to send"), latency: .zero) }
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
            logger.warning("delivery failed", metadata: metadata)
        }
        return result
    }

    static func failure(_ result: HTTPAttemptResult) -> DeliveryFailure {
        DeliveryFailure(status: result.status, retryAfter: result.retryAfter, reason: result.failureDescription)
    }

    func resumeDrainWaiters() {
        let waiters = state.withLock { state in
            defer { state.drainWaiters = [] }
            return state.drainWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
