/// The one validator of a site's settings (DESIGN.md §5, §6, §9), called from every door: the
/// config loader, `PUT /sites/{id}/configuration`, and the control topic's reader (which clamps
/// with `clamped()` instead of refusing, see docs/decisions.md).
extension Site {
    /// The limits of each setting; `validate()` refuses a value outside them and `clamped()`
    /// moves it to the nearest one.
    public enum Limits {
        public static let ackStatuses = 100...599
        /// DESIGN.md §5: the ack timeout is at most 60 s.
        public static let ackTimeout = Duration.milliseconds(1)...Duration.seconds(60)
        /// Retry intervals and message retention: from 1 ms (a shorter one rounds to nothing) to
        /// 100 years (a longer one would overflow a nanosecond count).
        public static let duration = Duration.milliseconds(1)...DurationText.maxDuration
        /// DESIGN.md §6: at least 20 supported, at most 64.
        public static let maxInFlight = 1...64
        /// A notification's delay (`time_value`): none, up to 100 years.
        public static let delay = Duration.zero...DurationText.maxDuration
        /// DESIGN.md §10: a site's API token has at least this many characters.
        public static let minimumTokenCharacters = 16
    }

    /// Throws the first setting outside its limits, naming its field as the config file and the
    /// API spell it.
    public func validate() throws(SettingsError) {
        // Tokens come only from the config file (never the API or the control topic); the
        // problem never quotes the token.
        if token.count < Limits.minimumTokenCharacters {
            throw SettingsError(path: "token", problem: "must be at least \(Limits.minimumTokenCharacters) characters")
        }
        if ackStatuses.isEmpty || ackStatuses.contains(where: { !Limits.ackStatuses.contains($0) }) {
            throw SettingsError(path: "ack_statuses", problem: "must be HTTP statuses (100-599), at least one")
        }
        if !Limits.ackTimeout.contains(ackTimeout) {
            throw SettingsError(path: "ack_timeout", problem: "must be from 0.001 to 60 seconds")
        }
        if retryIntervals.isEmpty { throw SettingsError(path: "retry_intervals", problem: "must not be empty") }
        for (index, interval) in retryIntervals.enumerated() where !Limits.duration.contains(interval) {
            throw SettingsError(path: "retry_intervals[\(index)]", problem: Self.durationProblem)
        }
        if !(1...retryIntervals.count).contains(retriesUntilFailure) {
            throw SettingsError(
                path: "retries_until_failure",
                problem: "must be between 1 and the number of retry_intervals (\(retryIntervals.count)), not \(retriesUntilFailure)")
        }
        if !Limits.duration.contains(messageRetention) {
            throw SettingsError(path: "message_retention", problem: Self.durationProblem)
        }
        if !Limits.maxInFlight.contains(maxInFlight) {
            throw SettingsError(path: "max_in_flight", problem: "must be between 1 and 64, not \(maxInFlight)")
        }
        try Mailbox.validate(testEmails, path: "test_emails")
        try MobileNumber.validate(testMobiles, path: "test_mobiles")
        for (key, contacts) in [("on_failure", onFailure), ("on_deactivation", onDeactivation), ("on_failure_recovered", onFailureRecovered)] {
            try Mailbox.validate(contacts.contactEmails, path: "\(key).contact_emails")
            try MobileNumber.validate(contacts.contactMobiles, path: "\(key).contact_mobiles")
        }
        for name in notifications.keys.sorted() {
            let notification = notifications[name]!
            if notification.webhookTopics.isEmpty {
                throw SettingsError(path: "notifications.\(name).media.webhook_topic", problem: "must name at least one topic")
            }
            if !Limits.delay.contains(notification.delay) {
                throw SettingsError(path: "notifications.\(name).time_value", problem: "must be from 0 to 3153600000 seconds (100 years)")
            }
        }
    }

    /// These settings moved into their limits: a value below a limit takes the limit, an empty
    /// list its default, a notification with no topic is dropped. For records read from the
    /// control topic, which no door checked (`clamped().validate()` never throws for a site
    /// whose token, the config file's and never in a record, passed).
    public func clamped() -> Site {
        var site = self
        let defaults = Site(id: id, token: token)
        site.ackStatuses = ackStatuses.filter { Limits.ackStatuses.contains($0) }
        if site.ackStatuses.isEmpty { site.ackStatuses = defaults.ackStatuses }
        site.ackTimeout = ackTimeout.clamped(to: Limits.ackTimeout)
        site.retryIntervals = retryIntervals.isEmpty ? defaults.retryIntervals : retryIntervals.map { $0.clamped(to: Limits.duration) }
        site.retriesUntilFailure = retriesUntilFailure.clamped(to: 1...site.retryIntervals.count)
        site.messageRetention = messageRetention.clamped(to: Limits.duration)
        site.maxInFlight = maxInFlight.clamped(to: Limits.maxInFlight)
        site.testEmails = Array(testEmails.filter(Mailbox.isValid).prefix(Mailbox.maxPerList))
        site.onFailure.contactEmails = Array(onFailure.contactEmails.filter(Mailbox.isValid).prefix(Mailbox.maxPerList))
        site.onDeactivation.contactEmails = Array(onDeactivation.contactEmails.filter(Mailbox.isValid).prefix(Mailbox.maxPerList))
        site.onFailureRecovered.contactEmails = Array(onFailureRecovered.contactEmails.filter(Mailbox.isValid).prefix(Mailbox.maxPerList))
        site.testMobiles = MobileNumber.clamped(testMobiles)
        site.onFailure.contactMobiles = MobileNumber.clamped(onFailure.contactMobiles)
        site.onDeactivation.contactMobiles = MobileNumber.clamped(onDeactivation.contactMobiles)
        site.onFailureRecovered.contactMobiles = MobileNumber.clamped(onFailureRecovered.contactMobiles)
        site.notifications = notifications.filter { !$0.value.webhookTopics.isEmpty }.mapValues { notification in
            var notification = notification
            notification.delay = notification.delay.clamped(to: Limits.delay)
            return notification
        }
        return site
    }

    static let durationProblem = "must be from 0.001 to 3153600000 seconds (100 years)"
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
