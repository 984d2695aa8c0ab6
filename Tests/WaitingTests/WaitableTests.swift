import Testing
import Waiting

@Suite struct WaitableTests {
    /// Waits, without sleeping, until `count` tasks are registered as waiters.
    private func waitersRegistered<Value>(_ waitable: Waitable<Value>, _ count: Int) async {
        while waitable.waiting < count { await Task.yield() }
    }

    @Test func conditionAlreadyTrueReturnsAtOnce() async {
        let waitable = Waitable(5)
        #expect(await waitable.wait(until: { $0 == 5 }))
        #expect(waitable.waiting == 0)
    }

    @Test func changeResumesTheWaiter() async {
        let waitable = Waitable(0)
        async let woken = waitable.wait(until: { $0 >= 3 })
        await waitersRegistered(waitable, 1)
        waitable.withLock { $0 = 2 }
        #expect(waitable.waiting == 1, "a change that does not satisfy the condition leaves the waiter waiting")
        waitable.withLock { $0 = 3 }
        #expect(await woken)
        #expect(waitable.waiting == 0)
    }

    /// Takes are atomic and served in the order the waiters came: each token goes to exactly one
    /// waiter, the first waiter first.
    @Test func takesAreServedInArrivalOrder() async {
        let waitable = Waitable<[Int]>([])
        let takers = Waitable<[Int]>([])
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<3 {
                group.addTask {
                    let token = await waitable.wait { tokens in tokens.isEmpty ? nil : tokens.removeFirst() }
                    takers.withLock { $0.append(index * 100 + (token ?? -1)) }
                }
                await waitersRegistered(waitable, index + 1)
            }
            for token in 1...3 {
                waitable.withLock { $0.append(token) }
                await takers.wait(until: { $0.count == token })
            }
        }
        #expect(takers.value == [1, 102, 203])
        #expect(waitable.value.isEmpty)
    }

    @Test func cancellationEndsTheWaitAndUnregisters() async {
        let waitable = Waitable(false)
        let task = Task { await waitable.wait { $0 ? 1 : nil } }
        await waitersRegistered(waitable, 1)
        task.cancel()
        #expect(await task.value == nil)
        #expect(waitable.waiting == 0)
        waitable.withLock { $0 = true }
        #expect(waitable.waiting == 0)
    }

    @Test func cancelledBeforeWaitingDoesNotRegister() async {
        let waitable = Waitable(false)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await waitable.wait(until: { $0 })
        }
        #expect(await task.value == false)
        #expect(waitable.waiting == 0)
    }

    @Test func timeoutGivesUpWhenTheConditionNeverHolds() async {
        let waitable = Waitable(0)
        #expect(await waitable.wait(until: { $0 > 0 }, timeout: .milliseconds(50)) == false)
        #expect(waitable.waiting == 0)
    }

    @Test func timeoutIsNotWaitedOutWhenTheConditionHolds() async {
        let waitable = Waitable(0)
        let clock = ContinuousClock()
        let started = clock.now
        async let held = waitable.wait(until: { $0 > 0 }, timeout: .seconds(600))
        await waitersRegistered(waitable, 1)
        waitable.withLock { $0 = 1 }
        #expect(await held)
        #expect(clock.now - started < .seconds(60), "woken by the change, not by the timeout")
    }
}
