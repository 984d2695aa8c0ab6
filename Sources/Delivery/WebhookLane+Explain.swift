import WebhookDomain

/// How one instance's lane of a webhook stands towards one record of a partition it holds
/// (`/explain`): read from the lane's state under its lock, so it is one consistent moment.
public struct LaneView: Sendable, Equatable {
    /// How the partition reaches the webhook (`WebhookLane.Mode`).
    public enum Mode: String, Sendable {
        case live, parking, parked
        case catchingUp = "catching_up"
        case joining
    }

    /// Where the record is for this webhook.
    public enum Standing: String, Sendable {
        /// Waiting in the lane's queue.
        case queued
        /// Taken by a request that has not ended.
        case inFlight = "in_flight"
        /// Held while the webhook's cursor is being written (a failed delivery, or a parking).
        case held
        /// At or after the webhook's cursor (or where its catch-up reader stands): not sent yet.
        case atOrAfterCursor = "at_or_after_cursor"
        /// The consumer here has not offered it to the webhook yet.
        case notRead = "not_read"
        /// Behind the lane: acknowledged. Nothing below the lane's position is left open but what
        /// is queued, in flight or held, and what a durable cursor covers is `atOrAfterCursor`.
        case settled
    }

    public var mode: Mode
    public var standing: Standing
    /// The lowest offset of the partition the webhook still needs here: what a parking would
    /// write as its cursor.
    public var position: Int64
}

extension WebhookLane {
    /// The webhook, its status, and how the lane stands towards the record at `offset` of
    /// `partition` (nil when this instance does not hold the partition, or is giving it up), all
    /// of one moment.
    public func snapshot(of partition: SourcePartition, offset: Int64) -> (webhook: Webhook, status: WebhookState, view: LaneView?) {
        state.withLock { ($0.webhook, $0.status, $0.view(of: partition, offset: offset)) }
    }
}

extension WebhookLane.StateMachine {
    func view(of partition: SourcePartition, offset: Int64) -> LaneView? {
        guard let partitionState = partitions[partition], !revoking.contains(partition) else { return nil }
        let mode: LaneView.Mode
        switch partitionState.mode {
        case .live: mode = .live
        case .parking: mode = .parking
        case .parked: mode = .parked
        case .catchingUp: mode = .catchingUp
        case .joining: mode = .joining
        }
        let standing: LaneView.Standing
        if partitionState.held.contains(offset) {
            standing = .held
        } else if partitionState.window.isOpen(offset) {
            standing = queue.contains { $0.partition == partition && $0.message.sourceOffset == offset } ? .queued : .inFlight
        } else if [.parking, .parked, .catchingUp].contains(mode) {
            // The cursor (or the catch-up reader, which has queued what it read) is at `floor`.
            standing = offset >= partitionState.floor ? .atOrAfterCursor : .settled
        } else {
            standing = offset > partitionState.lastOffered ? .notRead : .settled
        }
        let position = min(partitionState.window.low ?? partitionState.floor, partitionState.floor, partitionState.held.min() ?? .max)
        return LaneView(mode: mode, standing: standing, position: position)
    }
}
