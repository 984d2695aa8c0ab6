extension Int64 {
    /// `self + other`, clamped to `Int64`'s range: for offsets and times that come from a broker
    /// or a record, where an overflow must never trap.
    public func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }
}
