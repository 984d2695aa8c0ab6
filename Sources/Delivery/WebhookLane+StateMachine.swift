import WebhookDomain

/// A site's settings, shared by the lanes of its webhooks (`DeliveryEngine` makes one per site).
final class SharedSite: Sendable {
    let site: Site

    init(_ site: Site) { self.site = site }
}

extension WebhookLane {
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

    struct PartitionState: Equatable {
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

    /// A live delivery that may now be settled in its partition's progress (the commit
    /// invariant allows it: acknowledged, or covered by the durable cursor).
    struct Settlement: Equatable, Sendable {
        var partition: SourcePartition
        var offset: Int64
        var epoch: UInt64
    }

    /// What `WebhookLane.run()` starts next (`StateMachine.hasWork` says whether there is any).
    enum Work {
        /// One request (a message or a batch); its process-wide slot is taken.
        case send([QueuedMessage])
        /// Park: write the cursors of `beginParking()`, then report `cursorsDurable`.
        case park
        /// Read a parked partition from its cursor.
        case catchUp(SourcePartition, generation: Int)
        /// Retry the probe on the site's schedule (this instance owns its partition).
        case retry
        /// Look again after this long: a batch waited `batch_linger` for more messages, or a
        /// queued message's notification delay has passed.
        case wake(after: Duration)
    }

    /// The lane's logic as a value (DESIGN.md §5–§7), after AsyncHTTPClient's connection-pool
    /// state machine: each event is a mutating method that returns what to do, with the time
    /// and the process-wide request slots passed in, and no I/O inside. `WebhookLane` keeps it
    /// under a lock and executes what it returns: requests, cursor and status writes,
    /// settlements in the partitions' progress, catch-up readers, probe retries and alerts.
    struct StateMachine {
        var webhook: Webhook
        /// The site's settings: one object shared by the site's lanes (inline, 336 bytes a lane).
        private var sharedSite: SharedSite
        var site: Site { sharedSite.site }
        var status: WebhookState
        var queue = DeliveryQueue()
        var inFlightRequests = 0
        /// Messages acknowledged by this instance since it started (for `/status` and the bench).
        var acknowledgedMessages = 0
        /// Messages the webhook's filter kept from it since the start (they settle at once).
        var filteredMessages = 0
        var inFlightByPartition: [SourcePartition: Int] = [:]
        var partitions = PartitionStates()
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
        /// When a wake is due for a message waiting for its notification delay (milliseconds
        /// since the epoch), if one is scheduled.
        var dueWakeAt: Int64?
        /// Partitions being given up: revoked, with requests still in flight.
        var revoking: Set<SourcePartition> = []
        var stopping = false
        /// Its concurrency limit, rate limit and `Retry-After` hold (`options.rate_limit`,
        /// `options.adaptive`, the slow start after a pause).
        var pace: DeliveryPace
        /// When the wake for the pace (a hold or the next token) is due, if one is scheduled.
        var paceWakeAt: ContinuousClock.Instant?
        /// Whether a task runs the lane's work now, and what it has under way.
        var runner = WebhookLane.Runner()

        init(webhook: Webhook, site: SharedSite, status: WebhookState) {
            self.webhook = webhook
            sharedSite = site
            self.status = status
            pace = DeliveryPace(webhook.options)
        }

        init(webhook: Webhook, site: Site, status: WebhookState) {
            self.init(webhook: webhook, site: SharedSite(site), status: status)
        }

        /// Takes the site's settings as the engine shares them among its lanes.
        mutating func share(_ site: SharedSite) { sharedSite = site }

        // MARK: - Live records

