import WebhookDomain

extension WebhookLane {
    /// The lane's state of each assigned partition, used like a dictionary.
    ///
    /// Most partitions of most webhooks are quiet: live, nothing unsettled or held, never parked
    /// in this assignment. With 10,000 webhooks on 8 partitions that is nearly all of them, so a
    /// quiet partition is kept as two numbers (its epoch, and the last offset offered, one below
    /// its floor) and becomes a whole `PartitionState` again, with a fresh window, when read.
    /// Storing a state that is quiet again drops the rest (docs/benchmarks.md, memory).
    struct PartitionStates: Sequence {
        typealias Element = (key: SourcePartition, value: PartitionState)

        /// A quiet partition: its floor is one past `lastOffered`; its generation is 0.
        fileprivate struct Quiet {
            var epoch: UInt64
            var lastOffered: Int64

            /// The state it stands for.
            var state: PartitionState { PartitionState(mode: .live, epoch: epoch, floor: lastOffered.clampedAdding(1), lastOffered: lastOffered) }

            /// The state as two numbers, if nothing else in it differs from what they stand for.
            init?(_ state: PartitionState) {
                guard state.mode == .live, state.window.isEmpty, state.held.isEmpty, state.catchUpOutstanding == 0, state.catchUpGeneration == 0,
                    state.floor == state.lastOffered.clampedAdding(1)
                else { return nil }
                (epoch, lastOffered) = (state.epoch, state.lastOffered)
            }
        }

        private var busy: [SourcePartition: PartitionState] = [:]
        private var quiet: [SourcePartition: Quiet] = [:]

        subscript(partition: SourcePartition) -> PartitionState? {
            get { busy[partition] ?? quiet[partition]?.state }
            set {
                if let newValue, let compact = Quiet(newValue) {
                    busy[partition] = nil
                    quiet[partition] = compact
                } else {
                    quiet[partition] = nil
                    busy[partition] = newValue
                }
            }
        }

        /// Takes a partition's state out (so that its window is changed in place, not copied).
        mutating func removeValue(forKey partition: SourcePartition) -> PartitionState? {
            busy.removeValue(forKey: partition) ?? quiet.removeValue(forKey: partition)?.state
        }

        var isEmpty: Bool { busy.isEmpty && quiet.isEmpty }

        /// Whether the partition is kept as two numbers (live, nothing unsettled, no catch-up).
        func isQuiet(_ partition: SourcePartition) -> Bool { quiet[partition] != nil }
        var keys: [SourcePartition] { Array(busy.keys) + Array(quiet.keys) }
        var values: LazyMapSequence<Self, PartitionState> { lazy.map(\.value) }

        func makeIterator() -> Iterator { Iterator(busy: busy.makeIterator(), quiet: quiet.makeIterator()) }

        struct Iterator: IteratorProtocol {
            fileprivate var busy: [SourcePartition: PartitionState].Iterator
            fileprivate var quiet: [SourcePartition: Quiet].Iterator

            mutating func next() -> (key: SourcePartition, value: PartitionState)? {
                if let (partition, state) = busy.next() { return (partition, state) }
                return quiet.next().map { ($0.key, $0.value.state) }
            }
        }
    }
}
