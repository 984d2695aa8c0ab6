import Testing
import WebhookDomain

@testable import Delivery

/// The lane's state machine as a value: one test per event, with plain values and no I/O.
@Suite("The webhook lane's state machine")
struct LaneStateMachineTests {
    static let partition = SourcePartition("oms.orders", 0)
    static let ordered = WebhookTopic(name: "order_state_changed", ordered: true)

    static func machine(maxInFlight: Int = 2, maxPending: Int = 100, status: WebhookState = WebhookState()) -> WebhookLane.StateMachine {
        var site = Site(id: "c404", token: "t")
        site.maxInFlight = maxInFlight
        var options = WebhookOptions()
        options.maxPending = maxPending
        let webhook = Webhook(id: "erp", siteID: "c404", url: "http://127.0.0.1/hooks", topics: [ordered.name], hashKeys: [HashKey("k")], options: options)
        return WebhookLane.StateMachine(webhook: webhook, site: site, status: status)
    }

    static func message(_ offset: Int64, entity: String = "E0", partition: SourcePartition = partition) -> RoutedMessage {
        RoutedMessage(
            siteID: "c404", topic: ordered, messageID: "m-\(partition.partition)-\(offset)", sequence: "\(partition.partition)-\(offset)",
            entity: Array(entity.utf8), payload: Array("{}".utf8), sourcePartition: partition.partition, sourceOffset: offset)
    }

    /// Takes every request `nextWork` starts (slots always free).
    static func sends(_ machine: inout WebhookLane.StateMachine) -> [[QueuedMessage]] {
        machine.nextWork(now: .now, takeSlot: { true }, releaseSlot: {}).work.compactMap { work in
            if case .send(let batch) = work { return batch }
            return nil
        }
    }

    static let failure = DeliveryFailure(status: 500, reason: "HTTP 500")

    @Test("offer, live: queued, the lane woken; the same entity is sent one at a time, in order, up to max_in_flight")
    func offerLive() {
        var machine = Self.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        for offset in 0..<3 {
            let (result, wake) = machine.offer(Self.message(Int64(offset)), partition: Self.partition)
            #expect(result == .taken && wake)
        }
        _ = machine.offer(Self.message(3, entity: "E1"), partition: Self.partition)
        let batches = Self.sends(&machine)
        #expect(batches.map { $0.map(\.message.sourceOffset) } == [[0], [3]])
        #expect(machine.inFlightRequests == 2)
        #expect(Self.sends(&machine).isEmpty, "max_in_flight 2")
    }