        /// A message routed to this webhook from a record the live consumer read. `wake`: there is
        /// new work for `run()`.
        mutating func offer(_ message: RoutedMessage, partition: SourcePartition) -> (result: OfferResult, wake: Bool) {
            // Taken out while it changes, so that its window is not copied (copy-on-write).
            guard var partitionState = partitions.removeValue(forKey: partition) else { return (.settledNow, false) }
            defer { partitions[partition] = partitionState }
            let offset = message.sourceOffset
            partitionState.lastOffered = max(partitionState.lastOffered, offset)
            if partitionState.mode.coversUnacknowledged(offset) { return (.settledNow, false) }
            if !passesFilter(message) { return (.settledNow, false) }
            switch partitionState.mode {
            case .parking, .parked, .catchingUp:
                partitionState.held.append(offset)
                return (.taken, false)
            case .joining, .live:
                partitionState.mode = .live
                partitionState.window.open(offset)
                partitionState.floor = max(partitionState.floor, offset.clampedAdding(1))
                queue.append(QueuedMessage(message: message, partition: partition, epoch: partitionState.epoch, generation: partitionState.catchUpGeneration))
                // Too slow for its live records: park it so it stops taking memory and never
                // holds others back. What catch-ups read counts apart (they read only as much as
                // the window has room for): a window filled by catch-ups is the webhook catching
                // up, not falling behind, and parking it there again restarted its catch-ups
                // over and over while records kept coming (docs/benchmarks.md, latency).
                if queue.count - queue.catchUpCount >= webhook.options.maxPending { parkRequested = true }
                return (.taken, true)
            }
        }

        /// A message of `partition` is no longer in flight. With none left the map's storage
        /// goes: an idle lane keeps none.
        mutating func leftFlight(_ partition: SourcePartition) {
            inFlightByPartition[partition, default: 1] -= 1
            if inFlightByPartition[partition] == 0 { inFlightByPartition[partition] = nil }
            if inFlightByPartition.isEmpty { inFlightByPartition = [:] }
        }

        /// Whether the webhook's filter lets the message through; a message it keeps is counted.
        mutating func passesFilter(_ message: RoutedMessage) -> Bool {
            guard let filter = webhook.filter, !filter.matches(message.payload) else { return true }
            filteredMessages += 1
            return false
        }

        /// What to start now. `takeSlot` takes a process-wide request slot (false: none free, the
        /// lane waits in line); `releaseSlot` gives back one taken but not used. `needsSlot`: the
        /// lane is waiting in line for a slot. `nowMilliseconds` (wall clock) decides which
        /// messages are due; one that is not waits in the queue, holding no slot.
        mutating func nextWork(
            now: ContinuousClock.Instant, nowMilliseconds: Int64 = .max, takeSlot: () -> Bool, releaseSlot: () -> Void
        ) -> (work: [Work], needsSlot: Bool) {
            guard !stopping else { return ([], false) }
            var work: [Work] = []
            // No request starts while a parking is asked for or under way: the queue is about to
            // be dropped, and a failed message held for the cursor must not be overtaken by its
            // entity's next one (an enable can come before the parking that covers it).
            let parking = parkRequested
            if parkRequested, !partitions.values.contains(where: { $0.mode == .parking }) {
                parkRequested = false
                work.append(.park)
            }
            for partition in catchUpsToStart {
                if let partitionState = partitions[partition] { work.append(.catchUp(partition, generation: partitionState.catchUpGeneration)) }
            }
            catchUpsToStart = []
            if probeRetryDue {
                retryScheduled = true
                work.append(.retry)
            }
            guard status.isDelivering, !parking else { return (work, false) }
            if let due = dueWakeAt, due <= nowMilliseconds { dueWakeAt = nil }
            let options = webhook.options
            let batchSize = options.batching ? options.maxBatchSize : 1
            let window = pace.window(maxInFlight: site.maxInFlight)
            while inFlightRequests < window, !queue.isEmpty {
                if options.batching, queue.count < batchSize, inFlightRequests > 0 || options.batchLinger > .zero {
                    // Wait up to batch_linger for a fuller batch.
                    let started = lingerStarted ?? now
                    if lingerStarted == nil {
                        lingerStarted = now
                        work.append(.wake(after: options.batchLinger))
                    }
                    if now - started < options.batchLinger { break }
                }
                // A `Retry-After` hold, or no token yet: look again when it is over.
                let wait = pace.wait(now: now)
                if wait > .zero {
                    if paceWakeAt.map({ $0 <= now || now + wait < $0 }) ?? true {
                        paceWakeAt = now + wait
                        work.append(.wake(after: wait))
                    }
                    break
                }
                guard takeSlot() else { return (work, true) }
                let (batch, nextDue) = queue.take(upTo: batchSize, dueBy: nowMilliseconds)
                if let nextDue, nextDue < dueWakeAt ?? .max {
                    dueWakeAt = nextDue
                    work.append(.wake(after: .milliseconds(min(nextDue.clampedSubtracting(nowMilliseconds), 86_400_000))))
                }
                guard !batch.isEmpty else {
                    releaseSlot()
                    break
                }
                lingerStarted = nil
                pace.started(now: now)
                inFlightRequests += 1
                for item in batch { inFlightByPartition[item.partition, default: 0] += 1 }
                work.append(.send(batch))
            }
            return (work, false)
        }

