import WebhookDomain

/// A site's configuration as `GET|PUT /sites/{site_id}/configuration` and the control topic
/// carry it: durations in seconds (fractions allowed), notifications in the OMS guide's format.
public struct SiteConfiguration: Codable, Equatable, Sendable {
    public var ackStatuses: [Int]?
    public var ackTimeout: Double?
    public var retryIntervals: [Double]?
    public var retriesUntilFailure: Int?
    public var messageRetention: Double?
    public var maxInFlight: Int?
    public var testMode: Bool?
    public var testEmails: [String]?
    public var onFailure: Contacts?
    public var onDeactivation: Contacts?
    public var onFailureRecovered: Contacts?
    public var notifications: [String: NotificationRecord]?

    public struct Contacts: Codable, Equatable, Sendable {
        public var contactEmails: [String]?
        public var contactMobiles: [String]?
        public var emailNotificationName: String?
        public var smsNotificationName: String?

        enum CodingKeys: String, CodingKey {
            case contactEmails = "contact_emails"
            case contactMobiles = "contact_mobiles"
            case emailNotificationName = "email_notification_name"
            case smsNotificationName = "sms_notification_name"
        }
    }

    public struct NotificationRecord: Codable, Equatable, Sendable {
        public struct Media: Codable, Equatable, Sendable {
            public var webhookTopic: [String]
            enum CodingKeys: String, CodingKey { case webhookTopic = "webhook_topic" }
        }
        public var media: Media
        public var timeType: String?
        public var timeValue: String?

        enum CodingKeys: String, CodingKey {
            case media
            case timeType = "time_type"
            case timeValue = "time_value"
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case ackStatuses = "ack_statuses"
        case ackTimeout = "ack_timeout"
        case retryIntervals = "retry_intervals"
        case retriesUntilFailure = "retries_until_failure"
        case messageRetention = "message_retention"
        case maxInFlight = "max_in_flight"
        case testMode = "test_mode"
        case testEmails = "test_emails"
        case onFailure = "on_failure"
        case onDeactivation = "on_deactivation"
        case onFailureRecovered = "on_failure_recovered"
        case notifications
    }

    public init() {}

    /// The configuration of a site, every field given.
    public init(_ site: Site) {
        ackStatuses = site.ackStatuses.sorted()
        ackTimeout = site.ackTimeout.seconds
        retryIntervals = site.retryIntervals.map(\.seconds)
        retriesUntilFailure = site.retriesUntilFailure
        messageRetention = site.messageRetention.seconds
        maxInFlight = site.maxInFlight
        testMode = site.testMode
        testEmails = site.testEmails
        onFailure = Contacts(site.onFailure)
        onDeactivation = Contacts(site.onDeactivation)
        onFailureRecovered = Contacts(site.onFailureRecovered)
        notifications = site.notifications.mapValues { notification in
            NotificationRecord(
                media: .init(webhookTopic: notification.webhookTopics), timeType: "duration", timeValue: "\(notification.delay.seconds)s")
        }
    }

    /// Durations from 1 ms to 100 years: a shorter one would round to nothing, a longer one overflow.
    static func valid(_ seconds: Double) -> Bool { seconds >= 0.001 && seconds <= DurationText.maxSeconds }
    static let range = "must be a number of seconds from 0.001 to 3153600000"

    /// The problem with these values, naming the field, if any.
    public var problem: (field: String, message: String)? {
        if let ackStatuses, ackStatuses.isEmpty || ackStatuses.contains(where: { !(100...599).contains($0) }) {
            return ("ack_statuses", "must be HTTP statuses (100-599), at least one")
        }
        if let ackTimeout, !Self.valid(ackTimeout) { return ("ack_timeout", Self.range) }
        if let retryIntervals, retryIntervals.isEmpty || retryIntervals.contains(where: { !Self.valid($0) }) {
            return ("retry_intervals", "at least one, each from 0.001 to 3153600000 seconds")
        }
        let intervals = retryIntervals?.count ?? 6
        if let retriesUntilFailure, !(1...intervals).contains(retriesUntilFailure) {
            return ("retries_until_failure", "must be between 1 and the number of retry_intervals (\(intervals)), not \(retriesUntilFailure)")
        }
        if let messageRetention, !Self.valid(messageRetention) { return ("message_retention", Self.range) }
        if let maxInFlight, !(1...1_000).contains(maxInFlight) { return ("max_in_flight", "must be between 1 and 1000") }
        for (name, notification) in notifications ?? [:] {
            if notification.media.webhookTopic.isEmpty { return ("notifications.\(name).media.webhook_topic", "must name at least one topic") }
            if let type = notification.timeType, type != "duration" { return ("notifications.\(name).time_type", "only duration is supported") }
            if let value = notification.timeValue, DurationText.parse(value) == nil {
                return ("notifications.\(name).time_value", "expected a duration such as 0s, 500ms, 2m")
            }
        }
        return nil
    }

