import WebhookDomain

extension WebhookLane {
    /// The lane's state of each assigned partition, used like a dictionary.
    ///
    /// Most partitions of most webhooks are quiet: live, nothing unsettled or held, never parked
    /// in this assignment. With 10,000 webhooks on 8 partitions that is nearly all of them, so a
    /// quiet partition is kept as two numbers (its epoch, and the last offset offered, one below
    /// its floor) and becomes a whole `PartitionState` again, with a fresh window, when read.
    /// Storing a state that is quiet again drops the rest. The quiet ones are a sorted array, not
    /// a dictionary: 8 partitions took 712 bytes in a dictionary's buckets, 352 in an array
    /// (docs/benchmarks.md, memory).
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
        /// Sorted by topic, then partition.
        private var quiet: [(partition: SourcePartition, state: Quiet)] = []

        subscript(partition: SourcePartition) -> PartitionState? {
            get { busy[partition] ?? quietIndex(partition).map { quiet[$0].state.state } }
            set {
                let found = quietIndex(partition)
                if let newValue, let compact = Quiet(newValue) {
                    busy[partition] = nil
                    if let found { quiet[found].state = compact } else { quiet.insert((partition, compact), at: insertionIndex(partition)) }
                } else {
                    if let found { quiet.remove(at: found) }
                    busy[partition] = newValue
                }
            }
        }

        /// Takes a partition's state out (so that its window is changed in place, not copied).
        mutating func removeValue(forKey partition: SourcePartition) -> PartitionState? {
            busy.removeValue(forKey: partition) ?? quietIndex(partition).map { quiet.remove(at: $0).state.state }
        }

        var isEmpty: Bool { busy.isEmpty && quiet.isEmpty }

        /// Whether the partition is kept as two numbers (live, nothing unsettled, no catch-up).
        func isQuiet(_ partition: SourcePartition) -> Bool { quietIndex(partition) != nil }
        var keys: [SourcePartition] { Array(busy.keys) + quiet.map(\.partition) }
        var values: LazyMapSequence<Self, PartitionState> { lazy.map(\.value) }

        func makeIterator() -> Iterator { Iterator(busy: busy.makeIterator(), quiet: quiet.makeIterator()) }

        struct Iterator: IteratorProtocol {
            fileprivate var busy: [SourcePartition: PartitionState].Iterator
            fileprivate var quiet: IndexingIterator<[(partition: SourcePartition, state: Quiet)]>

            mutating func next() -> (key: SourcePartition, value: PartitionState)? {
                if let (partition, state) = busy.next() { return (partition, state) }
                return quiet.next().map { ($0.partition, $0.state.state) }
            }
        }

        private func quietIndex(_ partition: SourcePartition) -> Int? {
            let index = insertionIndex(partition)
            return index < quiet.count && quiet[index].partition == partition ? index : nil
        }

        /// The first index whose partition is not ordered before `partition` (binary search).
        private func insertionIndex(_ partition: SourcePartition) -> Int {
            var (low, high) = (0, quiet.count)
            while low < high {
                let middle = (low + high) / 2
                let candidate = quiet[middle].partition
                if (candidate.topic, candidate.partition) < (partition.topic, partition.partition) { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }
}