        /// Live records this webhook holds unsettled that a parking would free (queued and
        /// held), or 0 while a parking is asked for or under way.
        var parkableRecords: Int {
            guard !parkRequested, !partitions.values.contains(where: { $0.mode == .parking }) else { return 0 }
            return queue.count - queue.catchUpCount + partitions.values.reduce(0) { $0 + $1.held.count }
        }

        /// The engine holds too many unsettled records and this webhook the most of them: it is
        /// parked like a slow one, and catches up from its cursors. False if that frees nothing.
        mutating func parkToFreeMemory() -> Bool {
            guard parkableRecords > 0 else { return false }
            parkRequested = true
            return true
        }

        /// The probe's retry runs where its partition is assigned (DESIGN.md §8).
        var ownsProbe: Bool {
            guard let probe = status.probe else { return false }
            let partition = SourcePartition(probe.sourceTopic, probe.partition)
            return partitions[partition] != nil && !revoking.contains(partition)
        }

        /// A request ended (`failure` nil when acknowledged; `timedOut`, `latency` for the pace).
        /// Returns the live deliveries to settle now and, if the status changed, the transition's
        /// effects (the first failure of an enabled webhook makes the request the probe and parks
        /// the webhook). A request the pace slows (`DeliveryPace`) changes no status: nil effects.
        mutating func requestFinished(
            _ batch: [QueuedMessage], failure: DeliveryFailure?, timedOut: Bool = false, latency: Duration = .zero,
            at instant: ContinuousClock.Instant = .now, now: Int64
        ) -> (settle: [Settlement], effects: [WebhookState.Effect]?) {
            let acked = failure == nil
            let inUse = inFlightRequests >= pace.window(maxInFlight: site.maxInFlight)
            inFlightRequests -= 1
            if acked {
                acknowledgedMessages += batch.count
                pace.acknowledged(latency: latency, inUse: inUse, maxInFlight: site.maxInFlight, now: instant)
            } else if let failure, status.isDelivering, pace.shapes,
                pace.notAcknowledged(
                    status: failure.status, retryAfter: failure.retryAfter, timedOut: timedOut, inFlight: inFlightRequests, policy: pacePolicy, now: instant)
                    == .slowed
            {
                return (requestSlowed(batch), nil)
            }
            queue.finished(batch)
            var effects: [WebhookState.Effect]?
            if let failure, status.isDelivering, let first = batch.first {
                let probe = Probe(
                    sourceTopic: first.partition.topic, partition: first.partition.partition, offset: first.message.sourceOffset,
                    messageID: first.message.messageID, webhookTopic: first.message.topic.name)
                effects = transition(.deliveryFailed(probe, failure), now: now)
                probeBatch = batch
                acknowledgedProbe = nil
                parkRequested = true
            } else if !acked {
                effects = []
            }
            var settle: [Settlement] = []
            for item in batch {
                leftFlight(item.partition)
                if let settled = book(item, acked: acked) { settle.append(settled) }
            }
            return (settle, effects)
        }

        /// A request was cut short (its partitions revoked, or the lane stopping): nothing is
        /// settled or counted against the webhook. Messages of partitions still held go back to
        /// the head of their lines; the others are delivered by whoever reads them next.
        mutating func requestAbandoned(_ batch: [QueuedMessage], abandoned: AbandonedRequests) {
            inFlightRequests -= 1
            for item in batch {
                leftFlight(item.partition)
            }
            if !abandoned.all, !stopping { queue.putBack(batch.filter { !abandoned.partitions.contains($0.partition) }) }
            queue.finished(batch)
        }

