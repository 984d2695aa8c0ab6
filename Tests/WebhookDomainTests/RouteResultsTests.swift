import Testing

@testable import WebhookDomain

/// `Router.routeResults` (for `/explain`): what each route of a source topic made of a record.
@Suite("Routing: each route's result")
struct RouteResultsTests {
    static let router = Router(
        routes: [
            Route(source: "oms.orders", site: .fixed("c404"), topic: .fixed("order_state_changed")),
            Route(source: "oms.orders", site: .field("site"), topic: .field("topic")),
            Route(source: "oms.other", site: .fixed("c404"), topic: .fixed("parcel_state_changed")),
        ], sites: [RoutingTests.site])

    @Test("each route of the record's source, in order: the topics it gave, or the site it named and why it gave none")
    func perRoute() {
        let results = Self.router.routeResults(RoutingTests.record(#"{"site":"c999","topic":"parcel_state_changed"}"#))
        #expect(results.map(\.route.source) == ["oms.orders", "oms.orders"])
        #expect(results[0].matched && results[0].siteID == "c404" && results[0].webhookTopics == ["order_state_changed"])
        #expect(!results[1].matched && results[1].siteID == "c999" && results[1].webhookTopics.isEmpty)
        #expect(results[1].failure == "unknown site c999")
        #expect(Self.router.knowsSite("c404") && !Self.router.knowsSite("c999"))
    }

    @Test("a record that is no JSON object fails every route with its part of the dead letter's reason; fixed sites are still named")
    func unreadable() {
        for (value, reason) in [(nil, "tombstone: the record has no value"), ("[1]", "not a JSON object")] as [(String?, String)] {
            let results = Self.router.routeResults(RoutingTests.record(value))
            #expect(results.map(\.failure) == [reason, reason])
            #expect(results.map(\.siteID) == ["c404", nil])
            guard case .deadLetter(let routed) = Self.router.route(RoutingTests.record(value)) else { Issue.record("routed"); continue }
            #expect(routed == "\(reason); \(reason)", "the dead letter's reason joins the routes'")
        }
    }

    @Test("a site named by a header is reported even when unknown; a route that leaves the record out says why")
    func headersAndSkips() {
        let router = Router(
            routes: [
                Route(source: "db.orders", site: .header("tenant"), topic: .header("kind")),
                Route(source: "db.orders", site: .fixed("c404"), topic: .fixed("order_state_changed"), envelope: .debezium(includeDeletes: false)),
            ], sites: [PipelineRoutingTests.site])
        let record = PipelineRoutingTests.record(#"{"op":"d","before":{"id":1}}"#, headers: [("tenant", "c999"), ("kind", "order_state_changed")])
        let results = router.routeResults(record)
        #expect(results.map(\.siteID) == ["c999", "c404"])
        #expect(results[0].failure == "unknown site c999" && results[0].skipped == nil)
        #expect(results[1].skipped == "debezium delete" && results[1].failure == nil && !results[1].matched)
    }
}
