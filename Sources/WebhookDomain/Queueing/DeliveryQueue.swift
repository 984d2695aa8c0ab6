import DequeModule

/// A message waiting for one webhook, with where it came from.
public struct QueuedMessage: Sendable {
    public var message: RoutedMessage
    public var partition: SourcePartition
    /// The partition's assignment epoch when it was queued (live messages) or nil (catch-up).
    public var epoch: UInt64?
    /// The partition's generation when it was queued: a parking or a revocation starts a new
    /// one, with a new window of open offsets, and only the current generation's messages count
    /// in it.
    public var generation: Int

    public init(message: RoutedMessage, partition: SourcePartition, epoch: UInt64?, generation: Int = 0) {
        self.message = message
        self.partition = partition
        self.epoch = epoch
        self.generation = generation
    }

    public var isCatchUp: Bool { epoch == nil }
}

/// The order rules of DESIGN.md §6 as a value: what may be sent next to one webhook.
///
/// On an ordered topic an entity's messages go one request at a time, in queue order; a batch
/// may carry several consecutive messages of one entity (never out of order), and an entity
/// whose request is in flight gives nothing more until it is finished. Unordered messages go in
/// arrival order. Entities take turns.
///
/// A message is due once its notification delay has passed (`notBeforeMilliseconds`). One that
/// is not due waits here, holding no request slot; an ordered entity waits behind its first
/// message, unordered messages only for themselves. `take` says when the next one is due.
public struct DeliveryQueue: Sendable {
    private var entityQueues: [[UInt8]: Deque<QueuedMessage>] = [:]
    private var readyEntities = Deque<[UInt8]>()
    private var busyEntities: Set<[UInt8]> = []
    private var unordered = Deque<QueuedMessage>()
    /// Entities whose first message is not due, and unordered messages not due, with the
    /// earliest time one of them is: looked at again from then on.
    private var delayedEntities: [[UInt8]] = []
    private var delayedUnordered: [QueuedMessage] = []
    private var delayedUntil = Int64.max
    public private(set) var count = 0
    /// Queued messages read by a catch-up (the rest came from the live consumer).
    public private(set) var catchUpCount = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public mutating func append(_ item: QueuedMessage) {
        count += 1
        if item.isCatchUp { catchUpCount += 1 }
        guard item.message.topic.ordered else {
            unordered.append(item)
            return
        }
        let entity = item.message.entity
        let wasEmpty = entityQueues[entity] == nil
        entityQueues[entity, default: []].append(item)
        if wasEmpty, !busyEntities.contains(entity) { readyEntities.append(entity) }
    }

    /// Takes up to `limit` messages that may be sent now, as one request (or one batch).
    public mutating func take(upTo limit: Int) -> [QueuedMessage] { take(upTo: limit, dueBy: .max).messages }

    /// Takes up to `limit` messages that may be sent now (due by `now`, in milliseconds since the
    /// epoch), as one request (or one batch); `nextDue`: when a message left waiting for its
    /// notification delay is due.
    public mutating func take(upTo limit: Int, dueBy now: Int64) -> (messages: [QueuedMessage], nextDue: Int64?) {
        if now >= delayedUntil { releaseDelayed(dueBy: now) }
        var taken: [QueuedMessage] = []
        while taken.count < limit {
            // The entity's line is taken out while it changes, so that it is not copied (copy-on-write).
            if let entity = readyEntities.popFirst(), var queue = entityQueues.removeValue(forKey: entity) {
                if let first = queue.first, !Self.isDue(first, by: now) {
                    entityQueues[entity] = queue
                    delay(entity, until: first.message.notBeforeMilliseconds!)
                    continue
                }
                busyEntities.insert(entity)
                while taken.count < limit, let item = queue.first, Self.isDue(item, by: now) { taken.append(queue.removeFirst()) }
                entityQueues[entity] = queue.isEmpty ? nil : queue
            } else if let item = unordered.popFirst() {
                if Self.isDue(item, by: now) {
                    taken.append(item)
                } else {
                    delayedUnordered.append(item)
                    delayedUntil = min(delayedUntil, item.message.notBeforeMilliseconds!)
                }
            } else {
                break
            }
        }
        count -= taken.count
        catchUpCount -= taken.count { $0.isCatchUp }
        return (taken, delayedUntil == .max ? nil : delayedUntil)
    }

