import Synchronization
import Foundation
import Kafka
import Logging
import Waiting
import WebhookDomain

/// Delivers one webhook's messages (DESIGN.md §5–§7): per-entity order, at most `max_in_flight`
/// requests, batching, the status and retry state machine, parking and catch-up.
///
/// The decisions are `StateMachine`'s, a value kept under the lane's lock; this class executes
/// what it returns. The dispatcher hands records over with `offer`, synchronously and under the
/// lock, so that whether a record goes to this webhook live, is held, or is left to the
/// webhook's cursor is decided atomically with parking and with the catch-up's hand-back.
/// `run()` owns every task of the lane (requests, parking, catch-up, probe retries) in one task
/// group, and runs only while the lane has work (`Runner`): an idle lane holds no task.
public final class WebhookLane: RequestSlots.Waiter {
    public let webhookID: String
    let context: DeliveryContext
    let state: Waitable<StateMachine>
    /// Requests in flight, and which of them are cut short.
    let inFlight = Mutex(InFlightRequests())
    /// The Kafka client of this webhook's catch-ups.
    let catchUpReader = CatchUpReader()
    /// Its metric series, destroyed when it is retired.
    let series: WebhookSeries

    /// `status`: the stored one; nil when none is stored yet, for the webhook's initial status
    /// from now on.
    public convenience init(webhook: Webhook, site: Site, status: WebhookState?, context: DeliveryContext) {
        self.init(webhook: webhook, site: SharedSite(site), status: status, context: context)
    }

    init(webhook: Webhook, site: SharedSite, status: WebhookState?, context: DeliveryContext) {
        webhookID = webhook.id
        self.context = context
        series = context.metrics.series(webhookID: webhook.id)
        let status = status ?? WebhookState(status: webhook.status, since: context.now())
        state = Waitable(StateMachine(webhook: webhook, site: site, status: status))
    }

    var logger: Logger { context.logger }

    /// The webhook's current status and retry state.
    public var status: WebhookState { state.withLock { $0.status } }
    public var webhook: Webhook { state.withLock { $0.webhook } }

    /// Messages waiting in memory for this webhook.
    public var queuedCount: Int { state.withLock { $0.queue.count } }

    /// Something changed that may give the lane work: the active runner looks again, or, with
    /// none active and work to do, one is started (`DeliveryContext.startRunner`). Also how
    /// `RequestSlots` says a slot was reserved: a lane with nothing to send passes it on.
    func signal() {
        wake(state.withLock { wake(&$0) })
    }

    /// The state machine's wake, with a request slot reserved for a runner that would only
    /// start requests. Called under the lane's lock.
    private func wake(_ state: inout StateMachine) -> Wake {
        state.wake(reserveSlot: { context.slots.reserve(for: self) })
    }

    private func wake(_ wake: Wake) {
        switch wake {
        case .startRunner: context.startRunner(self)
        case .runnerLooks, .waitsForSlot: break
        case .idle: context.slots.withdraw(self)
        }
    }

