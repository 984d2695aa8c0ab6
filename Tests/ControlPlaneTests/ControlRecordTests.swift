import Foundation
import Testing
import WebhookDomain

@testable import ControlPlane

/// The control topic's one codec: `ControlRecord(key:value:)`, `key` and `value()`.
@Suite("Control records: keys and values")
struct ControlRecordTests {
    static let state: WebhookState = {
        var state = WebhookState(status: .paused)
        state.revision = 4
        state.basis = "b-1"
        state.lastError = "HTTP 500"
        return state
    }()

    static let webhook: Webhook = {
        var options = WebhookOptions()
        options.batching = true
        options.maxBatchSize = 12
        options.batchLinger = .milliseconds(50)
        options.rateLimit = 12.5
        options.adaptive = true
        return Webhook(id: "erp/one", siteID: "c404", url: "https://erp.example/hooks", method: .put, topics: ["order_state_changed"],
                       hashKeys: [HashKey("newest-key-0123456789"), HashKey("older-key-0123456789")], options: options)
    }()

    static let configuration: SiteConfiguration = {
        var site = Site(id: "c404", token: "never-written-token")
        site.retryIntervals = [.milliseconds(200), .seconds(2)]
        site.retriesUntilFailure = 2
        site.notifications = ["n": WorkflowNotification(webhookTopics: ["t"], delay: .seconds(5))]
        return SiteConfiguration(site)
    }()

    /// One record of every kind, with a value.
    static let records: [ControlRecord] = [
        .site(id: "c404", .init(configuration, origin: .config)),
        .topic(site: "c404", name: "email_sent", .init(WebhookTopic(name: "email_sent", ordered: false), origin: .api)),
        .webhook(id: "erp/one", .init(webhook, origin: .config)),
        .webhook(id: "wh_1", .init(Webhook(id: "wh_1", siteID: "c404", url: "https://a.example", topics: ["t"], hashKeys: [HashKey("k")]), origin: .api)),
        .status(webhookID: "erp/one", state),
        .requestedStatus(webhookID: "erp/one", state),
        .cursor(webhookID: "erp/one", SourcePartition("oms.orders", 3), .init(offset: 42)),
        .cursor(webhookID: "wh_1", SourcePartition("oms.orders", 0), .init(offset: 7, replay: true)),
    ]

    @Test("every kind: its key, and a value that reads back as the same record", arguments: records)
    func roundTrip(record: ControlRecord) throws {
        let value = try #require(try record.value())
        #expect(ControlRecord(key: record.key, value: value) == record)
        #expect(!record.isTombstone)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(value)) as? [String: Any])
        #expect(json["version"] as? Int == ControlRecord.version)
    }