        /// Books a finished message. Returns the live delivery to settle in the partition's
        /// progress, if it may be settled now: acknowledged, or covered by the durable cursor
        /// (`Mode.coversUnacknowledged`); otherwise it is held until the parking has written the
        /// cursor.
        ///
        /// A failed message stays open in the partition's window until the parking (which every
        /// failure leads to) has taken the cursor from it: requests failing together are all kept.
        private mutating func book(_ item: QueuedMessage, acked: Bool) -> Settlement? {
            let offset = item.message.sourceOffset
            guard var partitionState = partitions.removeValue(forKey: item.partition) else { return nil }
            defer { partitions[item.partition] = partitionState }
            // Only the current generation's messages count in the window: a parking reset it (and
            // a catch-up of the new generation may have opened the same offset again).
            let current = item.generation == partitionState.catchUpGeneration
            guard let epoch = item.epoch else {
                if acked, current {
                    partitionState.window.close(offset)
                    partitionState.catchUpOutstanding -= 1
                }
                return nil
            }
            guard epoch == partitionState.epoch else { return nil }
            if acked || partitionState.mode.coversUnacknowledged(offset) {
                if current { partitionState.window.close(offset) }
                return Settlement(partition: item.partition, offset: offset, epoch: epoch)
            }
            partitionState.held.append(offset)
            return nil
        }

        // MARK: - Parking

        /// Parking starts (paused, disabled, or too slow): every partition not yet parked (or
        /// with a replay request) gets its cursor — its lowest unsettled message, or where
        /// nothing is unsettled the point up to which everything is settled — and holds its live
        /// records until `cursorsDurable`. Returns the cursors to write and the queued messages
        /// dropped (settled once the cursors are durable).
        mutating func beginParking() -> (cursors: [SourcePartition: Int64], dropped: [QueuedMessage]) {
            let dropped = queue.remove { _ in true }
            let replays = self.replays
            self.replays = [:]
            var cursors: [SourcePartition: Int64] = [:]
            for (partition, var partitionState) in partitions where partitionState.mode != .parked || replays[partition] != nil {
                let cursor = min(partitionState.window.low ?? partitionState.floor, replays[partition] ?? .max)
                cursors[partition] = cursor
                partitionState.mode = .parking
                partitionState.window = OffsetWindow()
                partitionState.floor = cursor
                partitionState.catchUpOutstanding = 0
                partitionState.catchUpGeneration += 1
                partitions[partition] = partitionState
            }
            lingerStarted = nil
            return (cursors, dropped)
        }

        /// The parking's cursors are durable: returns its held and dropped live deliveries, to
        /// settle now. A webhook that still delivers (it was parked for being slow) catches up
        /// from the cursors at its own pace.
        mutating func cursorsDurable(_ cursors: [SourcePartition: Int64], dropped: [QueuedMessage]) -> [Settlement] {
            var settle: [Settlement] = []
            for partition in cursors.keys {
                guard var partitionState = partitions[partition], partitionState.mode == .parking else { continue }
                partitionState.mode = .parked
                let covered = partitionState.held.filter { partitionState.mode.coversUnacknowledged($0) }
                settle += covered.map { Settlement(partition: partition, offset: $0, epoch: partitionState.epoch) }
                partitionState.held = []
                partitions[partition] = partitionState
            }
            for item in dropped {
                guard let epoch = item.epoch, let partitionState = partitions[item.partition], epoch == partitionState.epoch,
                    partitionState.mode.coversUnacknowledged(item.message.sourceOffset)
                else { continue }
                settle.append(Settlement(partition: item.partition, offset: item.message.sourceOffset, epoch: epoch))
            }
            if status.isDelivering { scheduleCatchUps() }
            return settle
        }

