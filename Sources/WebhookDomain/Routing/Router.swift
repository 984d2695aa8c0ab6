/// Places source events: which site, which webhook topics, which body (DESIGN.md §3).
///
/// A value built from the configuration's routes, sites and topic catalog; it does no I/O.
public struct Router: Sendable {
    public enum Outcome: Sendable {
        /// The event was placed (possibly on several topics).
        case routed([RoutedMessage])
        /// The event cannot be placed; it goes to the dead-letter topic with this reason.
        case deadLetter(reason: String)
    }

    private let routesBySource: [String: [Route]]
    private let sites: [String: Site]
    /// Standard and config-added topics, shared by all sites.
    private let sharedTopics: [String: WebhookTopic]

    public init(routes: [Route], sites: [Site], extraTopics: [WebhookTopic] = []) {
        routesBySource = Dictionary(grouping: routes, by: \.source)
        self.sites = Dictionary(sites.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        sharedTopics = Dictionary((WebhookTopic.standard + extraTopics).map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The source topics the routes read.
    public var sourceTopics: [String] { routesBySource.keys.sorted() }

    /// A topic by name as a site sees it: its custom topics first, then the shared catalog.
    public func topic(named name: String, site: String) -> WebhookTopic? {
        sites[site]?.customTopics.first { $0.name == name } ?? sharedTopics[name]
    }

    public func route(_ record: SourceRecord) -> Outcome {
        guard let value = record.value else { return .deadLetter(reason: "tombstone: the record has no value") }
        guard let event = JSONObject(bytes: value) else { return .deadLetter(reason: "not a JSON object") }
        guard let routes = routesBySource[record.topic], !routes.isEmpty else {
            return .deadLetter(reason: "no route for source topic \(record.topic)")
        }
        var messages: [RoutedMessage] = []
        var reasons: [String] = []
        for route in routes {
            switch place(record, event: event, rawValue: value, by: route) {
            case .success(let placed): messages += placed
            case .failure(let failure): reasons.append(failure.reason)
            }
        }
        if messages.isEmpty { return .deadLetter(reason: reasons.joined(separator: "; ")) }
        // One id per (record, webhook topic): the header's own for the first topic (DESIGN.md §4).
        let firstTopic = messages[0].topic.name
        let replaced = MessageID.refusesHeader(of: record)
        for index in messages.indices {
            messages[index].messageID = MessageID.make(for: record, webhookTopic: messages[index].topic.name, firstTopic: firstTopic)
            messages[index].messageIDHeaderReplaced = replaced
        }
        return .routed(messages)
    }

    struct RoutingFailure: Error { let reason: String }

    private func place(_ record: SourceRecord, event: JSONObject, rawValue: [UInt8], by route: Route) -> Result<[RoutedMessage], RoutingFailure> {
        let siteID: String
        switch route.site {
        case .fixed(let id): siteID = id
        case .field(let path):
            guard let id = event.string(at: path) else { return .failure(.init(reason: "site field \(path) missing or not a string")) }
            siteID = id
        }
        guard let site = sites[siteID] else { return .failure(.init(reason: "unknown site \(siteID)")) }

        var targets: [(name: String, delay: Duration)] = []
        switch route.topic {
        case .fixed(let name): targets = [(name, .zero)]
        case .field(let path):
            guard let name = event.string(at: path) else { return .failure(.init(reason: "topic field \(path) missing or not a string")) }
            targets = [(name, .zero)]
        case .notification(let path):
            guard let id = event.string(at: path) else { return .failure(.init(reason: "notification field \(path) missing or not a string")) }
            guard let notification = site.notifications[id] else {
                return .failure(.init(reason: "notification \(id) not configured for site \(siteID)"))
            }
            targets = notification.webhookTopics.map { ($0, notification.delay) }
        }

        var topics: [WebhookTopic] = []
        for target in targets {
            guard let topic = topic(named: target.name, site: siteID) else {
                return .failure(.init(reason: "unknown webhook topic \(target.name) for site \(siteID)"))
            }
            topics.append(topic)
        }

        let payload: [UInt8]
        if let field = route.payloadField {
            guard let bytes = event.objectBytes(at: field) else { return .failure(.init(reason: "payload field \(field) missing or not an object")) }
            payload = bytes
        } else {
            payload = rawValue
        }

        // Ids are set by `route`, which sees every topic the record goes to.
        var messages: [RoutedMessage] = []
        for (topic, target) in zip(topics, targets) {
            var notBefore: Int64?
            if target.delay > .zero {
                // The timestamp is the producer's (or the broker's): clamped, so that neither this
                // sum nor the lane's `notBefore - now` can overflow.
                let base = max(record.timestampMilliseconds ?? 0, 0)
                notBefore = base.clampedAdding(target.delay.milliseconds)
            }
            messages.append(
                RoutedMessage(
                    siteID: siteID, topic: topic, messageID: "",
                    sequence: record.sequence, entity: record.key ?? [], payload: payload, notBeforeMilliseconds: notBefore,
                    sourcePartition: record.partition, sourceOffset: record.offset))
        }
        return .success(messages)
    }
}