    @Test("the keys as DESIGN.md §8 spells them")
    func keys() {
        #expect(Self.records.map(\.key) == [
            "site/c404", "topic/c404/email_sent", "webhook/erp/one", "webhook/wh_1", "status/erp/one", "api-status/erp/one",
            "cursor/erp/one/oms.orders/3", "cursor/wh_1/oms.orders/0",
        ])
    }

    @Test("a tombstone of every kind has no value and reads back as a deletion", arguments: records)
    func tombstones(record: ControlRecord) throws {
        let tombstone = record.tombstone
        #expect(tombstone.isTombstone)
        #expect(tombstone.key == record.key)
        #expect(try tombstone.value() == nil)
        #expect(ControlRecord(key: record.key, value: nil) == tombstone)
    }

    @Test("a value that does not decode is no record (the reader skips it), for every kind", arguments: records)
    func garbageValues(record: ControlRecord) throws {
        for garbage in ["", "a", "[1]", "{}", #"{"version":1}"#, "null", String(repeating: "[", count: 10_000)] {
            #expect(ControlRecord(key: record.key, value: Array(garbage.utf8)) == nil, "\(record.key) ← \(garbage.prefix(20))")
        }
        #expect(ControlRecord(key: record.key, value: [0xFF, 0xFE, 0x00]) == nil)
    }

    @Test("a value written for another key is no record")
    func valueForAnotherKey() throws {
        let webhook = try #require(try ControlRecord.webhook(id: "wh_1", .init(Self.webhook, origin: .api)).value())
        #expect(ControlRecord(key: "webhook/wh_1", value: webhook) == nil)
        let topic = try #require(try ControlRecord.topic(site: "c404", name: "a", .init(WebhookTopic(name: "a", ordered: true), origin: .api)).value())
        #expect(ControlRecord(key: "topic/c404/b", value: topic) == nil)
    }

    @Test("keys that are none of the topic's are no record, with or without a value", arguments: [
        "", "/", "site", "site/", "webhook/", "status/", "marker", "unknown/x", "topic/c404", "topic//a", "topic/c404/",
        "cursor/wh_1/oms.orders", "cursor/wh_1/oms.orders/x", "cursor/wh_1/oms.orders/-1", "cursor/oms.orders/3", "cursor//oms.orders/3",
        "cursor/wh_1/oms.orders/99999999999",
    ])
    func garbageKeys(key: String) {
        #expect(ControlRecord(key: key, value: nil) == nil)
        #expect(ControlRecord(key: key, value: Array(#"{"version":1,"offset":1}"#.utf8)) == nil)
    }

    @Test("ids may hold a `/`: a cursor's topic and partition are its key's last components; a topic's name is the value's")
    func slashes() throws {
        let cursor = ControlRecord.cursor(webhookID: "a/b/c", SourcePartition("t", 1), .init(offset: 1))
        #expect(ControlRecord(key: cursor.key, value: try cursor.value()) == cursor)
        let topic = ControlRecord.topic(site: "c404", name: "x/y", .init(WebhookTopic(name: "x/y", ordered: true), origin: .api))
        #expect(ControlRecord(key: "topic/c404/x/y", value: try topic.value()) == topic)
        #expect(ControlRecord(key: "topic/c404/x/y", value: nil) == .topic(site: "c404/x", name: "y", nil))
    }

    @Test("values as earlier releases wrote them still read: a cursor without `replay`, a webhook's any option missing")
    func olderValues() throws {
        let cursor = ControlRecord(key: "cursor/wh_1/oms.orders/2", value: Array(#"{"version":1,"offset":9}"#.utf8))
        #expect(cursor == .cursor(webhookID: "wh_1", SourcePartition("oms.orders", 2), .init(offset: 9, replay: false)))
        let webhook = #"{"version":1,"id":"wh_1","site_id":"c404","url":"https://a.example","http_method":"POST","topics":["t"],"hash_keys":["k"],"options":{},"origin":"api"}"#
        guard case .webhook(_, let stored?)? = ControlRecord(key: "webhook/wh_1", value: Array(webhook.utf8)) else {
            Issue.record("not read")
            return
        }
        #expect(stored.webhook.options == WebhookOptions())
        #expect(stored.origin == .api)
    }

    @Test("a replay flag is written only when set (older readers see a plain cursor)")
    func replayFlag() throws {
        let plain = try #require(try ControlRecord.cursor(webhookID: "w", SourcePartition("t", 0), .init(offset: 1)).value())
        #expect(!String(decoding: plain, as: UTF8.self).contains("replay"))
        let replay = try #require(try ControlRecord.cursor(webhookID: "w", SourcePartition("t", 0), .init(offset: 1, replay: true)).value())
        #expect(String(decoding: replay, as: UTF8.self).contains(#""replay":true"#))
    }

    @Test("a site record never carries the token")
    func noToken() throws {
        let value = try #require(try ControlRecord.site(id: "c404", .init(Self.configuration, origin: .config)).value())
        #expect(!String(decoding: value, as: UTF8.self).contains("never-written-token"))
    }

    @Test("a status record's last_error from an older version, naming a host and an address, reads back as 'delivery error'")
    func lastErrorWithoutHosts() throws {
        var state = WebhookState(status: .paused)
        state.lastError = "destination erp.internal.example resolves to 10.1.2.3, a loopback, private, link-local or metadata address"
        for record in [ControlRecord.status(webhookID: "erp", state), ControlRecord.requestedStatus(webhookID: "erp", state)] {
            let read = try #require(ControlRecord(key: record.key, value: try record.value()))
            switch read {
            case .status(_, let readState?), .requestedStatus(_, let readState?): #expect(readState.lastError == "delivery error")
            default: Issue.record("\(read)")
            }
        }
        state.lastError = "HTTP 500"
        let kept = try #require(ControlRecord(key: "status/erp", value: try ControlRecord.status(webhookID: "erp", state).value()))
        guard case .status(_, let keptState?) = kept else {
            Issue.record("\(kept)")
            return
        }
        #expect(keptState.lastError == "HTTP 500")
    }
}
