extension FixedWidthInteger {
    /// `self + other`, or the nearest bound instead of trapping on overflow: for arithmetic on
    /// values from outside (record timestamps and offsets, control-topic and API fields) that no
    /// check has bounded.
    public func clampedAdding(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, or the nearest bound instead of trapping on overflow.
    public func clampedSubtracting(_ other: Self) -> Self {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : difference
    }
}
