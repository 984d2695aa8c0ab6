import Testing

@testable import WebhookDomain

@Suite("Message ids from headers (DESIGN.md §4)")
struct MessageIDTests {
    static let derived = MessageID.make(for: RoutingTests.record("{}"), webhookTopic: "order_state_changed")

    @Test(
        "a header that is not a safe token is replaced by the derived id",
        arguments: ["abc\r\nX-Injected: 1", "two words", "commande-é", "tab\there", "", String(repeating: "a", count: 201)])
    func unsafeHeaders(header: String) {
        let record = RoutingTests.record("{}", header: header)
        #expect(!MessageID.isSafeToken(header))
        #expect(MessageID.refusesHeader(of: record))
        #expect(MessageID.make(for: record, webhookTopic: "order_state_changed") == Self.derived)
    }

    @Test("a printable ASCII header of up to 200 bytes is used as it is", arguments: ["x", "ord-66fd:v2/42", String(repeating: "a", count: 200)])
    func safeHeaders(header: String) {
        let record = RoutingTests.record("{}", header: header)
        #expect(MessageID.isSafeToken(header))
        #expect(!MessageID.refusesHeader(of: record))
        #expect(MessageID.make(for: record, webhookTopic: "order_state_changed") == header)
    }

    @Test("no header is not a refused header")
    func noHeader() {
        #expect(!MessageID.refusesHeader(of: RoutingTests.record("{}")))
    }

    static func fanOutRouter() -> Router {
        var site = RoutingTests.site
        site.customTopics += [WebhookTopic(name: "email_copy", ordered: false)]
        site.notifications["email_sent_to_client"] = WorkflowNotification(webhookTopics: ["email_sent_to_client_topic", "email_copy"])
        return Router(routes: [Route(source: "oms.notifications", site: .fixed("c404"), topic: .notification("notification"))], sites: [site])
    }

    @Test("a record fanned out to several topics: the header id for the first topic, <id>.<topic> for the others")
    func fanOutWithHeader() throws {
        let record = RoutingTests.record(#"{"notification":"email_sent_to_client"}"#, topic: "oms.notifications", header: "n-1")
        guard case .routed(let messages) = Self.fanOutRouter().route(record) else { Issue.record("not routed"); return }
        #expect(messages.map(\.messageID) == ["n-1", "n-1.email_copy"])
        #expect(messages.allSatisfy { !$0.messageIDHeaderReplaced })
    }

    @Test("a fanned-out record with an unsafe header gets a derived id per topic, and says so")
    func fanOutUnsafeHeader() throws {
        let record = RoutingTests.record(#"{"notification":"email_sent_to_client"}"#, topic: "oms.notifications", header: "n-1\r\n")
        guard case .routed(let messages) = Self.fanOutRouter().route(record) else { Issue.record("not routed"); return }
        let plain = RoutingTests.record(#"{"notification":"email_sent_to_client"}"#, topic: "oms.notifications")
        #expect(messages.map(\.messageID) == ["email_sent_to_client_topic", "email_copy"].map { MessageID.make(for: plain, webhookTopic: $0) })
        #expect(Set(messages.map(\.messageID)).count == 2)
        #expect(messages.allSatisfy { $0.messageIDHeaderReplaced })
    }

    @Test("several routes of one source share the rule: one id per webhook topic")
    func fanOutAcrossRoutes() throws {
        let router = Router(
            routes: [
                Route(source: "oms.orders", site: .fixed("c404"), topic: .fixed("order_state_changed")),
                Route(source: "oms.orders", site: .fixed("c404"), topic: .fixed("parcel_state_changed")),
            ], sites: [RoutingTests.site])
        guard case .routed(let messages) = router.route(RoutingTests.record("{}", header: "o-7")) else { Issue.record("not routed"); return }
        #expect(messages.map(\.messageID) == ["o-7", "o-7.parcel_state_changed"])
    }
}