        /// A replay request for `partition`: park there with the cursor moved back to `offset`.
        /// False when this instance does not hold the partition.
        mutating func replayRequested(_ partition: SourcePartition, from offset: Int64) -> Bool {
            guard partitions[partition] != nil else { return false }
            replays[partition] = offset
            parkRequested = true
            // A replay delivers everything again, an acknowledged probe too.
            if acknowledgedProbe?.partition == partition { acknowledgedProbe = nil }
            return true
        }

        /// Catch-ups start for every parked partition (the webhook delivers again).
        mutating func scheduleCatchUps() {
            catchUpsToStart = partitions.filter { $0.value.mode == .parked }.map(\.key)
        }

        // MARK: - Assignment

        /// A partition was assigned, starting at `start`, with the webhook's stored cursor there
        /// if any. Returns a cursor to write before any record of the partition is dispatched: a
        /// webhook that does not deliver and has no cursor yet must have one before records can
        /// be left to it.
        mutating func assigned(_ partition: SourcePartition, start: Int64, epoch: UInt64, cursor: Int64?) -> Int64? {
            var mode = Mode.live
            var floor = start
            var write: Int64?
            if status.status == .dead {
                mode = .parked
            } else if let cursor {
                mode = .parked
                floor = cursor
            } else if !status.isDelivering {
                mode = .parked
                write = start
            }
            partitions[partition] = PartitionState(mode: mode, epoch: epoch, floor: floor, lastOffered: start.clampedAdding(-1))
            if mode == .parked, status.isDelivering { catchUpsToStart.append(partition) }
            return write
        }

        /// A lane made while partitions are already assigned: it takes records from the
        /// dispatcher's current positions; not delivering, it parks there first.
        mutating func assignedRunning(_ assigned: [(SourcePartition, next: Int64, epoch: UInt64)]) {
            let delivering = status.isDelivering && status.status != .dead
            // Not delivering: live until the parking asked for here begins (`beginParking` marks
            // the partitions `.parking`, which says a parking is under way). Marked `.parking`
            // here, no parking ever started, and the records offered to it were held, unsettled,
            // for as long as the process ran.
            let mode: Mode = status.status == .dead ? .parked : .live
            for (partition, next, epoch) in assigned {
                partitions[partition] = PartitionState(mode: mode, epoch: epoch, floor: next, lastOffered: next.clampedAdding(-1))
            }
            if !delivering, status.status != .dead, !assigned.isEmpty { parkRequested = true }
        }

        /// Partitions are being given up: their catch-ups stop and their queued messages go.
        /// Returns the cursors to write (a catch-up's progress) once their in-flight requests
        /// have ended.
        mutating func revoked(_ revoked: Set<SourcePartition>) -> [SourcePartition: Int64?] {
            _ = queue.remove { revoked.contains($0.partition) }
            revoking.formUnion(revoked.filter { partitions[$0] != nil })
            var cursors: [SourcePartition: Int64?] = [:]
            for partition in revoked {
                guard var partitionState = partitions[partition] else { continue }
                partitionState.catchUpGeneration += 1
                switch partitionState.mode {
                case .catchingUp, .joining:
                    cursors[partition] = partitionState.window.low ?? partitionState.floor
                case .live where partitionState.catchUpOutstanding > 0:
                    cursors[partition] = partitionState.window.low ?? partitionState.floor
                default: break
                }
                partitions[partition] = partitionState
            }
            return cursors
        }

        /// Whether any request of these partitions is still in flight.
        func hasRequestsInFlight(_ partitions: Set<SourcePartition>) -> Bool {
            partitions.contains { inFlightByPartition[$0] != nil }
        }

        /// The revocation is complete: nothing is kept for these partitions.
        mutating func revocationFinished(_ revoked: Set<SourcePartition>) {
            for partition in revoked { partitions[partition] = nil }
            revoking.subtract(revoked)
        }

