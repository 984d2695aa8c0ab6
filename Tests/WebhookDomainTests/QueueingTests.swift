import Testing

@testable import WebhookDomain

@Suite("Cursor arithmetic and ordering rules")
struct QueueingTests {
    @Test("the low offset is the lowest open one, or one past the last when all are closed")
    func offsetWindow() {
        var window = OffsetWindow()
        #expect(window.low == nil)
        window.open(10)
        window.open(11, count: 2)
        window.open(12, count: 0)
        window.open(13)
        #expect(window.low == 10)
        #expect(window.close(11) == nil)  // one of two deliveries of 11
        #expect(window.close(13) == nil)  // not the lowest
        #expect(window.close(10) == 11)   // 11 still has one open
        #expect(window.close(11) == 14)   // 12 had nothing, 13 closed: all passed
        #expect(window.isEmpty && window.low == 14)
        #expect(window.close(11) == nil)  // closing twice changes nothing
    }

    static func item(_ entity: String, _ offset: Int64, ordered: Bool = true) -> QueuedMessage {
        QueuedMessage(
            message: RoutedMessage(
                siteID: "s", topic: WebhookTopic(name: ordered ? "o" : "u", ordered: ordered), messageID: "\(entity)-\(offset)",
                sequence: "0-\(offset)", entity: Array(entity.utf8), payload: [], sourcePartition: 0, sourceOffset: offset),
            partition: SourcePartition("t", 0), epoch: 1)
    }

    @Test("an ordered entity gives one request at a time; other entities go meanwhile")
    func perEntityOrder() {
        var queue = DeliveryQueue()
        for (entity, offset) in [("A", 1), ("A", 2), ("B", 3), ("A", 4), ("B", 5)] { queue.append(Self.item(entity, Int64(offset))) }
        let first = queue.take(upTo: 1)
        let second = queue.take(upTo: 1)
        #expect(first.map(\.message.sourceOffset) == [1])
        #expect(second.map(\.message.sourceOffset) == [3])
        #expect(queue.take(upTo: 1).isEmpty)  // A and B both busy
        queue.finished(first)
        #expect(queue.take(upTo: 1).map(\.message.sourceOffset) == [2])
        queue.finished(second)
        #expect(queue.take(upTo: 1).map(\.message.sourceOffset) == [5])
        #expect(queue.count == 1)
    }

    @Test("a batch carries consecutive messages of an entity in order, across entities and unordered ones, up to the limit")
    func batches() {
        var queue = DeliveryQueue()
        for (entity, offset) in [("A", 1), ("A", 2), ("B", 3), ("A", 4)] { queue.append(Self.item(entity, Int64(offset))) }
        queue.append(Self.item("X", 5, ordered: false))
        queue.append(Self.item("Y", 6, ordered: false))
        let batch = queue.take(upTo: 5)
        #expect(batch.map(\.message.sourceOffset) == [1, 2, 4, 3, 5])
        #expect(queue.take(upTo: 5).map(\.message.sourceOffset) == [6])  // entities busy; unordered still flows
        queue.append(Self.item("A", 7))
        #expect(queue.take(upTo: 5).isEmpty)
        queue.finished(batch)
        #expect(queue.take(upTo: 5).map(\.message.sourceOffset) == [7])
    }

    @Test("removing a partition's messages keeps the others in order")
    func remove() {
        var queue = DeliveryQueue()
        var other = Self.item("A", 9)
        other.partition = SourcePartition("t", 1)
        queue.append(Self.item("A", 1))
        queue.append(other)
        queue.append(Self.item("A", 2))
        queue.append(Self.item("X", 3, ordered: false))
        let removed = queue.remove { $0.partition == SourcePartition("t", 0) }
        #expect(removed.map(\.message.sourceOffset).sorted() == [1, 2, 3])
        #expect(queue.count == 1)
        #expect(queue.take(upTo: 10).map(\.message.sourceOffset) == [9])
    }

    static func delayed(_ entity: String, _ offset: Int64, notBefore: Int64?, ordered: Bool = true) -> QueuedMessage {
        var item = Self.item(entity, offset, ordered: ordered)
        item.message.notBeforeMilliseconds = notBefore
        return item
    }

    @Test("a message not yet due waits, with its entity behind it; the others go, and take says when the next is due")
    func notificationDelay() {
        var queue = DeliveryQueue()
        queue.append(Self.delayed("A", 1, notBefore: 5_000))
        queue.append(Self.delayed("A", 2, notBefore: nil))
        queue.append(Self.delayed("B", 3, notBefore: 1_000))
        queue.append(Self.delayed("X", 4, notBefore: 9_000, ordered: false))
        queue.append(Self.delayed("Y", 5, notBefore: nil, ordered: false))
        var taken = queue.take(upTo: 10, dueBy: 500)
        #expect(taken.messages.map(\.message.sourceOffset) == [5], "only the unordered message without a delay")
        #expect(taken.nextDue == 1_000)
        #expect(queue.count == 4)
        taken = queue.take(upTo: 10, dueBy: 1_000)
        #expect(taken.messages.map(\.message.sourceOffset) == [3])
        #expect(taken.nextDue == 5_000)
        taken = queue.take(upTo: 10, dueBy: 6_000)
        #expect(taken.messages.map(\.message.sourceOffset) == [1, 2], "A's first message is due, and its second follows in order")
        #expect(taken.nextDue == 9_000)
        taken = queue.take(upTo: 10, dueBy: 9_000)
        #expect(taken.messages.map(\.message.sourceOffset) == [4])
        #expect(taken.nextDue == nil && queue.isEmpty)
    }

    @Test("messages waiting for their delay are removed with their partition, and counted until then")
    func removeDelayed() {
        var queue = DeliveryQueue()
        queue.append(Self.delayed("A", 1, notBefore: 5_000))
        queue.append(Self.delayed("X", 2, notBefore: 5_000, ordered: false))
        #expect(queue.take(upTo: 10, dueBy: 0).messages.isEmpty)
        #expect(queue.count == 2)
        #expect(queue.remove { _ in true }.map(\.message.sourceOffset).sorted() == [1, 2])
        #expect(queue.isEmpty)
        #expect(queue.take(upTo: 10, dueBy: 10_000).messages.isEmpty)
    }

    @Test("the queue counts its catch-up messages apart")
    func catchUpCount() {
        var queue = DeliveryQueue()
        var read = Self.item("A", 1)
        read.epoch = nil
        queue.append(read)
        queue.append(Self.item("B", 2))
        #expect(queue.count == 2 && queue.catchUpCount == 1)
        _ = queue.take(upTo: 1)
        #expect(queue.catchUpCount == 0)
        _ = queue.remove { _ in true }
        #expect(queue.count == 0 && queue.catchUpCount == 0)
    }
}
