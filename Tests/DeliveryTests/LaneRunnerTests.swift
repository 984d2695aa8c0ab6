import Kafka
import Logging
import Testing
import Waiting
import WebhookDomain

@testable import Delivery

/// A lane runs a task only while it has work (`WebhookLane.Runner`): the decision as a value, the
/// compact state of quiet partitions, and a real lane started, ended and stopped.
@Suite("The lane's runner and its per-partition state")
struct LaneRunnerTests {
    static let partition = LaneStateMachineTests.partition

    // MARK: - The runner as a value

    @Test("An idle lane starts no runner; work starts one; further wakes make it look again")
    func wakeStartsOneRunner() {
        var machine = LaneStateMachineTests.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        #expect(machine.wake() == .idle)
        #expect(!machine.runner.active)
        _ = machine.offer(LaneStateMachineTests.message(0), partition: Self.partition)
        #expect(machine.wake() == .startRunner)
        #expect(machine.wake() == .runnerLooks)
        #expect(machine.runner.active)
    }

    @Test("Requests alone start no runner without a request slot: the lane waits in line; other work starts one regardless")
    func noRunnerWithoutASlot() {
        var machine = LaneStateMachineTests.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        _ = machine.offer(LaneStateMachineTests.message(0), partition: Self.partition)
        var asked = 0
        let reserve = { (granted: Bool) in { () -> Bool in
            asked += 1
            return granted
        } }
        let refused = machine.wake(reserveSlot: reserve(false))
        #expect(refused == .waitsForSlot)
        #expect(!machine.runner.active && asked == 1)
        let granted = machine.wake(reserveSlot: reserve(true))
        #expect(granted == .startRunner)
        #expect(machine.runner.active && asked == 2)
        let running = machine.wake(reserveSlot: reserve(false))
        #expect(running == .runnerLooks)
        #expect(asked == 2, "an active runner takes its slots itself")

        var parking = LaneStateMachineTests.machine()
        _ = parking.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        _ = parking.offer(LaneStateMachineTests.message(0), partition: Self.partition)
        let parks = parking.parkToFreeMemory()
        #expect(parks)
        let wake = parking.wake(reserveSlot: { false })
        #expect(wake == .startRunner, "a parking needs no slot")
    }

    @Test("The runner looks once per wake and ends when nothing it started is left and nothing woke it")
    func runnerEndsWhenIdle() {
        var machine = LaneStateMachineTests.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        _ = machine.offer(LaneStateMachineTests.message(0), partition: Self.partition)
        #expect(machine.wake() == .startRunner)
        #expect(machine.runnerStep() == .look)
        machine.runner.tasks = 1
        #expect(machine.runnerStep() == nil)
        #expect(machine.wake() == .runnerLooks)
        #expect(machine.runnerStep() == .look)
        machine.runner.tasks = 0
        #expect(machine.runnerStep() == .end)
        #expect(!machine.runner.active)
    }

    @Test("Stopping: no runner starts for queued work; an active runner starts the grace once")
    func stopping() {
        var idle = LaneStateMachineTests.machine()
        _ = idle.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        _ = idle.offer(LaneStateMachineTests.message(0), partition: Self.partition)
        idle.stop()
        #expect(idle.wake() == .idle)
        #expect(!idle.runner.active)

        var running = LaneStateMachineTests.machine()
        _ = running.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        _ = running.offer(LaneStateMachineTests.message(0), partition: Self.partition)
        #expect(running.wake() == .startRunner)
        running.stop()
        #expect(running.wake() == .runnerLooks)
        #expect(running.startGrace() != nil)
        #expect(running.startGrace() == nil)
        #expect(running.runner.tasks == 1)
    }

    // MARK: - Quiet partitions

