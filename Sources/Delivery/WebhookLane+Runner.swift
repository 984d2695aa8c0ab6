extension WebhookLane {
    /// Whether a task runs the lane's work (`WebhookLane.run()`), decided under the lane's lock.
    ///
    /// A lane has a runner only while it has something to do or something under way (requests,
    /// a parking, catch-ups, a probe retry, a timer): a wake that finds it idle with work to do
    /// starts one, and the runner ends once nothing it started is left and nothing woke it since
    /// it last looked. With 10,000 webhooks, the idle ones hold no task (docs/benchmarks.md).
    struct Runner: Equatable {
        /// A runner was started and has not ended.
        var active = false
        /// Something changed since the runner last looked at the state machine.
        var woken = false
        /// Tasks the runner started that have not ended.
        var tasks = 0
        /// The runner started the stop's wait for requests in flight.
        var graceStarted = false
    }

    /// What a wake does.
    enum Wake: Equatable {
        /// No runner was active and there is work: the caller starts one.
        case startRunner
        /// The active runner looks again.
        case runnerLooks
        /// Nothing to do (idle, or stopping with no runner): no slot is needed either.
        case idle
        /// Requests to start and no slot for them: no runner until `RequestSlots` reserves one
        /// for the lane and signals it. With 10,000 webhooks given records at once, a runner per
        /// lane that only found no slot and ended was thousands of tasks alive together
        /// (docs/benchmarks.md, memory).
        case waitsForSlot
    }

    /// What the runner does next.
    enum RunnerStep: Equatable {
        /// Look at the state machine (`nextWork`, or the stop's grace).
        case look
        /// Nothing it started is left and nothing woke it: the runner ends.
        case end
    }
}

extension WebhookLane.StateMachine {
    /// Whether `nextWork` could start anything now (false guarantees it starts nothing).
    var hasWork: Bool {
        !stopping && (parkRequested || !catchUpsToStart.isEmpty || probeRetryDue || !queue.isEmpty)
    }

    /// The probe's retry is to be started: paused by a failure, this instance owns the probe's
    /// partition, and no retry runs yet.
    var probeRetryDue: Bool { status.status == .paused && status.pause == .auto && !retryScheduled && ownsProbe }

    /// Something changed that may give the lane work. With no runner active and requests its
    /// only work, `reserveSlot` is asked for a request slot first (false: the lane waits in line).
    mutating func wake(reserveSlot: () -> Bool = { true }) -> WebhookLane.Wake {
        if runner.active {
            runner.woken = true
            return .runnerLooks
        }
        guard hasWork else { return .idle }
        let onlyRequests = !parkRequested && catchUpsToStart.isEmpty && !probeRetryDue
        if onlyRequests, !reserveSlot() { return .waitsForSlot }
        runner = WebhookLane.Runner(active: true, woken: true)
        return .startRunner
    }

    /// The runner's next step, or nil to wait for a wake or for a task of its to end.
    mutating func runnerStep() -> WebhookLane.RunnerStep? {
        if runner.woken {
            runner.woken = false
            return .look
        }
        guard runner.tasks == 0 else { return nil }
        runner.active = false
        return .end
    }

    /// Stopping: the stop's wait for requests in flight, once per runner (nil when started).
    mutating func startGrace() -> Duration? {
        guard stopping, !runner.graceStarted else { return nil }
        runner.graceStarted = true
        runner.tasks += 1
        return min(site.ackTimeout, WebhookLane.requestGrace)
    }
}