        /// The webhook was deleted: nothing is kept for it, like a dead one. Returns its queued and
        /// held live deliveries, settled at once (in-flight ones settle when they end).
        mutating func retire() -> [Settlement] {
            var settle: [Settlement] = []
            for item in queue.remove(where: { _ in true }) {
                if let epoch = item.epoch { settle.append(Settlement(partition: item.partition, offset: item.message.sourceOffset, epoch: epoch)) }
            }
            for (partition, var partitionState) in partitions {
                settle += partitionState.held.map { Settlement(partition: partition, offset: $0, epoch: partitionState.epoch) }
                partitionState.held = []
                partitionState.mode = .parked
                partitionState.catchUpGeneration += 1
                partitions[partition] = partitionState
            }
            status.status = .dead
            return settle.filter { partitions[$0.partition]?.epoch == $0.epoch }
        }

        /// Starts no new request, parking or catch-up.
        mutating func stop() {
            stopping = true
            // Stops every catch-up. A quiet partition has none, and bumping it would make it a
            // whole state: 20 MB at shutdown with 10,000 webhooks (docs/benchmarks.md).
            for partition in partitions.keys where !partitions.isQuiet(partition) { partitions[partition]!.catchUpGeneration += 1 }
        }

        // MARK: - Catch-up

        /// A catch-up of `generation` starts: the partition's cursor (where to read from), or nil
        /// when it is no longer wanted.
        mutating func catchUpStarting(_ partition: SourcePartition, generation: Int) -> Int64? {
            guard var partitionState = partitions[partition], partitionState.mode == .parked, partitionState.catchUpGeneration == generation,
                status.isDelivering
            else { return nil }
            partitionState.mode = .catchingUp
            partitions[partition] = partitionState
            return partitionState.floor
        }

        /// How far the live path is past the partition's floor (what its catch-up has to read,
        /// at most): which catch-up reads first (`CatchUpPlaces`).
        func catchUpBacklog(_ partition: SourcePartition) -> Int64 {
            guard let partitionState = partitions[partition] else { return 0 }
            return max(0, partitionState.lastOffered.clampedAdding(1).clampedSubtracting(partitionState.floor))
        }

        /// The catch-up's reader could not be opened: the partition stays parked.
        mutating func catchUpFailed(_ partition: SourcePartition, generation: Int) {
            if partitions[partition]?.catchUpGeneration == generation { partitions[partition]?.mode = .parked }
        }

        /// Room for the catch-up's next read, reserved (at the webhook's pace: what its window,
        /// `max_pending`, has room for, so catch-ups of several partitions stay within it).
        /// `current`: the catch-up is still wanted.
        mutating func reserveCatchUpRoom(_ partition: SourcePartition, generation: Int) -> (current: Bool, room: Int) {
            let room = max(0, min(500, webhook.options.maxPending - queue.count - catchUpReserved))
            catchUpReserved += room
            return (partitions[partition]?.catchUpGeneration == generation, room)
        }

        mutating func releaseCatchUpRoom(_ room: Int) { catchUpReserved -= room }

        /// Records the catch-up read (each with its routed messages), at or after `position`,
        /// `atEnd` when it reached the partition's end. Queues this webhook's messages and, once
        /// the reader has passed every offset the dispatcher offered, hands the partition back to
        /// the live path (`.joining`). Returns the new position, or nil when the catch-up is no
        /// longer wanted, and whether it joined.
        mutating func catchUpRead(
            _ partition: SourcePartition, generation: Int, records: [(offset: Int64, messages: [RoutedMessage])], position: Int64, atEnd: Bool
        ) -> (position: Int64, joined: Bool)? {
            guard partitions[partition]?.catchUpGeneration == generation, var partitionState = partitions.removeValue(forKey: partition) else { return nil }
            var position = position
            let acknowledged = acknowledgedProbe?.partition == partition ? acknowledgedProbe?.messageIDs ?? [] : []
            for (offset, messages) in records where offset >= position {
                position = offset.clampedAdding(1)
                partitionState.floor = position
                let mine = messages.filter {
                    $0.siteID == webhook.siteID && webhook.topics.contains($0.topic.name) && !acknowledged.contains($0.messageID) && passesFilter($0)
                }
                guard !mine.isEmpty else { continue }
                partitionState.window.open(offset, count: mine.count)
                partitionState.catchUpOutstanding += mine.count
                for message in mine {
                    queue.append(QueuedMessage(message: message, partition: partition, epoch: nil, generation: generation))
                }
            }
            var joined = false
            if position > partitionState.lastOffered, atEnd {
                partitionState.mode = .joining(position)
                joined = true
                if acknowledgedProbe?.partition == partition { acknowledgedProbe = nil }
            }
            partitions[partition] = partitionState
            return (position, joined)
        }

