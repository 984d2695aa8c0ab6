import Delivery
import Foundation
import Kafka
import Logging
import Testing
import WebhookDomain

@testable import ControlPlane

@Suite("The control topic: view and store")
struct ControlTopicTests {
    static let logger: Logger = {
        var logger = Logger(label: "control-tests")
        logger.logLevel = .warning
        return logger
    }()
    static let cluster = try! EmbeddedKafkaCluster(brokers: 1, logger: logger)
    static var kafka: KafkaConfig { KafkaConfig(bootstrapServers: cluster.bootstrapServers) }

    static func topic() throws -> String {
        let name = "control-\(UUID().uuidString.prefix(8))"
        try cluster.createTopic(name, partitions: 1)
        return name
    }

    /// A view that follows its topic for the length of `body`.
    static func withView<T: Sendable>(_ topic: String, _ body: @Sendable (ControlTopicView) async throws -> T) async throws -> T {
        let view = try ControlTopicView(topic: topic, kafka: kafka, logger: logger)
        try await view.load()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await view.follow()
                return nil
            }
            let result = try await body(view)
            group.cancelAll()
            await view.close()
            return result
        }
    }

    @Test("a write is applied when read back; a tombstone deletes; the last value per key wins")
    func writeReadBack() async throws {
        let topic = try Self.topic()
        try await Self.withView(topic) { view in
            try await view.write("site/c404", Array(#"{"version":1}"#.utf8))
            #expect(view.value("site/c404") == Array(#"{"version":1}"#.utf8))
            try await view.write("site/c404", Array(#"{"version":2}"#.utf8))
            #expect(view.value("site/c404") == Array(#"{"version":2}"#.utf8))
            try await view.write("site/c404", nil)
            #expect(view.value("site/c404") == nil)
            #expect(view.count == 0)
        }
    }

    @Test("two views converge on what either writes, and a new view reloads it all")
    func convergence() async throws {
        let topic = try Self.topic()
        try await Self.withView(topic) { a in
            try await Self.withView(topic) { b in
                try await a.write("webhook/1", Array("a".utf8))
                try await b.write("webhook/2", Array("b".utf8))
                try await a.write("webhook/3", Array("c".utf8))
                try await b.write("webhook/3", nil)
                // b's own write is applied in b; a has seen it once it has read b's tombstone.
                try await a.write("marker", [])
                try await b.write("marker", [])
                #expect(a.values(prefix: "webhook/") == b.values(prefix: "webhook/"))
                #expect(a.values(prefix: "webhook/").keys.sorted() == ["webhook/1", "webhook/2"])
            }
        }
        let reloaded = try ControlTopicView(topic: topic, kafka: Self.kafka, logger: Self.logger)
        try await reloaded.load()
        #expect(reloaded.values(prefix: "webhook/").keys.sorted() == ["webhook/1", "webhook/2"])
        await reloaded.close()
    }

    @Test("statuses and cursors survive a restart of the store")
    func storeRoundTrip() async throws {
        let topic = try Self.topic()
        var paused = WebhookState()
        _ = paused.apply(
            .deliveryFailed(Probe(sourceTopic: "oms.orders", partition: 2, offset: 9, messageID: "m", webhookTopic: "order_state_changed"), DeliveryFailure(status: 500, reason: "HTTP 500")),
            policy: .init(retryIntervals: [.seconds(30)], retriesUntilFailure: 1, messageRetention: .seconds(60)), now: 1_000)
        let saved = paused
        try await Self.withView(topic) { view in
            let store = ControlTopicStore(view: view)
            try await store.save(state: saved, webhookID: "erp/one")
            try await store.save(cursors: [SourcePartition("oms.orders", 2): 9, SourcePartition("oms.orders", 3): 40], webhookID: "erp/one")
            try await store.save(cursors: [SourcePartition("oms.orders", 3): nil], webhookID: "erp/one")
        }
        let view = try ControlTopicView(topic: topic, kafka: Self.kafka, logger: Self.logger)
        try await view.load()
        let store = ControlTopicStore(view: view)
        #expect(store.states() == ["erp/one": paused])
        #expect(store.cursors(webhookID: "erp/one") == [SourcePartition("oms.orders", 2): 9])
        #expect(store.cursors(webhookID: "erp") == [:])
        let raw = try #require(view.value("status/erp/one"))
        #expect((try JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any])?["version"] as? Int == 1)
        await view.close()
    }

    @Test("a status record at revision Int.max: the next change keeps Int.max (still wins ties), no trap")
    func revisionAtMax() async throws {
        let topic = try Self.topic()
        try await Self.withView(topic) { view in
            let catalog = ControlCatalog(view: view, configSites: [], routes: [], extraTopics: [])
            var stored = WebhookState()
            stored.revision = .max
            try await catalog.store.save(state: stored, webhookID: "w")
            try await catalog.save(state: WebhookState(status: .paused), webhookID: "w")
            #expect(catalog.state("w").status == .paused)
            #expect(catalog.state("w").revision == .max)
        }
    }

    @Test("settings out of their limits read from the control topic are clamped, not refused; unreadable records read as absent")
    func recordsClamped() async throws {
        let topic = try Self.topic()
        try await Self.withView(topic) { view in
            let site = Site(id: "c404", token: "t")
            let catalog = ControlCatalog(view: view, configSites: [site], routes: [], extraTopics: [])
            var configuration = SiteConfiguration(site)
            configuration.retriesUntilFailure = 99
            configuration.maxInFlight = 5_000
            configuration.ackTimeout = -1
            try await catalog.save(configuration: configuration, site: "c404")
            let read = try #require(catalog.site("c404"))
            #expect(read.retriesUntilFailure == 6 && read.maxInFlight == 64 && read.ackTimeout == .milliseconds(1))
            var webhook = Webhook(id: "w", siteID: "c404", url: "https://a.example", topics: ["order_state_changed"], hashKeys: [HashKey("k")])
            webhook.options.maxPending = .min
            webhook.options.batchLinger = .seconds(3_600)
            try await catalog.save(webhook)
            #expect(catalog.webhook("w")?.options.maxPending == 1)
            #expect(catalog.webhooks.first?.options.batchLinger == .seconds(60))
            // Written by hand: a value that is no webhook reads as none (as a deletion would).
            try await view.write("webhook/w", Array("garbage".utf8))
            #expect(catalog.webhook("w") == nil)
            try await view.write("site/c404", Array(#"{"version":1}"#.utf8))
            #expect(catalog.site("c404") == site)
        }
    }

    @Test("the view's changes are typed records: an unreadable value comes as its key's tombstone, an unknown key not at all")
    func typedChanges() async throws {
        let topic = try Self.topic()
        let records = try await Self.withView(topic) { view in
            try await view.write(.topic(site: "c404", name: "custom", .init(WebhookTopic(name: "custom", ordered: true), origin: .api)))
            try await view.write("marker", [])
            try await view.write("cursor/w/oms.orders/1", Array("{".utf8))
            try await view.write(.cursor(webhookID: "w", SourcePartition("oms.orders", 1), .init(offset: 5, replay: true)))
            var records: [ControlRecord] = []
            for await batch in view.changes {
                records += batch
                if records.count >= 3 { break }
            }
            return records
        }
        #expect(records == [
            .topic(site: "c404", name: "custom", .init(WebhookTopic(name: "custom", ordered: true), origin: .api)),
            .cursor(webhookID: "w", SourcePartition("oms.orders", 1), nil),
            .cursor(webhookID: "w", SourcePartition("oms.orders", 1), .init(offset: 5, replay: true)),
        ])
    }

    @Test("webhook options read from a record are clamped to the API's ranges")
    func optionsClamped() throws {
        let record = try JSONDecoder().decode(OptionsRecord.self, from: Data(#"{"max_batch_size":0,"max_pending":-9223372036854775808}"#.utf8))
        #expect(record.options.maxBatchSize == 1)
        #expect(record.options.maxPending == 1)
        let huge = try JSONDecoder().decode(OptionsRecord.self, from: Data(#"{"max_batch_size":1000,"max_pending":9223372036854775807}"#.utf8))
        #expect(huge.options.maxBatchSize == WebhookOptions.maxBatchSizeLimit)
        #expect(huge.options.maxPending == 10_000)
        let paced = try JSONDecoder().decode(OptionsRecord.self, from: Data(#"{"rate_limit":-1,"adaptive":true}"#.utf8))
        #expect(paced.options.rateLimit == .leastNormalMagnitude && paced.options.adaptive)
        let before = try JSONDecoder().decode(OptionsRecord.self, from: Data(#"{"max_pending":5}"#.utf8))
        #expect(before.options.rateLimit == nil && !before.options.adaptive, "a record from before these options")
    }
}
