import Foundation
import Testing

@testable import WebhookDomain

/// The one validator of each settings type (`Site.validate()`, `WebhookOptions.validate()`): one
/// test per limit, the path it names, and `clamped()` for what the control topic hands over.
@Suite("Settings validation")
struct SettingsValidationTests {
    static let token = "c404-token-0123456789"

    static func site(_ change: (inout Site) -> Void) -> Site {
        var site = Site(id: "c404", token: Self.token)
        change(&site)
        return site
    }

    static func error(_ site: Site) -> SettingsError? {
        do throws(SettingsError) { try site.validate() } catch { return error }
        return nil
    }

    static func error(_ options: WebhookOptions) -> SettingsError? {
        do throws(SettingsError) { try options.validate() } catch { return error }
        return nil
    }

    static func options(_ change: (inout WebhookOptions) -> Void) -> WebhookOptions {
        var options = WebhookOptions()
        change(&options)
        return options
    }

    @Test("the defaults and the limits themselves are valid")
    func defaultsAndLimits() {
        #expect(Self.error(Site(id: "c404", token: Self.token)) == nil)
        #expect(Self.error(WebhookOptions()) == nil)
        let edges = Self.site {
            $0.ackStatuses = [100, 599]
            $0.ackTimeout = .seconds(60)
            $0.retryIntervals = [.milliseconds(1), DurationText.maxDuration]
            $0.retriesUntilFailure = 2
            $0.messageRetention = .milliseconds(1)
            $0.maxInFlight = 64
            $0.notifications = ["n": WorkflowNotification(webhookTopics: ["t"], delay: .zero)]
        }
        #expect(Self.error(edges) == nil)
        #expect(Self.error(Self.options { $0.maxBatchSize = 30; $0.batchLinger = .seconds(60); $0.maxPending = 10_000 }) == nil)
        #expect(Self.error(Self.options { $0.maxPending = 10_001 }) == SettingsError(path: "options.max_pending", problem: "must be between 1 and 10000, not 10001"))
        #expect(Self.error(Self.options { $0.maxBatchSize = 1; $0.batchLinger = .zero; $0.maxPending = 1 }) == nil)
    }

    @Test("ack_statuses: at least one")
    func ackStatusesEmpty() {
        #expect(Self.error(Self.site { $0.ackStatuses = [] })?.path == "ack_statuses")
    }

    @Test("ack_statuses: HTTP statuses, 100 to 599")
    func ackStatusesRange() {
        #expect(Self.error(Self.site { $0.ackStatuses = [202, 99] }) == SettingsError(path: "ack_statuses", problem: "must be HTTP statuses (100-599), at least one"))
        #expect(Self.error(Self.site { $0.ackStatuses = [600] })?.path == "ack_statuses")
    }

    @Test("ack_timeout: at least 1 ms")
    func ackTimeoutMinimum() {
        #expect(Self.error(Self.site { $0.ackTimeout = .microseconds(999) }) == SettingsError(path: "ack_timeout", problem: "must be from 0.001 to 60 seconds"))
        #expect(Self.error(Self.site { $0.ackTimeout = .zero })?.path == "ack_timeout")
    }

    @Test("ack_timeout: at most 60 s (DESIGN.md §5)")
    func ackTimeoutMaximum() {
        #expect(Self.error(Self.site { $0.ackTimeout = .seconds(60) + .milliseconds(1) })?.path == "ack_timeout")
    }

    @Test("retry_intervals: at least one")
    func retryIntervalsEmpty() {
        #expect(Self.error(Self.site { $0.retryIntervals = [] }) == SettingsError(path: "retry_intervals", problem: "must not be empty"))
    }

