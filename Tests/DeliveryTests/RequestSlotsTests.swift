import Synchronization
import Testing

@testable import Delivery

/// The process-wide request slots (`http.max_concurrent_requests`), with stand-in lanes.
@Suite("Request slots")
struct RequestSlotsTests {
    final class Lane: RequestSlots.Waiter {
        let signals = Atomic<Int>(0)
        func signal() { signals.add(1, ordering: .relaxed) }
        var signalled: Int { signals.load(ordering: .relaxed) }
    }

    @Test("slots are taken up to the cap; a lane beyond it waits in line, once, and is signalled with a slot reserved for it")
    func capAndReservation() {
        let slots = RequestSlots(4)
        let (a, b, c) = (Lane(), Lane(), Lane())
        #expect(slots.tryAcquire(for: a) && slots.tryAcquire(for: a))
        #expect(slots.tryAcquire(for: b) && slots.tryAcquire(for: b))
        #expect(!slots.tryAcquire(for: c))
        #expect(!slots.tryAcquire(for: c), "asking again does not queue it twice")
        #expect(slots.waiting.lanes == 1)
        slots.release(for: a)
        #expect(c.signalled == 1)
        #expect(!slots.tryAcquire(for: a), "the freed slot is reserved for the lane that waited")
        #expect(slots.tryAcquire(for: c))
    }

    @Test("a lane without a runner reserves a free slot for its runner's next request, or waits in line for one")
    func reserveBeforeTheRunnerStarts() {
        let slots = RequestSlots(2)
        let (a, b, c) = (Lane(), Lane(), Lane())
        #expect(slots.reserve(for: a))
        #expect(slots.reserve(for: a), "reserving again keeps the one reservation")
        #expect(slots.tryAcquire(for: b))
        #expect(!slots.reserve(for: c), "both slots are taken: one reserved, one in use")
        #expect(!slots.reserve(for: c), "asking again does not queue it twice")
        #expect(slots.waiting.lanes == 1)
        #expect(slots.tryAcquire(for: a), "the runner takes the reserved slot")
        #expect(!slots.tryAcquire(for: a), "and only that one")
        slots.release(for: b)
        #expect(c.signalled == 1)
        #expect(slots.reserve(for: c), "signalled, it finds its slot reserved")
        #expect(slots.tryAcquire(for: c))
        #expect(!slots.tryAcquire(for: b))
    }

    @Test("one lane holds at most half the slots, even with nobody else waiting yet: a hanging receiver leaves the rest to others")
    func fairShare() {
        let slots = RequestSlots(4)
        let (hog, other) = (Lane(), Lane())
        #expect(slots.tryAcquire(for: hog) && slots.tryAcquire(for: hog))
        #expect(!slots.tryAcquire(for: hog), "at half of four")
        #expect(slots.waiting.lanes == 0, "a lane at its share waits for its own requests, not in line")
        #expect(slots.tryAcquire(for: other) && slots.tryAcquire(for: other))
        slots.release(for: hog)
        #expect(slots.tryAcquire(for: hog), "under its share again")
        let odd = RequestSlots(3)
        #expect(odd.tryAcquire(for: hog) && odd.tryAcquire(for: hog) && !odd.tryAcquire(for: hog), "half of three, rounded up")
        let single = RequestSlots(1)
        #expect(single.tryAcquire(for: hog), "a single slot can still be used")
    }

    @Test("waiters are served in turn: the longest-waiting lane gets the next free slot")
    func inTurn() {
        let slots = RequestSlots(1)
        let (a, b, c) = (Lane(), Lane(), Lane())
        #expect(slots.tryAcquire(for: a))
        #expect(!slots.tryAcquire(for: b))
        #expect(!slots.tryAcquire(for: c))
        slots.release(for: a)
        #expect(b.signalled == 1 && c.signalled == 0)
        #expect(slots.tryAcquire(for: b))
        slots.release(for: b)
        #expect(c.signalled == 1)
    }

    @Test("a lane that no longer needs its reserved slot passes it to the next in line")
    func withdrawPassesOn() {
        let slots = RequestSlots(1)
        let (a, b, c) = (Lane(), Lane(), Lane())
        #expect(slots.tryAcquire(for: a))
        #expect(!slots.tryAcquire(for: b))
        #expect(!slots.tryAcquire(for: c))
        slots.release(for: a)
        slots.withdraw(b)
        #expect(c.signalled == 1)
        #expect(slots.tryAcquire(for: c))
        #expect(!slots.tryAcquire(for: b))
    }

    @Test("a task waiting for a slot (a probe's retry) goes before the lanes")
    func tasksFirst() async {
        let slots = RequestSlots(1)
        let (a, b) = (Lane(), Lane())
        #expect(slots.tryAcquire(for: a))
        #expect(!slots.tryAcquire(for: b))
        async let acquired = slots.acquire()
        // Released once the task is in line (it registers without suspending anything else).
        while slots.waiting.tasks == 0 { await Task.yield() }
        slots.release(for: a)
        #expect(await acquired)
        #expect(b.signalled == 0, "the lane still waits")
        slots.release()
        #expect(b.signalled == 1, "then the lane is served")
    }
}
