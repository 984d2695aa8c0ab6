import Kafka
import WebhookDomain

extension WebhookLane {
    /// Parks the webhook (paused, disabled, or too slow): every partition's cursor is written
    /// durably first; only then are its dropped and held live deliveries settled, so the
    /// partitions' committed offsets can move on without it (DESIGN.md §7).
    func park() async {
        let (cursors, dropped) = state.withLock { $0.beginParking() }
        guard await saveDurably(cursors: cursors.mapValues { Optional($0) }) else { return }
        let settle = state.withLock { $0.cursorsDurable(cursors, dropped: dropped) }
        logger.info("webhook parked", metadata: ["webhook": "\(webhookID)", "cursors": "\(cursors.sorted { $0.key.description < $1.key.description })"])
        settleInProgress(settle)
        signal()
    }

    /// A replay request for a partition this instance may own: park there with the cursor moved
    /// back to `offset`, then (if delivering) catch up from it.
    public func replay(_ partition: SourcePartition, from offset: Int64) {
        if state.withLock({ $0.replayRequested(partition, from: offset) }) { signal() }
    }

    /// Writes cursors until the store has them; gives up only when the lane stops (then nothing
    /// is settled and the offsets stay uncommitted).
    func saveDurably(cursors: [SourcePartition: Int64?]) async -> Bool {
        guard !cursors.isEmpty else { return true }
        while true {
            do {
                try await context.store.save(cursors: cursors, webhookID: webhookID)
                return true
            } catch {
                logger.error("cursor write failed; trying again", metadata: ["webhook": "\(webhookID)", "error": "\(error)"])
                if state.withLock({ $0.stopping }) { return false }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Starts catch-up readers for every parked partition (the webhook delivers again).
    func scheduleCatchUps() {
        state.withLock { $0.scheduleCatchUps() }
        signal()
    }

    /// A partition was assigned, starting at `start`: decides how it reaches this webhook before
    /// any of its records is dispatched.
    public func assign(_ partition: SourcePartition, start: Int64, epoch: UInt64) async {
        let cursor: Int64?
        do { cursor = try await context.store.cursors(webhookID: webhookID)[partition] } catch {
            logger.error("cursor read failed", metadata: ["webhook": "\(webhookID)", "error": "\(error)"])
            cursor = nil
        }
        if let write = state.withLock({ $0.assigned(partition, start: start, epoch: epoch, cursor: cursor) }) {
            // Not delivering and no cursor yet: the cursor is durable before the dispatcher can
            // leave any record of the partition to it (this returns first).
            _ = await saveDurably(cursors: [partition: write])
        }
        signal()
    }

    /// Partitions are being given up: stop their catch-ups, drop their queued messages, wait for
    /// their in-flight requests (cut short after a grace), and leave a catch-up's progress in
    /// the cursor.
    public func revoke(_ partitions: Set<SourcePartition>) async {
        let (cursors, grace) = state.withLock { ($0.revoked(partitions), min($0.site.ackTimeout, Self.requestGrace)) }
        await endRequests(of: partitions, after: grace) { !$0.hasRequestsInFlight(partitions) }
        _ = await saveDurably(cursors: cursors)
        state.withLock { $0.revocationFinished(partitions) }
        inFlight.withLock { $0.forget(partitions) }
    }
}

extension WebhookLane {
    /// A lane made while partitions are already assigned: it takes records from the dispatcher's
    /// current positions. Not delivering, it is parked there (the cursor is written first; records
    /// are held meanwhile).
    func assignRunning(_ partitions: [(SourcePartition, next: Int64, epoch: UInt64)]) {
        state.withLock { $0.assignedRunning(partitions) }
        signal()
    }

    /// The webhook's definition or its site's settings changed. Requests in flight keep the old
    /// definition; the next ones use the new.
    func update(webhook: Webhook, site: SharedSite) {
        state.withLock { state in
            state.webhook = webhook
            state.share(site)
            state.pace.configure(webhook.options)
        }
        signal()
    }

    /// Live records this webhook holds unsettled that a parking would free.
    var parkableRecords: Int { state.withLock { $0.parkableRecords } }

    /// Parks the webhook to free the engine's memory (it holds the most unsettled records);
    /// false if that frees nothing.
    func parkToFreeMemory() -> Bool {
        let parking = state.withLock { $0.parkToFreeMemory() }
        if parking { signal() }
        return parking
    }

    /// The webhook was deleted: nothing is kept for it, like a dead one. Its queued and held live
    /// deliveries are settled at once, in-flight ones when they end, and the lane stops.
    func retire() {
        settleInProgress(state.withLock { $0.retire() })
        series.destroy()
        stop()
    }
}