    /// These values over `base` (the fields given replace its; alert contacts field by field):
    /// what a site's configuration becomes, to be validated as a whole before it is stored, so a
    /// field given alone is checked against the stored ones (DESIGN.md §5).
    public func merged(over base: SiteConfiguration) -> SiteConfiguration {
        var merged = base
        if let ackStatuses { merged.ackStatuses = ackStatuses }
        if let ackTimeout { merged.ackTimeout = ackTimeout }
        if let retryIntervals { merged.retryIntervals = retryIntervals }
        if let retriesUntilFailure { merged.retriesUntilFailure = retriesUntilFailure }
        if let messageRetention { merged.messageRetention = messageRetention }
        if let maxInFlight { merged.maxInFlight = maxInFlight }
        if let testMode { merged.testMode = testMode }
        if let testEmails { merged.testEmails = testEmails }
        if let onFailure { merged.onFailure = onFailure.merged(over: base.onFailure) }
        if let onDeactivation { merged.onDeactivation = onDeactivation.merged(over: base.onDeactivation) }
        if let onFailureRecovered { merged.onFailureRecovered = onFailureRecovered.merged(over: base.onFailureRecovered) }
        if let notifications { merged.notifications = notifications }
        return merged
    }

    /// These values applied over a site (the fields given replace the site's).
    public func applied(to site: Site) -> Site {
        var site = site
        if let ackStatuses { site.ackStatuses = Set(ackStatuses) }
        if let ackTimeout { site.ackTimeout = DurationText.seconds(ackTimeout) }
        if let retryIntervals { site.retryIntervals = retryIntervals.map(DurationText.seconds) }
        if let retriesUntilFailure { site.retriesUntilFailure = retriesUntilFailure }
        if let messageRetention { site.messageRetention = DurationText.seconds(messageRetention) }
        if let maxInFlight { site.maxInFlight = maxInFlight }
        if let testMode { site.testMode = testMode }
        if let testEmails { site.testEmails = testEmails }
        if let onFailure { site.onFailure = onFailure.applied(to: site.onFailure) }
        if let onDeactivation { site.onDeactivation = onDeactivation.applied(to: site.onDeactivation) }
        if let onFailureRecovered { site.onFailureRecovered = onFailureRecovered.applied(to: site.onFailureRecovered) }
        if let notifications {
            site.notifications = notifications.mapValues {
                WorkflowNotification(webhookTopics: $0.media.webhookTopic, delay: $0.timeValue.flatMap(DurationText.parse) ?? .zero)
            }
        }
        return site
    }
}

extension SiteConfiguration.Contacts {
    init(_ contacts: AlertContacts) {
        contactEmails = contacts.contactEmails
        contactMobiles = contacts.contactMobiles
        emailNotificationName = contacts.emailNotificationName
        smsNotificationName = contacts.smsNotificationName
    }

    func merged(over base: Self?) -> Self {
        var merged = base ?? Self()
        if let contactEmails { merged.contactEmails = contactEmails }
        if let contactMobiles { merged.contactMobiles = contactMobiles }
        if let emailNotificationName { merged.emailNotificationName = emailNotificationName }
        if let smsNotificationName { merged.smsNotificationName = smsNotificationName }
        return merged
    }

    func applied(to contacts: AlertContacts) -> AlertContacts {
        var contacts = contacts
        if let contactEmails { contacts.contactEmails = contactEmails }
        if let contactMobiles { contacts.contactMobiles = contactMobiles }
        if let emailNotificationName { contacts.emailNotificationName = emailNotificationName }
        if let smsNotificationName { contacts.smsNotificationName = smsNotificationName }
        return contacts
    }
}
