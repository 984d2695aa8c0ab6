import Synchronization

/// Whether the bridge may be called ready (DESIGN.md §3), as a value: ready once the control view
/// is loaded and the consumer's first assignment is settled with durable start positions, so no
/// event produced from then on is missed; not ready again while the consumer has lost its
/// brokers or its assignment for longer than the session timeout; not ready once stopping.
public struct ReadinessState: Equatable, Sendable {
    public private(set) var settled = false
    public private(set) var stopping = false
    /// Since when the consumer has been without brokers or assignment (monotonic time).
    public private(set) var unhealthySince: ContinuousClock.Instant?
    /// How long the consumer may be unhealthy before readiness goes (the session timeout).
    public let grace: Duration

    public init(grace: Duration) { self.grace = grace }

    /// The first assignment is handled and its start positions are committed.
    public mutating func assignmentSettled() { settled = true }

    public mutating func stop() { stopping = true }

    /// A health check's result at `now`.
    public mutating func observe(healthy: Bool, at now: ContinuousClock.Instant) {
        if healthy {
            unhealthySince = nil
        } else if unhealthySince == nil {
            unhealthySince = now
        }
    }

    public func isReady(at now: ContinuousClock.Instant) -> Bool {
        guard settled, !stopping else { return false }
        guard let since = unhealthySince else { return true }
        return now - since <= grace
    }
}

/// The engine's readiness, read by `/ready` and the metrics; logs each change.
public final class Readiness: Sendable {
    private let state: Mutex<(value: ReadinessState, reported: Bool)>
    private let onChange: @Sendable (Bool) -> Void

    init(grace: Duration, onChange: @escaping @Sendable (Bool) -> Void) {
        state = Mutex((ReadinessState(grace: grace), false))
        self.onChange = onChange
    }

    public var isReady: Bool { state.withLock { $0.value.isReady(at: .now) } }

    func update(_ change: (inout ReadinessState) -> Void) {
        let changed: Bool? = state.withLock { state in
            change(&state.value)
            let ready = state.value.isReady(at: .now)
            guard ready != state.reported else { return nil }
            state.reported = ready
            return ready
        }
        if let changed { onChange(changed) }
    }
}
