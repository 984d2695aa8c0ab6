import Kafka
import WebhookDomain

extension WebhookLane {
    /// Parks the webhook (paused, disabled, or too slow): every partition's cursor — its lowest
    /// unsettled message, or where nothing is unsettled the point up to which everything is
    /// settled — is written durably first; only then are its dropped and held live deliveries
    /// settled, so the partitions' committed offsets can move on without it (DESIGN.md §7).
    func park() async {
        let (cursors, dropped): ([SourcePartition: Int64], [QueuedMessage]) = state.withLock { state in
            let dropped = state.queue.remove { _ in true }
            let replays = state.replays
            state.replays = [:]
            var cursors: [SourcePartition: Int64] = [:]
            for (partition, var partitionState) in state.partitions where partitionState.mode != .parked || replays[partition] != nil {
                let cursor = min(partitionState.window.low ?? partitionState.floor, replays[partition] ?? .max)
                cursors[partition] = cursor
                partitionState.mode = .parking
                partitionState.window = OffsetWindow()
                partitionState.floor = cursor
                partitionState.catchUpOutstanding = 0
                partitionState.catchUpGeneration += 1
                state.partitions[partition] = partitionState
            }
            state.lingerStarted = nil
            return (cursors, dropped)
        }
        guard await saveDurably(cursors: cursors.mapValues { Optional($0) }) else { return }
        var toSettle: [(SourcePartition, Int64, UInt64)] = []
        let resume: Bool = state.withLock { state in
            for partition in cursors.keys {
                guard var partitionState = state.partitions[partition], partitionState.mode == .parking else { continue }
                partitionState.mode = .parked
                let covered = partitionState.held.filter { partitionState.mode.coversUnacknowledged($0) }
                toSettle += covered.map { (partition, $0, partitionState.epoch) }
                partitionState.held = []
                state.partitions[partition] = partitionState
            }
            for item in dropped {
                guard let epoch = item.epoch, let partitionState = state.partitions[item.partition], epoch == partitionState.epoch,
                    partitionState.mode.coversUnacknowledged(item.message.sourceOffset)
                else { continue }
                toSettle.append((item.partition, item.message.sourceOffset, epoch))
            }
            return state.status.isDelivering
        }
        logger.info("webhook parked", metadata: ["webhook": "\(webhookID)", "cursors": "\(cursors.sorted { $0.key.description < $1.key.description })"])
        for (partition, offset, epoch) in toSettle { context.settle(partition, offset: offset, epoch: epoch) }
        // Parked for being slow while enabled: replay from the cursors at the webhook's own pace.
        if resume { scheduleCatchUps() }
        signal()
    }

    /// A replay request for a partition this instance may own: park there with the cursor moved
    /// back to `offset`, then (if delivering) catch up from it.
    public func replay(_ partition: SourcePartition, from offset: Int64) {
        let owned = state.withLock { state in
            guard state.partitions[partition] != nil else { return false }
            state.replays[partition] = offset
            // A replay delivers everything again, an acknowledged probe too.
            if state.acknowledgedProbe?.partition == partition { state.acknowledgedProbe = nil }
            state.parkRequested = true
            return true
        }
        if owned { signal() }
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
        state.withLock { state in
            state.catchUpsToStart = state.partitions.filter { $0.value.mode == .parked }.map(\.key)
        }
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
        let status = state.withLock { $0.status }
        var mode: WebhookLane.Mode = .live
        var floor = start
        if status.status == .dead {
            mode = .parked
        } else if let cursor {
            mode = .parked
            floor = cursor
        } else if !status.isDelivering {
            // Not delivering and no cursor yet: the cursor must be durable before any record of
            // the partition can be left to it.
            mode = .parked
            _ = await saveDurably(cursors: [partition: start])
        }
        state.withLock { state in
            state.partitions[partition] = PartitionState(mode: mode, epoch: epoch, floor: floor, lastOffered: start.clampedAdding(-1))
            if mode == .parked, status.isDelivering { state.catchUpsToStart.append(partition) }
        }
        signal()
    }

    /// Partitions are being given up: stop their catch-ups, drop their queued messages, wait for
    /// their in-flight requests, and leave a catch-up's progress in the cursor.
    public func revoke(_ partitions: Set<SourcePartition>) async {
        let cursors: [SourcePartition: Int64?] = state.withLock { state in
            _ = state.queue.remove { partitions.contains($0.partition) }
            var cursors: [SourcePartition: Int64?] = [:]
            for partition in partitions {
                guard var partitionState = state.partitions[partition] else { continue }
                partitionState.catchUpGeneration += 1
                switch partitionState.mode {
                case .catchingUp, .joining:
                    cursors[partition] = partitionState.window.low ?? partitionState.floor
                case .live where partitionState.catchUpOutstanding > 0:
                    cursors[partition] = partitionState.window.low ?? partitionState.floor
                default: break
                }
                state.partitions[partition] = partitionState
            }
            return cursors
        }
        while state.withLock({ state in partitions.contains { state.inFlightByPartition[$0] != nil } }) {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if partitions.contains(where: { state.inFlightByPartition[$0] != nil }) {
                        state.drainWaiters.append(continuation)
                        return false
                    }
                    return true
                }
                if resumeNow { continuation.resume() }
            }
        }
        _ = await saveDurably(cursors: cursors)
        state.withLock { state in
            for partition in partitions { state.partitions[partition] = nil }
        }
    }
}

extension WebhookLane {
    /// A lane made while partitions are already assigned: it takes records from the dispatcher's
    /// current positions. Not delivering, it is parked there (the cursor is written first; records
    /// are held meanwhile).
    func assignRunning(_ partitions: [(SourcePartition, next: Int64, epoch: UInt64)]) {
        state.withLock { state in
            let delivering = state.status.isDelivering && state.status.status != .dead
            for (partition, next, epoch) in partitions {
                state.partitions[partition] = PartitionState(mode: delivering ? .live : .parking, epoch: epoch, floor: next, lastOffered: next.clampedAdding(-1))
            }
            if !delivering, state.status.status != .dead, !partitions.isEmpty { state.parkRequested = true }
            if state.status.status == .dead { for partition in state.partitions.keys { state.partitions[partition]!.mode = .parked } }
        }
        signal()
    }

    /// The webhook's definition or its site's settings changed. Requests in flight keep the old
    /// definition; the next ones use the new.
    func update(webhook: Webhook, site: Site) {
        state.withLock { state in
            state.webhook = webhook
            state.site = site
        }
        signal()
    }

    /// The webhook was deleted: nothing is kept for it, like a dead one. Its queued and held live
    /// deliveries are settled at once, in-flight ones when they end, and the lane stops.
    func retire() {
        let toSettle: [(SourcePartition, Int64, UInt64)] = state.withLock { state in
            var toSettle: [(SourcePartition, Int64, UInt64)] = []
            for item in state.queue.remove(where: { _ in true }) {
                if let epoch = item.epoch { toSettle.append((item.partition, item.message.sourceOffset, epoch)) }
            }
            for (partition, var partitionState) in state.partitions {
                toSettle += partitionState.held.map { (partition, $0, partitionState.epoch) }
                partitionState.held = []
                partitionState.mode = .parked
                partitionState.catchUpGeneration += 1
                state.partitions[partition] = partitionState
            }
            state.status.status = .dead
            return toSettle.filter { state.partitions[$0.0]?.epoch == $0.2 }
        }
        for (partition, offset, epoch) in toSettle { context.settle(partition, offset: offset, epoch: epoch) }
        stop()
    }
}
