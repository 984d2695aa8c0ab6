import Logging
import Synchronization
import Testing
import WebhookDomain

@testable import ControlPlane

/// `ControlDispatcher` with a fake delivery and a fake view: which calls each record makes.
@Suite("Control dispatcher")
struct ControlDispatcherTests {
    enum Call: Equatable {
        case upsert(String, WebhookState?)
        case remove(String)
        case adopt(String, WebhookState)
        case update([String])
        case replay(String, SourcePartition, Int64)
    }

    final class FakeDelivery: DeliveryControl {
        let calls = Mutex<[Call]>([])
        func upsert(_ webhook: Webhook, state: WebhookState?) { calls.withLock { $0.append(.upsert(webhook.id, state)) } }
        func remove(webhookID: String) { calls.withLock { $0.append(.remove(webhookID)) } }
        func adopt(_ state: WebhookState, webhookID: String) { calls.withLock { $0.append(.adopt(webhookID, state)) } }
        func update(sites: [Site], router: Router) { calls.withLock { $0.append(.update(sites.map(\.id))) } }
        func replay(webhookID: String, partition: SourcePartition, from offset: Int64) {
            calls.withLock { $0.append(.replay(webhookID, partition, offset)) }
        }
    }

    /// The view's latest values, kept as the real view keeps them: each record is applied before
    /// the dispatcher sees it.
    final class FakeView: ControlReading {
        let latest = Mutex<[String: ControlRecord]>([:])
        func apply(_ records: [ControlRecord]) {
            latest.withLock { latest in for record in records { latest[record.key] = record.isTombstone ? nil : record } }
        }
        func webhook(_ id: String) -> Webhook? {
            guard case .webhook(_, let stored?)? = latest.withLock({ $0[ControlRecord.webhook(id: id, nil).key] }) else { return nil }
            return stored.webhook
        }
        func storedState(_ webhookID: String) -> WebhookState? {
            latest.withLock { latest in
                var requested: WebhookState?
                var automatic: WebhookState?
                if case .requestedStatus(_, let state)? = latest[ControlRecord.requestedStatus(webhookID: webhookID, nil).key] { requested = state }
                if case .status(_, let state)? = latest[ControlRecord.status(webhookID: webhookID, nil).key] { automatic = state }
                return WebhookState.effective(requested: requested, automatic: automatic)
            }
        }
        var sites: [Site] { [Site(id: "c404", token: "c404-token-0123456789")] }
        var router: Router { Router(routes: [], sites: sites, extraTopics: []) }
    }

    static func dispatch(_ batches: [[ControlRecord]]) -> [Call] {
        let view = FakeView()
        let delivery = FakeDelivery()
        let dispatcher = ControlDispatcher(reader: view, delivery: delivery, logger: Logger(label: "dispatcher-tests"))
        for batch in batches {
            view.apply(batch)
            dispatcher.apply(batch)
        }
        return delivery.calls.withLock { $0 }
    }

    static let webhook = Webhook(id: "wh_1", siteID: "c404", url: "https://a.example", topics: ["order_state_changed"], hashKeys: [HashKey("k")])

    @Test("a status record, then an api-status record for the same webhook: two adopts, each of the state in effect")
    func statusThenAPIStatus() {
        var automatic = WebhookState()
        automatic.revision = 3
        var requested = WebhookState(status: .paused)
        requested.basis = "api-1"
        let calls = Self.dispatch([[.status(webhookID: "wh_1", automatic)], [.requestedStatus(webhookID: "wh_1", requested)]])
        // The API change wins over the lane's state, which was computed before it (another basis).
        #expect(calls == [.adopt("wh_1", automatic), .adopt("wh_1", requested)])
    }

    @Test("a lane's state computed after the API change (same basis) is the one in effect")
    func laneStateOnTheAPIBasis() {
        var requested = WebhookState(status: .paused)
        requested.basis = "api-1"
        var automatic = WebhookState()
        automatic.basis = "api-1"
        automatic.revision = 1
        let calls = Self.dispatch([[.requestedStatus(webhookID: "wh_1", requested), .status(webhookID: "wh_1", automatic)]])
        // Both records of one batch are handled at the view's latest values.
        #expect(calls == [.adopt("wh_1", automatic), .adopt("wh_1", automatic)])
    }

    @Test("a cursor with replay: true gives one replay call; a plain cursor and a cursor tombstone give none")
    func replay() {
        let partition = SourcePartition("oms.orders", 2)
        let calls = Self.dispatch([[
            .cursor(webhookID: "wh_1", partition, .init(offset: 17, replay: true)),
            .cursor(webhookID: "wh_1", partition, .init(offset: 20)),
            .cursor(webhookID: "wh_1", partition, nil),
        ]])
        #expect(calls == [.replay("wh_1", partition, 17)])
    }

    @Test("a webhook record upserts it with its stored state; its tombstone gives one remove")
    func webhookAndTombstone() {
        let calls = Self.dispatch([
            [.status(webhookID: "wh_1", WebhookState()), .webhook(id: "wh_1", .init(Self.webhook, origin: .api))],
            [.webhook(id: "wh_1", nil)],
        ])
        #expect(calls == [.adopt("wh_1", WebhookState()), .upsert("wh_1", WebhookState()), .remove("wh_1")])
    }

    @Test("a webhook record whose keys are below today's minimum (stored before the rule) is still upserted, keys as they are")
    func shortKeysKept() {
        var old = Self.webhook
        old.hashKeys = [HashKey("k"), HashKey("whsec_c2hvcnQ=")]
        let calls = Self.dispatch([[.status(webhookID: "wh_1", WebhookState()), .webhook(id: "wh_1", .init(old, origin: .api))]])
        #expect(calls == [.adopt("wh_1", WebhookState()), .upsert("wh_1", WebhookState())])
    }

    @Test("site and topic records rebuild the routing once per batch")
    func routing() {
        let calls = Self.dispatch([[
            .site(id: "c404", .init(SiteConfiguration(Site(id: "c404", token: "c404-token-0123456789")), origin: .api)),
            .topic(site: "c404", name: "custom", .init(WebhookTopic(name: "custom", ordered: true), origin: .api)),
            .topic(site: "c404", name: "gone", nil),
        ]])
        #expect(calls == [.update(["c404"])])
    }

    @Test("a status record for a webhook with no state left adopts nothing")
    func statusTombstone() {
        #expect(Self.dispatch([[.status(webhookID: "wh_1", nil), .requestedStatus(webhookID: "wh_1", nil)]]).isEmpty)
    }
}
