import Testing
import WebhookDomain

@testable import Delivery

/// The lane's state machine with a pace (`options.rate_limit`, `options.adaptive`, the slow
/// start after a pause): plain values, the time passed in.
@Suite("The webhook lane's pace")
struct LanePaceTests {
    typealias Lane = LaneStateMachineTests
    static let t0 = ContinuousClock.now

    static func machine(maxInFlight: Int = 4, rateLimit: Double? = nil, adaptive: Bool = false, status: WebhookState = WebhookState()) -> WebhookLane.StateMachine {
        var machine = Lane.machine(maxInFlight: maxInFlight, status: status)
        machine.webhook.options.rateLimit = rateLimit
        machine.webhook.options.adaptive = adaptive
        machine.pace.configure(machine.webhook.options)
        _ = machine.assigned(Lane.partition, start: 0, epoch: 1, cursor: nil)
        return machine
    }

    /// Offers one message per entity (E0, E1, …) from `offsets`.
    static func offer(_ offsets: Range<Int64>, to machine: inout WebhookLane.StateMachine) {
        for offset in offsets { _ = machine.offer(Lane.message(offset, entity: "E\(offset)"), partition: Lane.partition) }
    }

    /// What `nextWork` starts at `now`: the requests' offsets, and any wake asked for.
    static func next(_ machine: inout WebhookLane.StateMachine, at now: ContinuousClock.Instant = t0) -> (sends: [[QueuedMessage]], wake: Duration?) {
        let work = machine.nextWork(now: now, takeSlot: { true }, releaseSlot: {}).work
        var sends: [[QueuedMessage]] = []
        var wake: Duration?
        for item in work {
            switch item {
            case .send(let batch): sends.append(batch)
            case .wake(let after): wake = after
            default: break
            }
        }
        return (sends, wake)
    }

    static let tooMany = DeliveryFailure(status: 429, retryAfter: .seconds(2), reason: "HTTP 429")

    @Test("a slowed 429: its messages go back in order, the webhook stays enabled, nothing is sent during the hold, then the same message first")
    func slowedRetryAfter() throws {
        var machine = Self.machine(maxInFlight: 1, rateLimit: 100)
        for offset in Int64(0)..<3 { _ = machine.offer(Lane.message(offset), partition: Lane.partition) }
        let first = try #require(Self.next(&machine).sends.first)
        #expect(first.map(\.message.sourceOffset) == [0])
        let (settle, effects) = machine.requestFinished(first, failure: Self.tooMany, at: Self.t0, now: 0)
        #expect(settle.isEmpty && effects == nil)
        #expect(machine.status.status == .enabled && !machine.parkRequested && machine.status.probe == nil)
        #expect(machine.queue.count == 3 && machine.inFlightRequests == 0)
        let held = Self.next(&machine, at: Self.t0 + .milliseconds(500))
        #expect(held.sends.isEmpty && held.wake == .milliseconds(1_500))
        #expect(Self.next(&machine, at: Self.t0 + .seconds(1)).wake == nil, "one wake is enough")
        let after = Self.next(&machine, at: Self.t0 + .seconds(2))
        #expect(after.sends.map { $0.map(\.message.sourceOffset) } == [[0]])
        _ = machine.requestFinished(after.sends[0], failure: nil, at: Self.t0 + .seconds(2), now: 0)
        #expect(Self.next(&machine, at: Self.t0 + .seconds(2)).sends.map { $0.map(\.message.sourceOffset) } == [[1]])
    }

    @Test("without rate_limit or adaptive, a 429 with Retry-After pauses the webhook as before")
    func noOptionsPauses() throws {
        var machine = Self.machine(maxInFlight: 1)
        _ = machine.offer(Lane.message(0), partition: Lane.partition)
        let batch = try #require(Self.next(&machine).sends.first)
        let (_, effects) = machine.requestFinished(batch, failure: Self.tooMany, now: 0)
        #expect(effects == [])
        #expect(machine.status.status == .paused && machine.status.pause == .auto && machine.parkRequested)
    }

    @Test("retries_until_failure slowed 429s in a row, then the next pauses the webhook")
    func slowedUntilFailure() throws {
        var machine = Self.machine(maxInFlight: 1, adaptive: true)
        _ = machine.offer(Lane.message(0), partition: Lane.partition)
        var now = Self.t0
        for _ in 0..<machine.site.retriesUntilFailure {
            let batch = try #require(Self.next(&machine, at: now).sends.first)
            #expect(machine.requestFinished(batch, failure: Self.tooMany, at: now, now: 0).effects == nil)
            now += .seconds(2)
        }
        let batch = try #require(Self.next(&machine, at: now).sends.first)
        #expect(machine.requestFinished(batch, failure: Self.tooMany, at: now, now: 0).effects == [])
        #expect(machine.status.status == .paused && machine.status.probe?.offset == 0)
    }

