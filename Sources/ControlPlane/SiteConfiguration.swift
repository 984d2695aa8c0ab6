import WebhookDomain

/// A site's configuration as `GET|PUT /sites/{site_id}/configuration` and the control topic
/// carry it: durations in seconds (fractions allowed), notifications in the OMS guide's format.
/// Every field is optional (a PUT may give a few); the limits are `Site.validate()`'s, judged on
/// the site these values make (`applied(to:)`).
public struct SiteConfiguration: Codable, Equatable, Sendable {
    public var ackStatuses: [Int]?
    public var ackTimeout: Double?
    public var retryIntervals: [Double]?
    public var retriesUntilFailure: Int?
    public var messageRetention: Double?
    public var maxInFlight: Int?
    public var testMode: Bool?
    public var testEmails: [String]?
    public var testMobiles: [String]?
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

        public init(media: Media, timeType: String?, timeValue: String?) {
            self.media = media
            self.timeType = timeType
            self.timeValue = timeValue
        }

        /// The guide's format is checked as it is read (its limits are `Site.validate()`'s):
        /// only `duration` delays, written as durations.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            media = try container.decode(Media.self, forKey: .media)
            timeType = try container.decodeIfPresent(String.self, forKey: .timeType)
            timeValue = try container.decodeIfPresent(String.self, forKey: .timeValue)
            if let timeType, timeType != "duration" {
                throw DecodingError.dataCorruptedError(forKey: .timeType, in: container, debugDescription: "only duration is supported")
            }
            if let timeValue, DurationText.parse(timeValue) == nil {
                throw DecodingError.dataCorruptedError(forKey: .timeValue, in: container, debugDescription: "expected a duration such as 0s, 500ms, 2m")
            }
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
        case testMobiles = "test_mobiles"
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
        testMobiles = site.testMobiles
        onFailure = Contacts(site.onFailure)
        onDeactivation = Contacts(site.onDeactivation)
        onFailureRecovered = Contacts(site.onFailureRecovered)
        notifications = site.notifications.mapValues { notification in
            NotificationRecord(
                media: .init(webhookTopic: notification.webhookTopics), timeType: "duration", timeValue: "\(notification.delay.seconds)s")
        }
    }

    /// These values applied over a site (the fields given replace the site's), as they are: a
    /// duration out of range stays out of range, for `Site.validate()` to refuse (the API) or
    /// `Site.clamped()` to bound (the control topic's reader).
    public func applied(to site: Site) -> Site {
        var site = site
        if let ackStatuses { site.ackStatuses = Set(ackStatuses) }
        if let ackTimeout { site.ackTimeout = DurationText.secondsKeepingRange(ackTimeout) }
        if let retryIntervals { site.retryIntervals = retryIntervals.map(DurationText.secondsKeepingRange) }
        if let retriesUntilFailure { site.retriesUntilFailure = retriesUntilFailure }
        if let messageRetention { site.messageRetention = DurationText.secondsKeepingRange(messageRetention) }
        if let maxInFlight { site.maxInFlight = maxInFlight }
        if let testMode { site.testMode = testMode }
        if let testEmails { site.testEmails = testEmails }
        if let testMobiles { site.testMobiles = testMobiles }
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

    func applied(to contacts: AlertContacts) -> AlertContacts {
        var contacts = contacts
        if let contactEmails { contacts.contactEmails = contactEmails }
        if let contactMobiles { contacts.contactMobiles = contactMobiles }
        if let emailNotificationName { contacts.emailNotificationName = emailNotificationName }
        if let smsNotificationName { contacts.smsNotificationName = smsNotificationName }
        return contacts
    }
}