    @Test("requestFinished, acknowledged: the live delivery is settled and the entity's next message goes")
    func requestAcked() throws {
        var machine = Self.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 7, cursor: nil)
        _ = machine.offer(Self.message(0), partition: Self.partition)
        _ = machine.offer(Self.message(1), partition: Self.partition)
        let batch = try #require(Self.sends(&machine).first)
        let (settle, effects) = machine.requestFinished(batch, failure: nil, now: 0)
        #expect(settle == [.init(partition: Self.partition, offset: 0, epoch: 7)])
        #expect(effects == nil)
        #expect(Self.sends(&machine).map { $0.map(\.message.sourceOffset) } == [[1]])
    }

    @Test("requestFinished, failed while enabled: paused (auto) on that probe, parking asked, nothing settled")
    func requestFailed() throws {
        var machine = Self.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        _ = machine.offer(Self.message(0), partition: Self.partition)
        let batch = try #require(Self.sends(&machine).first)
        let (settle, effects) = machine.requestFinished(batch, failure: Self.failure, now: 0)
        #expect(settle.isEmpty, "a failed live delivery is held until the cursor is durable")
        #expect(effects == [])
        #expect(machine.status.status == .paused && machine.status.pause == .auto && machine.status.probe?.offset == 0)
        #expect(machine.parkRequested)
    }

    @Test("park: the cursor is the lowest unsettled offset; held and dropped deliveries settle only once it is durable")
    func parking() throws {
        var machine = Self.machine(maxInFlight: 1)
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        for offset in Int64(0)..<3 { _ = machine.offer(Self.message(offset, entity: "E\(offset)"), partition: Self.partition) }
        let batch = try #require(Self.sends(&machine).first)
        _ = machine.requestFinished(batch, failure: Self.failure, now: 0)
        let (cursors, dropped) = machine.beginParking()
        #expect(cursors == [Self.partition: 0])
        let outcome1 = machine.offer(Self.message(3), partition: Self.partition).result
        #expect(outcome1 == .taken, "held while the cursor is written")
        let settle = machine.cursorsDurable(cursors, dropped: dropped)
        #expect(Set(settle.map(\.offset)) == [0, 1, 2, 3])
        let outcome2 = machine.offer(Self.message(4), partition: Self.partition).result
        #expect(outcome2 == .settledNow, "left to the durable cursor")
        #expect(machine.catchUpsToStart.isEmpty, "paused: no catch-up")
    }

    @Test("assigned: with a stored cursor parked there (and caught up if delivering); not delivering and no cursor: the start is written first")
    func assignment() {
        var delivering = Self.machine()
        let outcome3 = delivering.assigned(Self.partition, start: 10, epoch: 1, cursor: 4)
        #expect(outcome3 == nil)
        #expect(delivering.partitions[Self.partition]?.mode == .parked && delivering.partitions[Self.partition]?.floor == 4)
        #expect(delivering.catchUpsToStart == [Self.partition])
        var paused = Self.machine(status: WebhookState(status: .paused))
        let outcome4 = paused.assigned(Self.partition, start: 10, epoch: 1, cursor: nil)
        #expect(outcome4 == 10)
        #expect(paused.catchUpsToStart.isEmpty)
        var fresh = Self.machine()
        let outcome5 = fresh.assigned(Self.partition, start: 10, epoch: 1, cursor: nil)
        #expect(outcome5 == nil)
        #expect(fresh.partitions[Self.partition]?.mode == .live)
    }

    @Test("catchUpRead: the webhook's messages are queued; past every offered offset at the end it joins the live path")
    func catchUp() {
        var machine = Self.machine()
        _ = machine.assigned(Self.partition, start: 5, epoch: 1, cursor: 2)
        let generation = machine.partitions[Self.partition]!.catchUpGeneration
        let outcome6 = machine.catchUpStarting(Self.partition, generation: generation)
        #expect(outcome6 == 2)
        let outcome7 = machine.offer(Self.message(5), partition: Self.partition).result
        #expect(outcome7 == .settledNow, "left to the catch-up")
        let records = (2..<6).map { (offset: Int64($0), messages: [Self.message(Int64($0))]) }
        let read = machine.catchUpRead(Self.partition, generation: generation, records: records, position: 2, atEnd: true)
        #expect(read?.position == 6 && read?.joined == true)
        #expect(machine.queue.count == 4)
        #expect(machine.partitions[Self.partition]?.mode == .joining(6))
        let outcome8 = machine.offer(Self.message(6), partition: Self.partition).result
        #expect(outcome8 == .taken, "from 6 on: live")
    }

    @Test("max_pending: live messages beyond it park the webhook; a window its catch-ups filled does not")
    func livePendingParks() {
        let other = SourcePartition("oms.orders", 1)
        var machine = Self.machine(maxPending: 4)
        _ = machine.assigned(Self.partition, start: 10, epoch: 1, cursor: 0)
        _ = machine.assigned(other, start: 0, epoch: 1, cursor: nil)
        let generation = machine.partitions[Self.partition]!.catchUpGeneration
        _ = machine.catchUpStarting(Self.partition, generation: generation)
        // The catch-up reads what the window has room for: all of it.
        let room = machine.reserveCatchUpRoom(Self.partition, generation: generation).room
        machine.releaseCatchUpRoom(room)
        #expect(room == 4)
        let records = (0..<4).map { (offset: Int64($0), messages: [Self.message(Int64($0), entity: "E\($0)")]) }
        _ = machine.catchUpRead(Self.partition, generation: generation, records: records, position: 0, atEnd: false)
        #expect(machine.queue.count == 4)
        // Live records of the other partition come in meanwhile: queued, no parking.
        for offset in 0..<3 { _ = machine.offer(Self.message(Int64(offset), entity: "L\(offset)", partition: other), partition: other) }
        #expect(!machine.parkRequested)
        // The fourth live one makes max_pending live messages waiting: too slow, parked.
        _ = machine.offer(Self.message(3, entity: "L3", partition: other), partition: other)
        #expect(machine.parkRequested)
    }

    @Test("stop: catch-ups end (their generation moves on); a quiet partition stays two numbers")
    func stopEndsCatchUps() {
        let quiet = SourcePartition("oms.orders", 1)
        var machine = Self.machine()
        _ = machine.assigned(Self.partition, start: 10, epoch: 1, cursor: 4)
        _ = machine.assigned(quiet, start: 0, epoch: 1, cursor: nil)
        let generation = machine.partitions[Self.partition]!.catchUpGeneration
        #expect(machine.catchUpStarting(Self.partition, generation: generation) == 4)
        #expect(machine.partitions.isQuiet(quiet))
        machine.stop()
        #expect(machine.partitions[Self.partition]?.catchUpGeneration == generation + 1)
        let reserved = machine.reserveCatchUpRoom(Self.partition, generation: generation)
        #expect(!reserved.current, "the running catch-up is no longer wanted")
        #expect(machine.partitions.isQuiet(quiet))
    }

    @Test("a lane made while running, not delivering, parks at the current positions; what it was offered meanwhile settles once the cursor is durable")
    func createdPausedWhileRunning() {
        var machine = Self.machine(status: WebhookState(status: .paused))
        machine.assignedRunning([(Self.partition, next: 7, epoch: 1)])
        #expect(machine.offer(Self.message(7), partition: Self.partition).result == .taken)
        let work = machine.nextWork(now: .now, takeSlot: { true }, releaseSlot: {}).work
        #expect(work.contains { if case .park = $0 { true } else { false } }, "the parking starts")
        #expect(!work.contains { if case .send = $0 { true } else { false } }, "nothing is sent")
        let (cursors, dropped) = machine.beginParking()
        #expect(cursors == [Self.partition: 7])
        #expect(machine.cursorsDurable(cursors, dropped: dropped).map(\.offset) == [7])
        #expect(machine.partitions[Self.partition]?.mode == .parked)
    }

    @Test("an acknowledged probe is skipped by the catch-up of its episode, and sent again after a replay")
    func acknowledgedProbe() throws {
        var machine = Self.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        _ = machine.offer(Self.message(0), partition: Self.partition)
        _ = machine.requestFinished(try #require(Self.sends(&machine).first), failure: Self.failure, now: 0)
        let (cursors, dropped) = machine.beginParking()
        _ = machine.cursorsDurable(cursors, dropped: dropped)
        let probe = machine.status.probe!
        let outcome9 = machine.probeRetried(probe, messages: [Self.message(0)], failure: nil, now: 40_000)
        #expect(outcome9 == [])
        #expect(machine.status.status == .enabled)
        let outcome10 = machine.replayRequested(Self.partition, from: 0)
        #expect(outcome10)
        #expect(machine.acknowledgedProbe == nil, "a replay sends everything again")
    }

    @Test("revoked: a catch-up's progress is the cursor to write; the partition is forgotten once its requests ended")
    func revocation() {
        var machine = Self.machine()
        _ = machine.assigned(Self.partition, start: 5, epoch: 1, cursor: 2)
        let generation = machine.partitions[Self.partition]!.catchUpGeneration
        _ = machine.catchUpStarting(Self.partition, generation: generation)
        _ = machine.catchUpRead(Self.partition, generation: generation, records: [(2, [Self.message(2)]), (3, [Self.message(3)])], position: 2, atEnd: false)
        let cursors = machine.revoked([Self.partition])
        #expect(cursors == [Self.partition: 2])
        #expect(machine.queue.isEmpty)
        let outcome11 = machine.catchUpRead(Self.partition, generation: generation, records: [], position: 4, atEnd: true)
        #expect(outcome11 == nil, "the catch-up is stopped")
        machine.revocationFinished([Self.partition])
        #expect(machine.partitions.isEmpty)
    }

    @Test("adopt: an API pause from the control topic parks the webhook; an enable catches it up")
    func adoption() {
        var machine = Self.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        var paused = WebhookState(status: .paused)
        paused.basis = "api-1"
        let outcome12 = machine.adopt(paused)
        #expect(outcome12)
        #expect(machine.parkRequested)
        let (cursors, dropped) = machine.beginParking()
        _ = machine.cursorsDurable(cursors, dropped: dropped)
        var enabled = WebhookState()
        enabled.basis = "api-2"
        let outcome13 = machine.adopt(enabled)
        #expect(outcome13)
        #expect(machine.catchUpsToStart == [Self.partition])
        let outcome14 = machine.adopt(enabled)
        #expect(!outcome14, "the same state again changes nothing")
    }

    /// Found by the model test: a failed message is held for the cursor; an enable before the
    /// parking must not let its entity's next message overtake it.
    @Test("no request starts while a parking is asked for: a held failure is never overtaken by its entity")
    func noSendBeforeParking() throws {
        var machine = Self.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        _ = machine.offer(Self.message(0), partition: Self.partition)
        _ = machine.offer(Self.message(1), partition: Self.partition)
        _ = machine.requestFinished(try #require(Self.sends(&machine).first), failure: Self.failure, now: 0)
        _ = machine.transition(.enableRequested, now: 1)
        let work = machine.nextWork(now: .now, takeSlot: { true }, releaseSlot: {}).work
        #expect(work.contains { if case .park = $0 { true } else { false } })
        #expect(!work.contains { if case .send = $0 { true } else { false } }, "offset 1 waits for the catch-up from the cursor at 0")
    }

    /// Found by the model test: a live request from before a parking ends after the catch-up has
    /// opened the same offset again; it must not close the catch-up's entry (the next cursor
    /// would pass a message never acknowledged).
    @Test("a live request of an earlier generation does not close the new generation's window entry")
    func staleLiveRequest() throws {
        var machine = Self.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        _ = machine.offer(Self.message(0), partition: Self.partition)
        let stale = try #require(Self.sends(&machine).first)
        let (cursors, dropped) = machine.beginParking()
        _ = machine.cursorsDurable(cursors, dropped: dropped)
        let generation = machine.partitions[Self.partition]!.catchUpGeneration
        _ = machine.catchUpStarting(Self.partition, generation: generation)
        _ = machine.catchUpRead(Self.partition, generation: generation, records: [(0, [Self.message(0)])], position: 0, atEnd: false)
        let (settle, _) = machine.requestFinished(stale, failure: Self.failure, now: 0)
        #expect(settle.map(\.offset) == [0], "covered by the durable cursor: settled in the progress")
        #expect(machine.catchUpCursor(Self.partition, generation: generation) == 0, "the catch-up's message 0 is still open")
    }

    @Test("a message waiting for its notification delay takes no slot: the lane asks to be woken when it is due")
    func notificationDelayHoldsNoSlot() {
        var machine = Self.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        var message = Self.message(0)
        message.notBeforeMilliseconds = 10_000
        _ = machine.offer(message, partition: Self.partition)
        var taken = 0
        var released = 0
        var result = machine.nextWork(now: .now, nowMilliseconds: 4_000, takeSlot: { taken += 1; return true }, releaseSlot: { released += 1 })
        #expect(taken == released, "a slot taken to look is given back")
        #expect(result.work.contains { if case .wake(after: .milliseconds(6_000)) = $0 { true } else { false } })
        result = machine.nextWork(now: .now, nowMilliseconds: 5_000, takeSlot: { taken += 1; return true }, releaseSlot: { released += 1 })
        #expect(!result.work.contains { if case .wake = $0 { true } else { false } }, "the wake already asked for is not asked again")
        result = machine.nextWork(now: .now, nowMilliseconds: 10_000, takeSlot: { taken += 1; return true }, releaseSlot: { released += 1 })
        #expect(result.work.contains { if case .send(let batch) = $0 { batch.map(\.message.sourceOffset) == [0] } else { false } })
        #expect(taken == released + 1)
    }

    @Test("requestAbandoned: nothing is settled or counted; messages of partitions still held go back to the head of their line, in order")
    func requestAbandoned() throws {
        var machine = Self.machine(maxInFlight: 1)
        let other = SourcePartition("oms.orders", 1)
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        _ = machine.assigned(other, start: 0, epoch: 1, cursor: nil)
        _ = machine.offer(Self.message(0, partition: other), partition: other)
        _ = machine.offer(Self.message(1, partition: other), partition: other)
        let batch = try #require(Self.sends(&machine).first)
        #expect(batch.map(\.message.sourceOffset) == [0])
        // Partition 0 is revoked and its requests cut short: this request was of partition 1, which stays.
        _ = machine.revoked([Self.partition])
        machine.requestAbandoned(batch, abandoned: AbandonedRequests(partitions: [Self.partition]))
        #expect(machine.inFlightRequests == 0 && !machine.hasRequestsInFlight([other]))
        #expect(machine.status.status == .enabled, "no failure is counted")
        let resent = try #require(Self.sends(&machine).first)
        #expect(resent.map(\.message.sourceOffset) == [0], "put back ahead of offset 1")
        #expect(machine.queue.count == 1, "offset 1 waits behind it")
        // Cut short with its own partition revoked: dropped, for the partition's next owner.
        _ = machine.revoked([other])
        machine.requestAbandoned(resent, abandoned: AbandonedRequests(partitions: [other]))
        #expect(machine.queue.isEmpty && machine.inFlightRequests == 0)
    }

    @Test("a revoked partition's probe is not retried here while its requests are being cut short")
    func revokingProbeNotOwned() {
        var machine = Self.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        _ = machine.offer(Self.message(0), partition: Self.partition)
        let batch = Self.sends(&machine)[0]
        _ = machine.requestFinished(batch, failure: Self.failure, now: 0)
        #expect(machine.ownsProbe)
        _ = machine.revoked([Self.partition])
        #expect(!machine.ownsProbe)
        machine.revocationFinished([Self.partition])
        #expect(!machine.ownsProbe)
    }
}