        /// Catch-up messages of `generation` not yet acknowledged (nil: the catch-up is over).
        func catchUpOutstanding(_ partition: SourcePartition, generation: Int) -> Int? {
            guard let partitionState = partitions[partition], partitionState.catchUpGeneration == generation else { return nil }
            return partitionState.catchUpOutstanding
        }

        /// The partition's cursor during a catch-up of `generation`: its lowest unacknowledged
        /// message, or how far the reader got.
        func catchUpCursor(_ partition: SourcePartition, generation: Int) -> Int64? {
            guard let partitionState = partitions[partition], partitionState.catchUpGeneration == generation else { return nil }
            return partitionState.window.low ?? partitionState.floor
        }

        // MARK: - Status

        /// Applies a status event; a change bumps the revision.
        mutating func transition(_ event: WebhookState.Event, now: Int64) -> [WebhookState.Effect] {
            let before = status
            let effects = status.apply(event, policy: .init(site: site), now: now)
            if status != before { status.revision = before.revision.clampedAdding(1) }
            if !before.isDelivering, status.isDelivering { pace.restart() }
            return effects
        }

        /// After a transition: whether the webhook must park (it no longer delivers and some
        /// partition is not parked).
        mutating func parkIfNotDelivering() -> Bool {
            let needsPark = !status.isDelivering && partitions.values.contains { $0.mode != .parked }
            if needsPark { parkRequested = true }
            return needsPark
        }

        /// A state read from the control topic: adopted if it supersedes the lane's own. Returns
        /// whether it was (the lane then parks or catches up to match).
        mutating func adopt(_ incoming: WebhookState) -> Bool {
            guard status.isSuperseded(by: incoming) else { return false }
            if incoming.probe != status.probe { probeBatch = nil }
            if !status.isDelivering, incoming.isDelivering { pace.restart() }
            status = incoming
            if !incoming.isDelivering, partitions.values.contains(where: { $0.mode != .parked }) { parkRequested = true }
            if incoming.isDelivering { scheduleCatchUps() }
            return true
        }

        /// What a probe retry needs, if one is due or waiting: nil when the retry is over (an API
        /// change, the partition gone, stopping).
        func probeRetry() -> (probe: Probe, due: Int64, webhook: Webhook, site: Site, batch: [QueuedMessage]?, attempt: Int)? {
            guard !stopping, status.status == .paused, status.pause == .auto, let probe = status.probe, let due = status.nextRetryAtMilliseconds, ownsProbe
            else { return nil }
            return (probe, due, webhook, site, probeBatch, status.retries.clampedAdding(2))
        }

        /// A probe retry of `probe` ended (`failure` nil when acknowledged). Returns the
        /// transition's effects, or nil when an API change in the meantime wins over this result.
        mutating func probeRetried(_ probe: Probe, messages: [RoutedMessage], failure: DeliveryFailure?, now: Int64) -> [WebhookState.Effect]? {
            guard status.status == .paused, status.pause == .auto, status.probe == probe else { return nil }
            let effects = transition(failure.map { .retryFailed($0) } ?? .retryAcked, now: now)
            if failure == nil {
                acknowledgedProbe = (SourcePartition(probe.sourceTopic, probe.partition), Set(messages.map(\.messageID)))
                acknowledgedMessages += messages.count
                probeBatch = nil
            }
            return effects
        }

        /// The probe cannot be sent again: `next` takes its place, or the episode ends. Nil when
        /// the state moved on meanwhile.
        mutating func probeUnavailable(_ probe: Probe, next: Probe?, now: Int64) -> [WebhookState.Effect]? {
            guard status.status == .paused, status.pause == .auto, status.probe == probe else { return nil }
            probeBatch = nil
            return transition(.probeUnavailable(next: next), now: now)
        }
    }
}
