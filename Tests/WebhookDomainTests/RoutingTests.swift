import Testing

@testable import WebhookDomain

@Suite("Routing")
struct RoutingTests {
    static var site: Site {
        var site = Site(id: "c404", token: "t")
        site.customTopics = [WebhookTopic(name: "email_sent_to_client_topic", ordered: true)]
        site.notifications = ["email_sent_to_client": WorkflowNotification(webhookTopics: ["email_sent_to_client_topic"], delay: .seconds(30))]
        return site
    }

    static func record(_ json: String?, topic: String = "oms.orders", offset: Int64 = 7, header: String? = nil) -> SourceRecord {
        SourceRecord(
            topic: topic, partition: 2, offset: offset, key: Array("DV1".utf8), value: json.map { Array($0.utf8) }, messageIDHeader: header,
            timestampMilliseconds: 1_000_000)
    }

    @Test("a fixed route places the whole event on a standard topic")
    func fixedRoute() throws {
        let router = Router(routes: [Route(source: "oms.orders", site: .fixed("c404"), topic: .fixed("order_state_changed"))], sites: [Self.site])
        guard case .routed(let messages) = router.route(Self.record(#"{"order_id":"DV1","new_state":"shipped"}"#)) else {
            Issue.record("not routed"); return
        }
        let message = try #require(messages.first)
        #expect(messages.count == 1)
        #expect(message.topic == WebhookTopic(name: "order_state_changed", ordered: true))
        #expect(message.sequence == "2-7")
        #expect(message.entity == Array("DV1".utf8))
        #expect(String(decoding: message.payload, as: UTF8.self) == #"{"order_id":"DV1","new_state":"shipped"}"#)
        #expect(message.notBeforeMilliseconds == nil)
    }

    @Test("site and topic from fields, payload from a sub-object")
    func fieldRoute() throws {
        let router = Router(
            routes: [Route(source: "oms.events", site: .field("meta.site"), topic: .field("meta.topic"), payloadField: "data")], sites: [Self.site])
        let outcome = router.route(Self.record(#"{"meta":{"site":"c404","topic":"parcel_state_changed"},"data":{"parcel_id":"P1"}}"#, topic: "oms.events"))
        guard case .routed(let messages) = outcome else { Issue.record("not routed: \(outcome)"); return }
        #expect(messages.map(\.topic.name) == ["parcel_state_changed"])
        #expect(String(decoding: messages[0].payload, as: UTF8.self) == #"{"parcel_id":"P1"}"#)
    }

    @Test("a notification id resolves through the site's table into custom topics, with its delay")
    func notificationRoute() throws {
        let router = Router(routes: [Route(source: "oms.notifications", site: .fixed("c404"), topic: .notification("notification"))], sites: [Self.site])
        let outcome = router.route(Self.record(#"{"notification":"email_sent_to_client","object_id":"66fd"}"#, topic: "oms.notifications"))
        guard case .routed(let messages) = outcome else { Issue.record("not routed: \(outcome)"); return }
        #expect(messages.map(\.topic.name) == ["email_sent_to_client_topic"])
        #expect(messages[0].notBeforeMilliseconds == Int64(1_030_000))
    }

    @Test(
        "what cannot be placed is dead-lettered with a reason",
        arguments: [
            (nil, "tombstone"), ("not json", "not a JSON object"), ("[1,2]", "not a JSON object"), ("\"text\"", "not a JSON object"),
            (#"{"meta":{}}"#, "site field meta.site missing"), (#"{"meta":{"site":"nope","topic":"x"}}"#, "unknown site nope"),
            (#"{"meta":{"site":"c404","topic":"no_such_topic"}}"#, "unknown webhook topic no_such_topic"),
            (#"{"meta":{"site":"c404","topic":"order_state_changed"},"data":5}"#, "payload field data missing or not an object"),
        ] as [(String?, String)])
    func deadLetters(value: String?, reason: String) {
        let router = Router(
            routes: [Route(source: "oms.events", site: .field("meta.site"), topic: .field("meta.topic"), payloadField: "data")], sites: [Self.site])
        guard case .deadLetter(let text) = router.route(Self.record(value, topic: "oms.events")) else {
            Issue.record("routed"); return
        }
        #expect(text.contains(reason), "\(text)")
    }

    @Test("message ids are stable, distinct per position and topic, and a record's own id wins")
    func messageIDs() {
        let a = MessageID.make(for: Self.record("{}"), webhookTopic: "order_state_changed")
        #expect(a == MessageID.make(for: Self.record("{}"), webhookTopic: "order_state_changed"))
        #expect(a != MessageID.make(for: Self.record("{}", offset: 8), webhookTopic: "order_state_changed"))
        #expect(a != MessageID.make(for: Self.record("{}"), webhookTopic: "parcel_state_changed"))
        #expect(a.count == 36 && a.split(separator: "-").count == 5)
        #expect(MessageID.make(for: Self.record("{}", header: "xxxxx1"), webhookTopic: "t") == "xxxxx1")
    }

    @Test("durations: seconds with fractions and unit suffixes")
    func durations() {
        #expect(DurationText.parse("15") == .seconds(15))
        #expect(DurationText.parse("0.25") == .milliseconds(250))
        #expect(DurationText.parse("500ms") == .milliseconds(500))
        #expect(DurationText.parse("15s") == .seconds(15))
        #expect(DurationText.parse("2m") == .seconds(120))
        #expect(DurationText.parse("1h") == .seconds(3600))
        #expect(DurationText.parse("7d") == .seconds(604_800))
        #expect(DurationText.parse("0s") == .zero)
        #expect(DurationText.parse("soon") == nil)
        #expect(DurationText.parse("-1") == nil)
    }

    @Test("private destinations are refused unless allowed", arguments: [
        ("http://127.0.0.1:8080/x", true), ("http://localhost/x", true), ("http://10.1.2.3/", true), ("http://192.168.0.9/", true),
        ("http://172.20.0.1/", true), ("http://169.254.169.254/latest/meta-data", true), ("http://[::1]:80/", true),
        ("https://erp.example.com/hooks", false), ("http://8.8.8.8/", false),
    ])
    func destinations(url: String, isPrivate: Bool) {
        #expect((DestinationPolicy(allowPrivateDestinations: false).problem(with: url) != nil) == isPrivate)
        #expect(DestinationPolicy(allowPrivateDestinations: true).problem(with: url) == nil)
    }

    @Test("URLs that are not absolute http(s) are refused", arguments: ["ftp://x.example/", "/relative", "not a url", "https://"])
    func badURLs(url: String) {
        #expect(DestinationPolicy(allowPrivateDestinations: true).problem(with: url) == "not an absolute http(s) URL")
    }
}

@Suite("Duration limits (found by schemathesis)")
struct DurationLimitTests {
    @Test("huge durations are refused or clamped, never trapped on")
    func hugeDurations() {
        #expect(DurationText.parse("1e10") == nil)
        #expect(DurationText.parse("1e10s") == nil)
        #expect(DurationText.parse("15s") == .seconds(15))
        #expect(DurationText.seconds(1e300) == .seconds(Int64(DurationText.maxSeconds)))
        #expect(DurationText.seconds(.infinity) == .seconds(Int64(DurationText.maxSeconds)))
    }
}
