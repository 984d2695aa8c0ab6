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
public struct DeliveryQueue: Sendable {
    private var entityQueues: [[UInt8]: Deque<QueuedMessage>] = [:]
    private var readyEntities = Deque<[UInt8]>()
    private var busyEntities: Set<[UInt8]> = []
    private var unordered = Deque<QueuedMessage>()
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public mutating func append(_ item: QueuedMessage) {
        count += 1
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
    public mutating func take(upTo limit: Int) -> [QueuedMessage] {
        var taken: [QueuedMessage] = []
        while taken.count < limit {
            if let entity = readyEntities.popFirst(), var queue = entityQueues[entity] {
                busyEntities.insert(entity)
                while taken.count < limit, let item = queue.popFirst() { taken.append(item) }
                entityQueues[entity] = queue.isEmpty ? nil : queue
            } else if let item = unordered.popFirst() {
                taken.append(item)
            } else {
                break
            }
        }
        count -= taken.count
        return taken
    }

    /// A request is done (acknowledged or given up): its entities may send again.
    public mutating func finished(_ items: [QueuedMessage]) {
        for entity in Set(items.filter { $0.message.topic.ordered }.map(\.message.entity)) {
            busyEntities.remove(entity)
            if entityQueues[entity] != nil { readyEntities.append(entity) }
        }
    }

    /// Removes and returns the queued messages that match (for parking and revocation).
    public mutating func remove(where shouldRemove: (QueuedMessage) -> Bool) -> [QueuedMessage] {
        var removed: [QueuedMessage] = []
        for entity in Array(entityQueues.keys) {
            guard var queue = entityQueues[entity] else { continue }
            let kept = queue.filter { !shouldRemove($0) }
            removed += queue.filter(shouldRemove)
            queue = Deque(kept)
            entityQueues[entity] = queue.isEmpty ? nil : queue
        }
        readyEntities.removeAll { entityQueues[$0] == nil }
        removed += unordered.filter(shouldRemove)
        unordered.removeAll(where: shouldRemove)
        count -= removed.count
        return removed
    }
}