    @Test("rate_limit: no token, no request; a wake when the next token is due")
    func rateLimited() {
        var machine = Self.machine(maxInFlight: 8, rateLimit: 2)
        Self.offer(0..<5, to: &machine)
        let first = Self.next(&machine)
        #expect(first.sends.count == 2, "a burst of one second: 2 tokens")
        #expect(first.wake == .milliseconds(500))
        #expect(Self.next(&machine, at: Self.t0 + .milliseconds(499)).sends.isEmpty)
        #expect(Self.next(&machine, at: Self.t0 + .milliseconds(500)).sends.count == 1)
    }

    @Test("adaptive: one request at first, one more per acknowledgement; a 429 halves the requests in flight")
    func adaptiveWindow() throws {
        var machine = Self.machine(maxInFlight: 8, adaptive: true)
        Self.offer(0..<40, to: &machine)
        var inFlight = Self.next(&machine).sends
        #expect(inFlight.count == 1)
        for expected in [2, 3, 4] {
            _ = machine.requestFinished(inFlight.removeFirst(), failure: nil, latency: .milliseconds(5), now: 0)
            inFlight += Self.next(&machine).sends
            #expect(inFlight.count == expected)
        }
        // 4 in flight: one comes back 429, the limit is 2; the 3 others end before more go.
        _ = machine.requestFinished(inFlight.removeFirst(), failure: DeliveryFailure(status: 429, reason: "HTTP 429"), now: 0)
        #expect(machine.pace.window(maxInFlight: 8) == 2 && machine.status.status == .enabled)
        #expect(Self.next(&machine).sends.isEmpty)
        for _ in 0..<2 { _ = machine.requestFinished(inFlight.removeFirst(), failure: nil, latency: .milliseconds(5), now: 0) }
        #expect(Self.next(&machine).sends.count == 1)
    }

    @Test("after a pause ends (enable, or an acknowledged retry, or adopted): one request in flight, then ramping up to max_in_flight")
    func rampAfterPause() throws {
        for resume in 0..<3 {
            var machine = Self.machine(maxInFlight: 4)
            Self.offer(0..<20, to: &machine)
            #expect(Self.next(&machine).sends.count == 4, "at the start: max_in_flight")
            switch resume {
            case 0:
                _ = machine.transition(.pauseRequested, now: 0)
                _ = machine.transition(.enableRequested, now: 0)
            case 1:
                _ = machine.transition(.deliveryFailed(Probe(sourceTopic: "t", partition: 0, offset: 0, messageID: "m", webhookTopic: "w"), Lane.failure), now: 0)
                _ = machine.transition(.retryAcked, now: 0)
            default:
                var paused = machine.status
                paused.status = .paused
                paused.revision += 1
                _ = machine.adopt(paused)
                var enabled = paused
                enabled.status = .enabled
                enabled.revision += 1
                _ = machine.adopt(enabled)
            }
            #expect(machine.pace.window(maxInFlight: 4) == 1, "resume \(resume)")
            let windows = (0..<4).map { _ in
                machine.pace.acknowledged(latency: .zero, inUse: true, maxInFlight: 4, now: Self.t0)
                return machine.pace.window(maxInFlight: 4)
            }
            #expect(windows == [2, 3, 4, 4], "resume \(resume)")
        }
    }

    @Test("a slowed request whose partition was revoked meanwhile is not put back; after a parking its live message is settled once the cursor is durable")
    func slowedAfterChanges() throws {
        var revoked = Self.machine(maxInFlight: 1, rateLimit: 10)
        _ = revoked.offer(Lane.message(0), partition: Lane.partition)
        let batch = try #require(Self.next(&revoked).sends.first)
        _ = revoked.revoked([Lane.partition])
        _ = revoked.requestFinished(batch, failure: Self.tooMany, now: 0)
        #expect(revoked.queue.count == 0 && !revoked.hasRequestsInFlight([Lane.partition]))

        var parked = Self.machine(maxInFlight: 1, rateLimit: 10)
        _ = parked.offer(Lane.message(0), partition: Lane.partition)
        let sent = try #require(Self.next(&parked).sends.first)
        parked.parkRequested = true
        let (cursors, dropped) = parked.beginParking()
        #expect(cursors == [Lane.partition: 0])
        #expect(parked.requestFinished(sent, failure: Self.tooMany, now: 0).settle.isEmpty)
        #expect(parked.queue.count == 0)
        #expect(parked.cursorsDurable(cursors, dropped: dropped).map(\.offset) == [0])
    }
}
