import Testing

@testable import WebhookDomain

/// What real Kafka pipelines carry (DESIGN.md §3): Debezium envelopes, the registry's JSON
/// framing, routing from headers, topic patterns and trace context.
@Suite("Routing: pipelines")
struct PipelineRoutingTests {
    static let site = Site(id: "c404", token: "t")

    static func record(_ json: String?, topic: String = "db.orders", headers: [(String, String)] = [], raw: [UInt8]? = nil) -> SourceRecord {
        SourceRecord(
            topic: topic, partition: 0, offset: 3, key: Array("K".utf8), value: raw ?? json.map { Array($0.utf8) },
            headers: headers.map { ($0.0, Array($0.1.utf8)) })
    }

    static func router(_ route: Route) -> Router { Router(routes: [route], sites: [site]) }

    static func debezium(deletes: Bool = false) -> Router {
        router(Route(source: "db.orders", site: .fixed("c404"), topic: .fixed("order_state_changed"), envelope: .debezium(includeDeletes: deletes)))
    }

    static func body(_ outcome: Router.Outcome) -> String? {
        guard case .routed(let messages) = outcome else { return nil }
        return String(decoding: messages[0].payload, as: UTF8.self)
    }

    @Test("Debezium: c, u and r deliver the after image, with or without the converter's schema/payload wrapper")
    func debeziumAfter() {
        for op in ["c", "u", "r"] {
            #expect(Self.body(Self.debezium().route(Self.record(#"{"before":null,"after":{"id":1,"state":"new"},"op":"\#(op)"}"#))) == #"{"id":1,"state":"new"}"#)
        }
        let wrapped = #"{"schema":{"type":"struct"},"payload":{"before":{"id":1},"after":{"id":1,"state":"paid"},"op":"u","ts_ms":1}}"#
        #expect(Self.body(Self.debezium().route(Self.record(wrapped))) == #"{"id":1,"state":"paid"}"#)
    }

    @Test("Debezium: deletes and tombstones are skipped (never dead-lettered); deletes: include sends the before image marked _deleted")
    func debeziumDeletes() {
        let delete = #"{"before":{"id":1,"state":"paid"},"after":null,"op":"d"}"#
        guard case .skipped(let reason) = Self.debezium().route(Self.record(delete)) else { Issue.record("not skipped"); return }
        #expect(reason == "debezium delete")
        guard case .skipped = Self.debezium().route(Self.record(nil)) else { Issue.record("tombstone not skipped"); return }
        #expect(Self.body(Self.debezium(deletes: true).route(Self.record(delete))) == #"{"id":1,"state":"paid","_deleted":true}"#)
        #expect(Self.body(Self.debezium(deletes: true).route(Self.record(#"{"before":{},"op":"d"}"#))) == #"{"_deleted":true}"#)
        // Without the envelope, a tombstone stays a dead letter (as before).
        let plain = Self.router(Route(source: "db.orders", site: .fixed("c404"), topic: .fixed("order_state_changed")))
        guard case .deadLetter = plain.route(Self.record(nil)) else { Issue.record("plain tombstone not dead-lettered"); return }
    }

    @Test("Debezium: a change event without op, or c/u without an after image, is dead-lettered with the reason", arguments: [
        (#"{"after":{"id":1}}"#, "debezium: no op field"), (#"{"op":"c","after":null}"#, "debezium: op c without an after image"),
        (#"{"op":"d","before":null}"#, "debezium: op d without a before image"), (#"{"op":"x"}"#, "debezium: unknown op x"),
    ])
    func debeziumBroken(json: String, reason: String) {
        guard case .deadLetter(let given) = Self.debezium(deletes: true).route(Self.record(json)) else { Issue.record("not dead-lettered"); return }
        #expect(given.hasPrefix(reason), "\(given)")
    }

    @Test("json_sr: the registry's 5 bytes are dropped; a value without them is dead-lettered")
    func jsonSR() {
        let router = Self.router(Route(source: "db.orders", site: .fixed("c404"), topic: .fixed("order_state_changed"), format: .jsonSR))
        #expect(Self.body(router.route(Self.record(nil, raw: [0, 0, 0, 0, 42] + Array(#"{"id":1}"#.utf8)))) == #"{"id":1}"#)
        guard case .deadLetter(let reason) = router.route(Self.record(#"{"id":1}"#)) else { Issue.record("not dead-lettered"); return }
        #expect(reason.contains("wire format"))
    }

    @Test("site and topic from Kafka headers; a missing header is a dead letter naming it")
    func headers() {
        let router = Self.router(Route(source: "db.orders", site: .header("tenant"), topic: .header("event")))
        let outcome = router.route(Self.record(#"{"id":1}"#, headers: [("tenant", "c404"), ("event", "parcel_state_changed")]))
        guard case .routed(let messages) = outcome else { Issue.record("not routed: \(outcome)"); return }
        #expect(messages.map(\.topic.name) == ["parcel_state_changed"] && messages[0].siteID == "c404")
        guard case .deadLetter(let reason) = router.route(Self.record(#"{"id":1}"#, headers: [("event", "x")])) else { Issue.record("routed"); return }
        #expect(reason == "site header tenant missing or not UTF-8")
    }

    @Test("a pattern route takes every matching topic, created later too, beside the named routes; a record follows each route it matches")
    func patterns() {
        let router = Router(
            routes: [
                Route(source: "^oms\\..*", site: .fixed("c404"), topic: .fixed("order_state_changed")),
                Route(source: "oms.parcels", site: .fixed("c404"), topic: .fixed("parcel_state_changed")),
            ], sites: [Self.site])
        #expect(router.sourceTopics == ["^oms\\..*", "oms.parcels"])
        guard case .routed(let both) = router.route(Self.record(#"{"id":1}"#, topic: "oms.parcels")) else { Issue.record("not routed"); return }
        #expect(both.map(\.topic.name).sorted() == ["order_state_changed", "parcel_state_changed"])
        guard case .routed(let one) = router.route(Self.record(#"{"id":1}"#, topic: "oms.created_later")) else { Issue.record("not routed"); return }
        #expect(one.map(\.topic.name) == ["order_state_changed"])
        guard case .deadLetter = router.route(Self.record(#"{"id":1}"#, topic: "xoms.other")) else { Issue.record("routed"); return }
    }

    @Test("a well-formed traceparent (and tracestate) goes out on the request; batches carry the first message's; malformed ones are dropped")
    func traceContext() {
        let router = Self.router(Route(source: "db.orders", site: .fixed("c404"), topic: .fixed("order_state_changed")))
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        guard case .routed(let messages) = router.route(Self.record(#"{"id":1}"#, headers: [("traceparent", parent), ("tracestate", "vendor=1")])) else {
            Issue.record("not routed"); return
        }
        let webhook = Webhook(id: "w", siteID: "c404", url: "https://a.example", topics: ["order_state_changed"], hashKeys: [HashKey("key-0123456789abcdef")])
        let single = WebhookRequest.single(messages[0], to: webhook, timestamp: 1)
        #expect(single.headers.contains { $0 == ("traceparent", parent) } && single.headers.contains { $0 == ("tracestate", "vendor=1") })
        let batch = WebhookRequest.batch(messages + messages, to: webhook, timestamp: 1)
        #expect(batch.headers.contains { $0 == ("traceparent", parent) })
        for bad in ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX: y"] {
            #expect(TraceContext(traceParent: bad, traceState: nil) == nil, "\(bad)")
        }
        #expect(TraceContext(traceParent: parent, traceState: "a=1\nb")?.traceState == nil)
    }
}