    /// Whether a runner is active.
    var hasRunner: Bool { state.withLock { $0.runner.active } }

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
        let (result, wake) = state.withLock { state in
            let (result, wake) = state.offer(message, partition: partition)
            return (result, wake ? self.wake(&state) : nil)
        }
        if let wake { self.wake(wake) }
        return result
    }

    // MARK: - Running

    /// The longest a revocation or a shutdown waits for requests in flight (less if the site's
    /// `ack_timeout` is shorter) before it cuts them short.
    static let requestGrace = Duration.seconds(5)

    /// Runs the lane's work until it has none: started by a wake that finds the lane idle
    /// (`signal()`), it starts what `StateMachine.nextWork` returns, and ends once every task it
    /// started has ended and nothing woke it since it last looked. After `stop()` it starts
    /// nothing new; requests in flight get their grace and are cut short after it.
    public func run() async {
        await withDiscardingTaskGroup { group in
            // Nil: the task was cancelled (the engine is shutting down past its timeout). The
            // runner stays marked active, so that no second one starts beside its tasks.
            while await state.wait(for: { $0.runnerStep() }) == .look {
                startWork(in: &group)
            }
        }
    }

    /// Starts no new request, parking or catch-up; in-flight requests finish. A lane without a
    /// runner has nothing in flight: it is stopped at once.
    public func stop() {
        wake(state.withLock { state in
            state.stop()
            return wake(&state)
        })
        context.slots.withdraw(self)
    }

    private func startWork(in group: inout DiscardingTaskGroup) {
        if let grace = state.withLock({ $0.startGrace() }) {
            group.addTask {
                await self.endRequests(of: nil, after: grace) { $0.inFlightRequests == 0 && !$0.retryScheduled }
                self.taskEnded()
            }
            return
        }
        let (work, needsSlot) = state.withLock { state in
            let next = state.nextWork(
                now: .now, nowMilliseconds: context.now(), takeSlot: { context.slots.tryAcquire(for: self) }, releaseSlot: { context.slots.release(for: self) })
            state.runner.tasks += next.work.count
            return next
        }
        if !needsSlot { context.slots.withdraw(self) }
        for item in work {
            group.addTask {
                await self.perform(item)
                self.taskEnded()
            }
        }
    }

    private func perform(_ work: Work) async {
        switch work {
        case .send(let batch): await deliver(batch)
        case .park: await park()
        case .catchUp(let partition, let generation): await catchUp(partition, generation: generation)
        case .retry: await retryProbe()
        case .wake(let duration):
            // A timer that a stop ends early, so it never holds the lane's shutdown.
            await state.wait(until: { $0.stopping }, timeout: duration)
            signal()
        }
    }

    /// A task the runner started ended (after any wake it gave): the runner may end.
    private func taskEnded() { state.withLock { $0.runner.tasks -= 1 } }

    // MARK: - Requests

    /// Sends one request (a message or a batch) and settles its messages.
    private func deliver(_ batch: [QueuedMessage]) async {
        let (webhook, site) = state.withLock { ($0.webhook, $0.site) }
        // The slot was taken for this request in `startWork`.
        let sent = await send(batch.map(\.message), webhook: webhook, site: site, attempt: 1, partitions: Set(batch.map(\.partition)))
        context.slots.release(for: self)
        guard let result = sent else {
            let abandoned = inFlight.withLock { $0.abandoned }
            state.withLock { $0.requestAbandoned(batch, abandoned: abandoned) }
            signal()
            return
        }
        let acked = result.status.map { site.ackStatuses.contains($0) } ?? false
        let (settle, effects) = state.withLock {
            $0.requestFinished(
                batch, failure: acked ? nil : Self.failure(result), timedOut: result.failure == .timeout, latency: result.latency, now: context.now())
        }
        settleInProgress(settle)
        if let effects {
            await afterTransition(effects)
        } else if !acked {
            logSlowed(result, messages: batch.count)
        }
        signal()
    }

    func settleInProgress(_ settlements: [Settlement]) {
        for settlement in settlements { context.settle(settlement.partition, offset: settlement.offset, epoch: settlement.epoch) }
    }

    /// One HTTP attempt, logged. `messages` is never empty (a request, or a batch, or the probe).
    /// Nil when it was cut short (`partitions`, the messages' source partitions, were revoked or
    /// the lane stopped): no attempt is counted, and the messages are delivered again.
    func send(_ messages: [RoutedMessage], webhook: Webhook, site: Site, attempt: Int, partitions: Set<SourcePartition>) async -> HTTPAttemptResult? {
        guard let first = messages.first else { return HTTPAttemptResult(status: nil, retryAfter: nil, failure: .connection(.connectionError, detail: "no message to send"), latency: .zero) }
        let timestamp = context.now() / 1000
        // With tracing, the attempt's span starts first so that the request carries its context
        // (the record's trace, this attempt as the parent); without, nothing is made here.
        let span = context.tracing?.start(messages, webhook: webhook, attempt: attempt)
        let trace = span.map(\.traceContext) ?? first.traceContext
        let request =
            webhook.options.batching
            ? WebhookRequest.batch(messages, to: webhook, timestamp: timestamp, traceContext: trace)
            : WebhookRequest.single(first, to: webhook, timestamp: timestamp, traceContext: trace)
        let (id, abort) = inFlight.withLock { $0.add(partitions) }
        let result = await context.client.send(request, to: ReceiverConnection(webhook: webhook, site: site), timeout: site.ackTimeout, abort: abort)
        inFlight.withLock { $0.remove(id) }
        // Cancelled (the service group's shutdown_timeout passed) counts as cut short too.
        guard !abort.isAborted, !Task.isCancelled else {
            // The request may have reached the receiver, with the span as its parent: kept.
            span?.end(request, status: nil, outcome: "cut_short", failure: "cut short")
            logger.info(
                "request cut short: its partitions were revoked or the bridge is stopping; delivered again later",
                metadata: ["webhook": "\(webhookID)", "messages": "\(messages.count)", "topic": "\(first.topic.name)"])
            return nil
        }
        let acked = result.status.map { site.ackStatuses.contains($0) } ?? false
        let outcome = acked ? "acked" : result.outcomeLabel
        context.attempts?.record(messages, request: request, webhookID: webhookID, attempt: attempt, result: result, acked: acked)
        span?.end(request, status: result.status, outcome: outcome, failure: acked ? nil : result.failureDescription)
        series.attempt(outcome: outcome, latency: result.latency, messages: messages.count)
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

    /// Waits until `done` holds (no request of `partitions` in flight, or of any when nil), for
    /// at most `grace`; then cuts those requests short and waits for them to end.
    func endRequests(of partitions: Set<SourcePartition>?, after grace: Duration, done: @escaping @Sendable (StateMachine) -> Bool) async {
        if await state.wait(until: done, timeout: grace) { return }
        for request in inFlight.withLock({ $0.abandon(partitions) }) { request.abort() }
        await state.wait(until: done)
    }
}

/// Which requests a lane cuts short.
struct AbandonedRequests: Sendable {
    var partitions: Set<SourcePartition> = []
    var all = false

    func covers(_ requestPartitions: Set<SourcePartition>) -> Bool { all || !partitions.isDisjoint(with: requestPartitions) }
}
