import Foundation
import Synchronization

/// Places source events: which site, which webhook topics, which body (DESIGN.md §3).
///
/// A value built from the configuration's routes, sites and topic catalog; it does no I/O.
public struct Router: Sendable {
    public enum Outcome: Sendable {
        /// The event was placed (possibly on several topics).
        case routed([RoutedMessage])
        /// The event cannot be placed; it goes to the dead-letter topic with this reason.
        case deadLetter(reason: String)
        /// The record is not an event to deliver (a Debezium delete or tombstone): counted, settled.
        case skipped(reason: String)
    }

    private let routesBySource: [String: [Route]]
    /// Routes whose source is a pattern, and the routes each topic seen so far matched.
    private let patterns: PatternRoutes
    let sites: [String: Site]
    /// Standard and config-added topics, shared by all sites.
    private let sharedTopics: [String: WebhookTopic]
    /// Whether some route reads Avro values (which are decoded before routing).
    public let decodesAvro: Bool

    public init(routes: [Route], sites: [Site], extraTopics: [WebhookTopic] = []) {
        decodesAvro = routes.contains { $0.format == .avro }
        routesBySource = Dictionary(grouping: routes.filter { !$0.isPattern }, by: \.source)
        patterns = PatternRoutes(routes.filter(\.isPattern))
        self.sites = Dictionary(sites.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        sharedTopics = Dictionary((WebhookTopic.standard + extraTopics).map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// What the consumer subscribes to: the routes' topics, and their patterns (`^…`).
    public var sourceTopics: [String] { (Array(routesBySource.keys) + patterns.sources).sorted() }

    /// A topic by name as a site sees it: its custom topics first, then the shared catalog.
    public func topic(named name: String, site: String) -> WebhookTopic? {
        sites[site]?.customTopics.first { $0.name == name } ?? sharedTopics[name]
    }

    /// The routes a record of `topic` follows: those naming it, then those whose pattern matches it.
    public func routes(for topic: String) -> [Route] {
        let named = routesBySource[topic] ?? []
        return patterns.isEmpty ? named : named + patterns.routes(matching: topic)
    }

    public func route(_ record: SourceRecord) -> Outcome {
        let routes = routes(for: record.topic)
        guard !routes.isEmpty else { return .deadLetter(reason: "no route for source topic \(record.topic)") }
        var messages: [RoutedMessage] = []
        var reasons: [String] = []
        var skipped: [String] = []
        var events = EventCache(record: record)
        for route in routes {
            let placed = events.event(for: route).flatMap { event in place(record, event: event.object, rawValue: event.bytes, by: route) }
            switch placed {
            case .placed(let placed): messages += placed
            case .failed(let reason): reasons.append(reason)
            case .skipped(let reason): skipped.append(reason)
            }
        }
        if messages.isEmpty {
            return reasons.isEmpty ? .skipped(reason: skipped[0]) : .deadLetter(reason: reasons.joined(separator: "; "))
        }
        // One id per (record, webhook topic): the header's own for the first topic (DESIGN.md §4).
        let firstTopic = messages[0].topic.name
        let replaced = MessageID.refusesHeader(of: record)
        let trace = TraceContext(traceParent: record.header("traceparent"), traceState: record.header("tracestate"))
        for index in messages.indices {
            messages[index].messageID = MessageID.make(for: record, webhookTopic: messages[index].topic.name, firstTopic: firstTopic)
            messages[index].messageIDHeaderReplaced = replaced
            messages[index].traceContext = trace
            messages[index].timestampMilliseconds = record.timestampMilliseconds
        }
        return .routed(messages)
    }

    /// What one route made of a record.
    enum Placement<Value> {
        case placed(Value)
        case failed(String)
        case skipped(String)

        func flatMap<Other>(_ transform: (Value) -> Placement<Other>) -> Placement<Other> {
            switch self {
            case .placed(let value): transform(value)
            case .failed(let reason): .failed(reason)
            case .skipped(let reason): .skipped(reason)
            }
        }
    }

    func place(_ record: SourceRecord, event: JSONObject, rawValue: [UInt8], by route: Route) -> Placement<[RoutedMessage]> {
        let siteID: String
        switch route.site {
        case .fixed(let id): siteID = id
        case .field(let path):
            guard let id = event.string(at: path) else { return .failed("site field \(path) missing or not a string") }
            siteID = id
        case .header(let name):
            guard let id = record.header(name) else { return .failed("site header \(name) missing or not UTF-8") }
            siteID = id
        }
        guard let site = sites[siteID] else { return .failed("unknown site \(siteID)") }

        var targets: [(name: String, delay: Duration)] = []
        switch route.topic {
        case .fixed(let name): targets = [(name, .zero)]
        case .field(let path):
            guard let name = event.string(at: path) else { return .failed("topic field \(path) missing or not a string") }
            targets = [(name, .zero)]
        case .notification(let path):
            guard let id = event.string(at: path) else { return .failed("notification field \(path) missing or not a string") }
            guard let notification = site.notifications[id] else {
                return .failed("notification \(id) not configured for site \(siteID)")
            }
            targets = notification.webhookTopics.map { ($0, notification.delay) }
        case .header(let name):
            guard let topic = record.header(name) else { return .failed("topic header \(name) missing or not UTF-8") }
            targets = [(topic, .zero)]
        }

        var topics: [WebhookTopic] = []
        for target in targets {
            guard let topic = topic(named: target.name, site: siteID) else {
                return .failed("unknown webhook topic \(target.name) for site \(siteID)")
            }
            topics.append(topic)
        }

        let payload: [UInt8]
        if let field = route.payloadField {
            guard let bytes = event.objectBytes(at: field) else { return .failed("payload field \(field) missing or not an object") }
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
        return .placed(messages)
    }
}
