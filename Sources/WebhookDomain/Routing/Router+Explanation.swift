extension Router {
    /// What one route made of a record (for `/explain`): the site and webhook topics it placed
    /// the record on, or why it placed nothing.
    public struct RouteResult: Sendable {
        public var route: Route
        /// The site the route names for this record, when it can tell: its fixed site, or the
        /// record's site field or header (which may name no known site: then `failure` says so).
        public var siteID: String?
        /// The webhook topics the route placed the record on; empty when it placed nothing.
        public var webhookTopics: [String]
        /// Why the route could not place the record (a dead letter's reason).
        public var failure: String?
        /// Why the route left the record out on purpose (a Debezium delete or tombstone).
        public var skipped: String?

        public var matched: Bool { failure == nil && skipped == nil }
    }

    /// Every route a record of its topic follows, in the configuration's order, with what it made
    /// of the record (decoded as delivery decodes it first, for `format: avro`). `route(_:)` gives
    /// the messages and their ids exactly as delivery does; this says which route gave which
    /// topics and why the others gave none.
    public func routeResults(_ record: SourceRecord) -> [RouteResult] {
        var events = EventCache(record: record)
        return routes(for: record.topic).map { route in
            let event = events.event(for: route)
            var result = RouteResult(route: route, siteID: nil, webhookTopics: [], failure: nil, skipped: nil)
            switch route.site {
            case .fixed(let id): result.siteID = id
            case .header(let name): result.siteID = record.header(name)
            case .field(let path): if case .placed(let event) = event { result.siteID = event.object.string(at: path) }
            }
            switch event.flatMap({ place(record, event: $0.object, rawValue: $0.bytes, by: route) }) {
            case .placed(let messages): result.webhookTopics = messages.map(\.topic.name)
            case .failed(let reason): result.failure = reason
            case .skipped(let reason): result.skipped = reason
            }
            return result
        }
    }

    /// Whether a site of this id is configured.
    public func knowsSite(_ id: String) -> Bool { sites[id] != nil }
}
