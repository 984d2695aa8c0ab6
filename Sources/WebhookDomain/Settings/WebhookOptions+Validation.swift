/// The one validator of a webhook's options (DESIGN.md §6, §9), called from every door: the
/// config loader, the admin API, and the control topic's reader (which clamps with `clamped()`
/// instead of refusing, see docs/decisions.md). Paths start at the webhook (`options.…`): the
/// options are its `options` field in the file, the API and the control topic alike.
extension WebhookOptions {
    public enum Limits {
        /// DESIGN.md §4 and §6: a batch carries at most 30 messages.
        public static let maxBatchSize = 1...WebhookOptions.maxBatchSizeLimit
        /// Waiting for a fuller batch: none, up to a minute.
        public static let batchLinger = Duration.zero...Duration.seconds(60)
        public static let maxPending = 1...10_000
        /// Requests a second: more than 0, at most this.
        public static let maxRateLimit = 10_000.0
    }

    /// Throws the first option outside its limits.
    public func validate() throws(SettingsError) {
        if !Limits.maxBatchSize.contains(maxBatchSize) {
            throw SettingsError(path: "options.max_batch_size", problem: "must be between 1 and \(Limits.maxBatchSize.upperBound), not \(maxBatchSize)")
        }
        if !Limits.batchLinger.contains(batchLinger) {
            throw SettingsError(path: "options.batch_linger", problem: "must be from 0 to 60 seconds")
        }
        if !Limits.maxPending.contains(maxPending) {
            throw SettingsError(path: "options.max_pending", problem: "must be between 1 and \(Limits.maxPending.upperBound), not \(maxPending)")
        }
        if let rateLimit, !(rateLimit > 0 && rateLimit <= Limits.maxRateLimit) {
            throw SettingsError(path: "options.rate_limit", problem: "must be more than 0 and at most 10000 requests a second, not \(rateLimit)")
        }
    }

    /// These options moved into their limits (`clamped().validate()` never throws): a
    /// `max_pending` of Int.min read from the control topic would otherwise trap in the lane.
    public func clamped() -> WebhookOptions {
        var options = self
        options.maxBatchSize = maxBatchSize.clamped(to: Limits.maxBatchSize)
        options.batchLinger = batchLinger.clamped(to: Limits.batchLinger)
        options.maxPending = maxPending.clamped(to: Limits.maxPending)
        // NaN is no rate a record can hold (JSON has none), but it would fail the bucket's arithmetic.
        options.rateLimit = rateLimit.map { $0.isNaN ? Limits.maxRateLimit : min(max($0, .leastNormalMagnitude), Limits.maxRateLimit) }
        return options
    }
}
