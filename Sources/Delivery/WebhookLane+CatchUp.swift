import Foundation
import Kafka
import WebhookDomain

extension WebhookLane {
    /// Replays a parked partition from the webhook's cursor with an assign-mode reader, in order
    /// and at the webhook's pace, then hands the partition back to the live path (DESIGN.md §7).
    ///
    /// Hand-back: once the reader has passed every offset the dispatcher has offered to this
    /// webhook and reached the end of the partition as it last saw it, the partition switches to
    /// `.joining(position)`: the dispatcher leaves records below `position` to the catch-up and
    /// queues the rest live, so each record reaches the webhook by exactly one path and an
    /// entity's catch-up messages are queued before its live ones. Waiting for the end matters
    /// when the live consumer is itself working through a backlog: joining it there would only
    /// overflow the window and park the webhook again. The cursor is kept durable as acknowledgements come, and deleted once every
    /// catch-up message is acknowledged.
    func catchUp(_ partition: SourcePartition, generation: Int) async {
        guard let (start, behind) = state.withLock({ state in state.catchUpStarting(partition, generation: generation).map { ($0, state.catchUpBacklog(partition)) } })
        else { return }
        let reader: KafkaSharedReader.Partition
        do {
            reader = try await catchUpReader.open(partition, from: start, behind: behind, kafka: context.kafka, logger: logger)
        } catch {
            logger.error("catch-up reader failed", metadata: ["webhook": "\(webhookID)", "partition": "\(partition)", "error": "\(error)"])
            state.withLock { $0.catchUpFailed(partition, generation: generation) }
            return
        }
        logger.info("catch-up started", metadata: ["webhook": "\(webhookID)", "partition": "\(partition)", "from": "\(start)"])
        var position = start
        var savedCursor = start
        var lastSave = ContinuousClock.now
        var joined = false
        var emptyReads = 0
        while !joined {
            // At the webhook's pace: read only what its window (max_pending) has room for,
            // reserved so that catch-ups of several partitions together stay within it.
            // Waits for room (the queue drains as requests end); nil when the lane's task is cancelled.
            let reserved = await state.wait { state -> (current: Bool, room: Int)? in
                let reserved = state.reserveCatchUpRoom(partition, generation: generation)
                return reserved.room > 0 || !reserved.current ? reserved : nil
            }
            guard let (current, room) = reserved, current else {
                if let reserved { state.withLock { $0.releaseCatchUpRoom(reserved.room) } }
                break
            }
            let records = await reader.read(maxRecords: room, timeoutMilliseconds: 100)
            if let first = records.first, first.offset > position, position == start {
                logger.warning(
                    "cursor below the log start: messages removed by retention",
                    metadata: ["webhook": "\(webhookID)", "partition": "\(partition)", "cursor": "\(start)", "log_start": "\(first.offset)"])
            }
            var routed: [(Int64, [RoutedMessage])] = []
            for record in records { routed.append((record.offset, await route(record))) }
            // At the end: past the high watermark, or nothing to read three times running (offsets
            // taken by transaction markers never come as records). One empty read is not the end:
            // the reader may just be waiting for its next fetch, and joining the live path in
            // mid-backlog would only overflow the window and park the webhook again.
            emptyReads = records.isEmpty ? emptyReads + 1 : 0
            let next = records.last.map { $0.offset.clampedAdding(1) } ?? position
            let atEnd = emptyReads >= 3 || reader.highWatermark.map { next >= $0 } ?? false
            let read = state.withLock { state in
                state.releaseCatchUpRoom(room)
                return state.catchUpRead(partition, generation: generation, records: routed, position: position, atEnd: atEnd)
            }
            guard let read else { break }
            (position, joined) = (read.position, read.joined)
            signal()
            if ContinuousClock.now - lastSave > .milliseconds(500) {
                savedCursor = await saveProgress(partition, generation: generation, saved: savedCursor)
                lastSave = ContinuousClock.now
            }
        }
        await catchUpReader.close(partition, reader)
        guard joined else { return }
        logger.info("catch-up joined the live path", metadata: ["webhook": "\(webhookID)", "partition": "\(partition)", "at": "\(position)"])
        // Keep the cursor moving until every catch-up message is acknowledged, then drop it.
        while true {
            guard let outstanding = state.withLock({ $0.catchUpOutstanding(partition, generation: generation) }) else { return }
            if outstanding == 0 { break }
            await state.wait(until: { ($0.catchUpOutstanding(partition, generation: generation) ?? 0) == 0 }, timeout: .milliseconds(500))
            if ContinuousClock.now - lastSave > .milliseconds(500) {
                savedCursor = await saveProgress(partition, generation: generation, saved: savedCursor)
                lastSave = ContinuousClock.now
            }
        }
        _ = await saveDurably(cursors: [partition: nil])
    }

    /// Saves the partition's cursor (lowest unacknowledged catch-up message, or how far the reader
    /// got) if it moved.
    private func saveProgress(_ partition: SourcePartition, generation: Int, saved: Int64) async -> Int64 {
        guard let cursor = state.withLock({ $0.catchUpCursor(partition, generation: generation) }), cursor > saved else { return saved }
        return await saveDurably(cursors: [partition: cursor]) ? cursor : saved
    }

    /// Routes a record read again: the same routing as the live path (dead letters are the live
    /// path's business; here they are simply not this webhook's).
    func route(_ record: KafkaRecord) async -> [RoutedMessage] {
        guard case .routed(let messages) = await context.routing.route(record) else { return [] }
        return messages
    }
}