    @Test("retry_intervals: each at least 1 ms, named by its index")
    func retryIntervalMinimum() {
        #expect(Self.error(Self.site { $0.retryIntervals = [.seconds(1), .seconds(2), .microseconds(500)] })
            == SettingsError(path: "retry_intervals[2]", problem: "must be from 0.001 to 3153600000 seconds (100 years)"))
        #expect(Self.error(Self.site { $0.retryIntervals = [.seconds(-1)] })?.path == "retry_intervals[0]")
    }

    @Test("retry_intervals: each at most 100 years")
    func retryIntervalMaximum() {
        #expect(Self.error(Self.site { $0.retryIntervals = [.seconds(1), DurationText.maxDuration + .seconds(1)] })?.path == "retry_intervals[1]")
    }

    @Test("retries_until_failure: at least 1")
    func retriesMinimum() {
        #expect(Self.error(Self.site { $0.retriesUntilFailure = 0 })
            == SettingsError(path: "retries_until_failure", problem: "must be between 1 and the number of retry_intervals (6), not 0"))
    }

    @Test("retries_until_failure: at most the number of retry_intervals")
    func retriesMaximum() {
        #expect(Self.error(Self.site { $0.retryIntervals = [.seconds(1), .seconds(2)]; $0.retriesUntilFailure = 3 })
            == SettingsError(path: "retries_until_failure", problem: "must be between 1 and the number of retry_intervals (2), not 3"))
        #expect(Self.error(Self.site { $0.retryIntervals = [.seconds(1), .seconds(2)]; $0.retriesUntilFailure = 2 }) == nil)
    }

    @Test("message_retention: from 1 ms to 100 years")
    func messageRetention() {
        #expect(Self.error(Self.site { $0.messageRetention = .zero })?.path == "message_retention")
        #expect(Self.error(Self.site { $0.messageRetention = DurationText.maxDuration + .seconds(1) })?.path == "message_retention")
    }

    @Test("max_in_flight: at least 1")
    func maxInFlightMinimum() {
        #expect(Self.error(Self.site { $0.maxInFlight = 0 }) == SettingsError(path: "max_in_flight", problem: "must be between 1 and 64, not 0"))
    }

    @Test("max_in_flight: at most 64 (DESIGN.md §6)")
    func maxInFlightMaximum() {
        #expect(Self.error(Self.site { $0.maxInFlight = 65 })?.path == "max_in_flight")
    }

    @Test("notifications: each names at least one topic")
    func notificationTopics() {
        #expect(Self.error(Self.site { $0.notifications = ["a": .init(webhookTopics: ["t"]), "b": .init(webhookTopics: [])] })
            == SettingsError(path: "notifications.b.media.webhook_topic", problem: "must name at least one topic"))
    }

    @Test("notifications: a delay from 0 to 100 years")
    func notificationDelay() {
        #expect(Self.error(Self.site { $0.notifications = ["n": .init(webhookTopics: ["t"], delay: .seconds(-1))] })?.path == "notifications.n.time_value")
        #expect(Self.error(Self.site { $0.notifications = ["n": .init(webhookTopics: ["t"], delay: DurationText.maxDuration + .seconds(1))] })?.path == "notifications.n.time_value")
    }

    @Test("options.max_batch_size: 1 to 30")
    func maxBatchSize() {
        #expect(Self.error(Self.options { $0.maxBatchSize = 31 }) == SettingsError(path: "options.max_batch_size", problem: "must be between 1 and 30, not 31"))
        #expect(Self.error(Self.options { $0.maxBatchSize = 0 })?.path == "options.max_batch_size")
    }

    @Test("options.batch_linger: 0 to 60 s")
    func batchLinger() {
        #expect(Self.error(Self.options { $0.batchLinger = .seconds(61) }) == SettingsError(path: "options.batch_linger", problem: "must be from 0 to 60 seconds"))
        #expect(Self.error(Self.options { $0.batchLinger = .milliseconds(-1) })?.path == "options.batch_linger")
    }

    @Test("options.max_pending: 1 to 10,000")
    func maxPending() {
        #expect(Self.error(Self.options { $0.maxPending = 0 }) == SettingsError(path: "options.max_pending", problem: "must be between 1 and 10000, not 0"))
        #expect(Self.error(Self.options { $0.maxPending = 1_000_001 })?.path == "options.max_pending")
    }

    @Test("options.rate_limit: more than 0, at most 10,000 requests a second; none by default")
    func rateLimit() {
        #expect(WebhookOptions().rateLimit == nil && !WebhookOptions().adaptive)
        for valid in [0.001, 0.5, 20, 10_000] { #expect(Self.error(Self.options { $0.rateLimit = valid }) == nil, "\(valid)") }
        #expect(Self.error(Self.options { $0.rateLimit = 0 }) == SettingsError(path: "options.rate_limit", problem: "must be more than 0 and at most 10000 requests a second, not 0.0"))
        for invalid in [-1, 10_000.5, .infinity, .nan] { #expect(Self.error(Self.options { $0.rateLimit = invalid })?.path == "options.rate_limit", "\(invalid)") }
        let clamped = [-5, 0, 1e9, .nan].map { rate in Self.options { $0.rateLimit = rate }.clamped() }
        #expect(clamped.allSatisfy { Self.error($0) == nil })
        #expect(clamped.map(\.rateLimit) == [.leastNormalMagnitude, .leastNormalMagnitude, 10_000, 10_000])
    }

    @Test("a door puts its path in front: a file's key path, an API field")
    func prefixes() {
        let error = SettingsError(path: "retry_intervals[2]", problem: "p")
        #expect(error.prefixed(by: "sites[0]").description == "sites[0].retry_intervals[2]: p")
        #expect(error.prefixed(by: "").description == "retry_intervals[2]: p")
        #expect(SettingsError(path: "options.max_pending", problem: "p").prefixed(by: "webhook").path == "webhook.options.max_pending")
    }

    @Test("clamped settings are valid, whatever a control record held; valid ones are unchanged")
    func clamped() {
        let wild = Self.site {
            $0.ackStatuses = [1, 1000]
            $0.ackTimeout = .seconds(-5)
            $0.retryIntervals = [.zero, DurationText.maxDuration * 2]
            $0.retriesUntilFailure = .max
            $0.messageRetention = .zero
            $0.maxInFlight = .min
            $0.notifications = ["empty": .init(webhookTopics: []), "late": .init(webhookTopics: ["t"], delay: .seconds(-1))]
        }
        let site = wild.clamped()
        #expect(Self.error(site) == nil)
        #expect(site.ackStatuses == [202])
        #expect(site.retriesUntilFailure == 2)
        #expect(site.maxInFlight == 1)
        #expect(site.notifications.keys.sorted() == ["late"])
        #expect(Self.error(Self.site { $0.retryIntervals = [] }.clamped()) == nil)
        #expect(Site(id: "c404", token: Self.token).clamped() == Site(id: "c404", token: Self.token))

        let options = Self.options { $0.maxBatchSize = .max; $0.batchLinger = .seconds(-1); $0.maxPending = .min }.clamped()
        #expect(Self.error(options) == nil)
        #expect(options.maxBatchSize == 30 && options.batchLinger == .zero && options.maxPending == 1)
        #expect(WebhookOptions().clamped() == WebhookOptions())
    }

    @Test("token: at least 16 characters, never quoted in the problem")
    func tokenLength() {
        #expect(Self.error(Self.site { $0.token = "fifteen-chars.." }) == SettingsError(path: "token", problem: "must be at least 16 characters"))
        #expect(Self.error(Self.site { $0.token = "" })?.path == "token")
        #expect(Self.error(Self.site { $0.token = "sixteen-chars..." }) == nil)
        // The token is the config file's: clamping leaves it alone.
        #expect(Self.site { $0.token = "short" }.clamped().token == "short")
    }

    static func error(_ key: HashKey) -> SettingsError? {
        do throws(SettingsError) { try key.validate() } catch { return error }
        return nil
    }

    @Test("hash keys: a plain key of at least 16 characters, a whsec_ key of at least 24 bytes")
    func hashKeys() {
        #expect(Self.error(HashKey("sixteen-chars...")) == nil)
        #expect(Self.error(HashKey("fifteen-chars..")) == SettingsError(path: "hash_key", problem: "must be at least 16 characters (or whsec_ and the base64 of at least 24 bytes)"))
        // Characters, not bytes: 16 characters of two bytes each pass, 15 of them do not.
        #expect(Self.error(HashKey(String(repeating: "é", count: 16))) == nil)
        #expect(Self.error(HashKey(String(repeating: "é", count: 15))) != nil)
        let bytes24 = "whsec_" + Data(repeating: 1, count: 24).base64EncodedString()
        let bytes23 = "whsec_" + Data(repeating: 1, count: 23).base64EncodedString()
        #expect(Self.error(HashKey(bytes24)) == nil)
        #expect(Self.error(HashKey(bytes23)) == SettingsError(path: "hash_key", problem: "a whsec_ key must decode to at least 24 bytes"))
        // A whsec_ key is base64 or nothing (its text would otherwise sign as UTF-8 bytes).
        #expect(Self.error(HashKey("whsec_this is not base64 at all"))?.problem == "a whsec_ key must be whsec_ followed by base64")
        #expect(Self.error(HashKey.generate()) == nil)
    }

    static func error(_ quotas: Quotas) -> SettingsError? {
        do throws(SettingsError) { try quotas.validate() } catch { return error }
        return nil
    }

    @Test("quotas: 100 by default, each 1 to 100,000; a site at its quota may not add one more")
    func quotas() {
        let defaults = Quotas()
        #expect(defaults.webhooksPerSite == 100 && defaults.customTopicsPerSite == 100)
        #expect(Self.error(defaults) == nil)
        var zero = Quotas()
        zero.webhooksPerSite = 0
        #expect(Self.error(zero) == SettingsError(path: "webhooks_per_site", problem: "must be between 1 and 100000, not 0"))
        var huge = Quotas()
        huge.customTopicsPerSite = 100_001
        #expect(Self.error(huge)?.path == "custom_topics_per_site")
        #expect(defaults.refusal(adding: .webhooks, to: 99, site: "c404") == nil)
        #expect(defaults.refusal(adding: .webhooks, to: 100, site: "c404") == "site c404 is at its quota of webhooks (quotas.webhooks_per_site: 100)")
        #expect(defaults.refusal(adding: .customTopics, to: 100, site: "c404") == "site c404 is at its quota of custom topics (quotas.custom_topics_per_site: 100)")
        #expect(defaults.refusal(adding: .customTopics, to: 0, site: "c404") == nil)
    }

    @Test("seconds handed over as numbers keep out of range values out of range, for the validator to refuse")
    func secondsKeepingRange() {
        #expect(DurationText.secondsKeepingRange(0.25) == .milliseconds(250))
        #expect(DurationText.secondsKeepingRange(-0.5) < .zero)
        #expect(DurationText.secondsKeepingRange(1e300) > DurationText.maxDuration)
        #expect(DurationText.secondsKeepingRange(.nan) < .zero)
    }
}