    private static func isDue(_ item: QueuedMessage, by now: Int64) -> Bool {
        item.message.notBeforeMilliseconds.map { $0 <= now } ?? true
    }

    private mutating func delay(_ entity: [UInt8], until due: Int64) {
        delayedEntities.append(entity)
        delayedUntil = min(delayedUntil, due)
    }

    /// Puts the delayed entities and messages that are due back in line.
    private mutating func releaseDelayed(dueBy now: Int64) {
        delayedUntil = .max
        let entities = delayedEntities
        delayedEntities = []
        for entity in entities {
            guard let first = entityQueues[entity]?.first else { continue }
            if Self.isDue(first, by: now) { readyEntities.append(entity) } else { delay(entity, until: first.message.notBeforeMilliseconds!) }
        }
        let messages = delayedUnordered
        delayedUnordered = []
        for item in messages {
            if Self.isDue(item, by: now) {
                unordered.append(item)
            } else {
                delayedUnordered.append(item)
                delayedUntil = min(delayedUntil, item.message.notBeforeMilliseconds!)
            }
        }
    }

    /// The messages of a request that was cut short go back to the head of their lines, in
    /// their order; `finished(_:)` then lets their entities send again.
    public mutating func putBack(_ items: [QueuedMessage]) {
        for item in items.reversed() {
            count += 1
            if item.isCatchUp { catchUpCount += 1 }
            if item.message.topic.ordered {
                entityQueues[item.message.entity, default: []].prepend(item)
            } else {
                unordered.prepend(item)
            }
        }
    }

    /// A request is done (acknowledged or given up): its entities may send again.
    public mutating func finished(_ items: [QueuedMessage]) {
        for entity in Set(items.filter { $0.message.topic.ordered }.map(\.message.entity)) {
            busyEntities.remove(entity)
            if entityQueues[entity] != nil { readyEntities.append(entity) }
        }
        // Empty, with nothing in flight: the buffers go, so that an idle webhook keeps none (and
        // any stale entry of `readyEntities` with them).
        if count == 0, busyEntities.isEmpty { self = DeliveryQueue() }
    }

    /// Whether a queued message matches (taken messages are not queued any more).
    public func contains(where matches: (QueuedMessage) -> Bool) -> Bool {
        entityQueues.values.contains { $0.contains(where: matches) } || unordered.contains(where: matches) || delayedUnordered.contains(where: matches)
    }

    /// Removes and returns the queued messages that match (for parking and revocation).
    public mutating func remove(where shouldRemove: (QueuedMessage) -> Bool) -> [QueuedMessage] {
        var removed: [QueuedMessage] = []
        for entity in Array(entityQueues.keys) {
            guard var queue = entityQueues.removeValue(forKey: entity) else { continue }
            let kept = queue.filter { !shouldRemove($0) }
            removed += queue.filter(shouldRemove)
            queue = Deque(kept)
            entityQueues[entity] = queue.isEmpty ? nil : queue
        }
        readyEntities.removeAll { entityQueues[$0] == nil }
        delayedEntities.removeAll { entityQueues[$0] == nil }
        removed += unordered.filter(shouldRemove)
        unordered.removeAll(where: shouldRemove)
        removed += delayedUnordered.filter(shouldRemove)
        delayedUnordered.removeAll(where: shouldRemove)
        count -= removed.count
        catchUpCount -= removed.count { $0.isCatchUp }
        return removed
    }
}
