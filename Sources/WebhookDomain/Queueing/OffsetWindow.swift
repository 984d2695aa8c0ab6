import DequeModule

/// Offsets of one partition that are still open, registered in increasing order, closed in any
/// order: `low` is the lowest open offset, the cursor arithmetic of DESIGN.md §7 (what a
/// partition's committed offset or a webhook's cursor may move to).
public struct OffsetWindow: Sendable, Equatable {
    private var open = Deque<Int64>()
    /// Open deliveries per offset (a record may fan out to several messages); 0 = closed but
    /// not yet passed by `low`.
    private var remaining: [Int64: Int] = [:]
    /// One past the highest offset registered.
    public private(set) var next: Int64?

    public init() {}

    public var isEmpty: Bool { open.isEmpty }
    public var openCount: Int { open.count }

    /// Whether `offset` has a delivery still open.
    public func isOpen(_ offset: Int64) -> Bool { (remaining[offset] ?? 0) > 0 }

    /// The lowest open offset; `next` when nothing is open.
    public var low: Int64? { open.first ?? next }

    /// Opens `offset` for `count` deliveries (0: nothing to wait for). Offsets come in order (the
    /// same offset again adds deliveries); one below the last opened is refused (false), and the
    /// window is left as it was: offsets come from a broker, and the caller decides what a step
    /// back means.
    @discardableResult
    public mutating func open(_ offset: Int64, count: Int = 1) -> Bool {
        if let next, offset < next - 1 { return false }
        guard offset < .max else { return false }
        next = max(next ?? offset + 1, offset + 1)
        guard count > 0 else { return true }
        if let existing = remaining[offset], existing > 0 || open.last == offset {
            remaining[offset] = existing + count
        } else {
            open.append(offset)
            remaining[offset] = count
        }
        return true
    }

    /// Closes one delivery of `offset`. Returns the new `low` when it moved.
    @discardableResult
    public mutating func close(_ offset: Int64) -> Int64? {
        guard let count = remaining[offset], count > 0 else { return nil }
        remaining[offset] = count - 1
        guard count == 1, open.first == offset else { return nil }
        while let head = open.first, remaining[head] == 0 {
            open.removeFirst()
            remaining[head] = nil
        }
        // Nothing open: the buffers go. A window that held a message once would otherwise keep
        // them, for every webhook and partition (10,000 webhooks on 8 partitions: docs/benchmarks.md).
        if open.isEmpty { (open, remaining) = (Deque(), [:]) }
        return low
    }
}
