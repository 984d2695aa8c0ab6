import Logging
import WebhookDomain

extension WebhookLane.StateMachine {
    /// The site's settings a push-back depends on (`DeliveryPace.notAcknowledged`).
    var pacePolicy: DeliveryPace.Policy {
        DeliveryPace.Policy(
            maxInFlight: site.maxInFlight, longestHold: site.retryIntervals.max() ?? .zero, slowdownsUntilFailure: site.retriesUntilFailure)
    }

    /// A request the pace slowed (`DeliveryPace`): no attempt is held against the webhook. Its
    /// messages go back to the head of their lines, in order, and are sent again when the hold
    /// is over. Those whose partition changed meanwhile are not: a revoked partition's are
    /// delivered by whoever reads it next (as a cut-short request's); after a parking, the
    /// parking's cursor (written at or below them, their offsets being open) covers them, so a
    /// live one is settled once that cursor is durable. Returns the deliveries to settle now.
    mutating func requestSlowed(_ batch: [QueuedMessage]) -> [WebhookLane.Settlement] {
        var putBack: [QueuedMessage] = []
        var settle: [WebhookLane.Settlement] = []
        for item in batch {
            leftFlight(item.partition)
            guard !stopping, !revoking.contains(item.partition), var partitionState = partitions[item.partition] else { continue }
            if item.generation == partitionState.catchUpGeneration {
                putBack.append(item)
            } else if let epoch = item.epoch, epoch == partitionState.epoch {
                if partitionState.mode == .parking {
                    partitionState.held.append(item.message.sourceOffset)
                    partitions[item.partition] = partitionState
                } else {
                    settle.append(.init(partition: item.partition, offset: item.message.sourceOffset, epoch: epoch))
                }
            }
        }
        queue.putBack(putBack)
        queue.finished(batch)
        return settle
    }
}

extension WebhookLane {
    /// A push-back that slowed the webhook instead of failing it (its attempt was logged as failed).
    func logSlowed(_ result: HTTPAttemptResult, messages: Int) {
        let (limit, holdUntil) = state.withLock { ($0.pace.window(maxInFlight: $0.site.maxInFlight), $0.pace.holdUntil) }
        var metadata: Logger.Metadata = [
            "webhook": "\(webhookID)", "status": "\(result.status.map { "\($0)" } ?? result.outcomeLabel)", "messages": "\(messages)",
            "concurrency_limit": "\(limit)",
        ]
        if let holdUntil, holdUntil > .now { metadata["hold_ms"] = "\((holdUntil - .now).milliseconds)" }
        logger.info("delivery slowed: the receiver pushed back; its messages are sent again, the webhook stays enabled", metadata: metadata)
    }
}
