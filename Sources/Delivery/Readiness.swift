import Synchronization

/// Whether the bridge may be called ready (DESIGN.md §3): the consumer has joined its group and
/// holds its assignment with resolved positions, so no event produced from now on is missed.
public final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)

    public init() {}

    public var isReady: Bool { ready.load(ordering: .acquiring) }

    func set(_ value: Bool) { ready.store(value, ordering: .releasing) }
}