    @Test("Partition states of several topics, stored in any order, read back, change between quiet and busy, and leave")
    func manyPartitionStates() {
        var states = WebhookLane.PartitionStates()
        var expected: [SourcePartition: WebhookLane.PartitionState] = [:]
        let partitions = (0..<12).map { SourcePartition($0 % 3 == 0 ? "oms.parcels" : "oms.orders", Int32(($0 * 7) % 12)) }
        for (index, partition) in partitions.shuffled().enumerated() {
            let quiet = WebhookLane.PartitionState(mode: .live, epoch: UInt64(index), floor: Int64(index) + 10, lastOffered: Int64(index) + 9)
            states[partition] = quiet
            expected[partition] = quiet
        }
        var busy = WebhookLane.PartitionState(mode: .parked, epoch: 9, floor: 3, lastOffered: 2)
        busy.held = [1]
        states[partitions[4]] = busy
        expected[partitions[4]] = busy
        #expect(!states.isQuiet(partitions[4]) && states.isQuiet(partitions[5]))
        #expect(states.removeValue(forKey: partitions[7]) == expected.removeValue(forKey: partitions[7]))
        #expect(states.removeValue(forKey: partitions[7]) == nil)
        states[partitions[2]] = nil
        expected[partitions[2]] = nil
        for partition in partitions { #expect(states[partition] == expected[partition], "\(partition)") }
        #expect(Set(states.keys) == Set(expected.keys) && states.keys.count == expected.count)
        #expect(Dictionary(uniqueKeysWithValues: states.map { ($0.key, $0.value) }) == expected)
        states[partitions[4]] = WebhookLane.PartitionState(mode: .live, epoch: 9, floor: 3, lastOffered: 2)
        #expect(states.isQuiet(partitions[4]))
        #expect(states[partitions[4]] == WebhookLane.PartitionState(mode: .live, epoch: 9, floor: 3, lastOffered: 2))
    }

    @Test("A quiet partition is kept as two numbers and read back as it was; one with messages open is kept whole")
    func quietPartitions() {
        var machine = LaneStateMachineTests.machine()
        _ = machine.assigned(Self.partition, start: 5, epoch: 3, cursor: nil)
        #expect(machine.partitions[Self.partition] == WebhookLane.PartitionState(mode: .live, epoch: 3, floor: 5, lastOffered: 4))
        _ = machine.offer(LaneStateMachineTests.message(7), partition: Self.partition)
        let open = machine.partitions[Self.partition]
        #expect(open?.window.isOpen(7) == true && open?.floor == 8 && open?.lastOffered == 7)
        let batch = LaneStateMachineTests.sends(&machine)
        #expect(batch.count == 1)
        _ = machine.requestFinished(batch[0], failure: nil, now: 0)
        let settled = machine.partitions[Self.partition]
        #expect(settled?.mode == .live && settled?.window.isEmpty == true && settled?.floor == 8 && settled?.lastOffered == 7)
        #expect(machine.partitions.keys == [Self.partition])
        #expect(machine.partitions.map(\.key) == [Self.partition])
        machine.revocationFinished([Self.partition])
        #expect(machine.partitions.isEmpty)
    }

    @Test("A partition parked once keeps its whole state (its generation counts)")
    func parkedPartitionStaysWhole() {
        var machine = LaneStateMachineTests.machine()
        _ = machine.assigned(Self.partition, start: 0, epoch: 1, cursor: nil)
        let replaying = machine.replayRequested(Self.partition, from: 0)
        #expect(replaying)
        let (cursors, dropped) = machine.beginParking()
        _ = machine.cursorsDurable(cursors, dropped: dropped)
        #expect(machine.partitions[Self.partition]?.mode == .parked)
        #expect(machine.partitions[Self.partition]?.catchUpGeneration == 1)
    }

    // MARK: - A real lane

    /// Cursors in memory; a save waits while the gate is closed.
    final class GatedStore: DeliveryStore {
        struct State: Sendable {
            var cursors: [SourcePartition: Int64] = [:]
            var open = true
            var waitingSaves = 0
        }
        let state = Waitable(State())

        func states() async throws -> [String: WebhookState] { [:] }
        func save(state: WebhookState, webhookID: String) async throws {}
        func cursors(webhookID: String) async throws -> [SourcePartition: Int64] { state.value.cursors }
        func save(cursors: [SourcePartition: Int64?], webhookID: String) async throws {
            state.withLock { $0.waitingSaves += 1 }
            await state.wait(until: { $0.open })
            state.withLock { state in
                state.waitingSaves -= 1
                for (partition, cursor) in cursors { state.cursors[partition] = cursor }
            }
        }
    }

    struct NoAlerts: AlertSink {
        func send(_ event: AlertEvent) {}
    }

    /// A paused lane (it parks, and never sends) whose runners are handed to the test.
    static func withLane(_ body: (WebhookLane, GatedStore, AsyncStream<WebhookLane>) async throws -> Void) async throws {
        let client = WebhookHTTPClient()
        let store = GatedStore()
        let (runners, startRunner) = AsyncStream.makeStream(of: WebhookLane.self)
        let context = DeliveryContext(
            client: client, progress: PartitionProgress(), store: store, alerts: NoAlerts(), routing: SharedRouter(Router(routes: [], sites: [])),
            kafka: KafkaConfig(bootstrapServers: "127.0.0.1:1"), storeOffset: { _, _ in }, logger: Logger(label: "lane-runner-tests", factory: { _ in SwiftLogNoOpLogHandler() }),
            startRunner: { startRunner.yield($0) })
        let machine = LaneStateMachineTests.machine(status: WebhookState(status: .paused))
        let lane = WebhookLane(webhook: machine.webhook, site: machine.site, status: machine.status, context: context)
        do { try await body(lane, store, runners) } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    @Test("A lane has a runner only while it has work: idle none, a wake starts one, it ends with the work")
    func runnerLifecycle() async throws {
        try await Self.withLane { lane, store, runners in
            var started = runners.makeAsyncIterator()
            await lane.assign(Self.partition, start: 0, epoch: 1)
            #expect(!lane.hasRunner)
            #expect(store.state.value.cursors == [Self.partition: 0])
            lane.replay(Self.partition, from: 0)
            #expect(lane.hasRunner)
            var runner = await started.next()
            #expect(runner === lane)
            await lane.run()
            #expect(!lane.hasRunner)
            lane.replay(Self.partition, from: 0)
            runner = await started.next()
            #expect(runner === lane)
            await lane.run()
            #expect(!lane.hasRunner)
        }
    }

    @Test("Stop: an idle lane is stopped at once and starts no runner; a running one ends once its work has")
    func stop() async throws {
        try await Self.withLane { lane, store, runners in
            var started = runners.makeAsyncIterator()
            await lane.assign(Self.partition, start: 0, epoch: 1)
            store.state.withLock { $0.open = false }
            lane.replay(Self.partition, from: 0)
            let runner = await started.next()
            #expect(runner === lane)
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await lane.run() }
                await store.state.wait(until: { $0.waitingSaves == 1 })
                lane.stop()
                #expect(lane.hasRunner)
                store.state.withLock { $0.open = true }
            }
            #expect(!lane.hasRunner)
            lane.replay(Self.partition, from: 0)
            lane.stop()
            #expect(!lane.hasRunner)
        }
    }
}
