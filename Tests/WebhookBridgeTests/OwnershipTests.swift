import ControlPlane
import Foundation
import Hummingbird
import HummingbirdTesting
import Kafka
import Testing
import WebhookDomain

@testable import WebhookBridge

/// Who manages what (DESIGN.md §8): the config file's objects follow the file at every start-up
/// and reload, the API's are left alone, and runtime state survives both.
@Suite("Config file and API ownership", .serialized)
struct OwnershipTests {
    /// A file for one test: two sites (c405's configuration and topic set in the file, c404's
    /// left to the API), a route, and the file webhooks given.
    static func yaml(group: String, topic: String, sites: String? = nil, routeSite: String = "c404", webhooks: [String]) -> String {
        """
        \(testKafkaAndHTTP(group: group))
        sites:
        \(sites ?? """
          - {id: c404, token: c404-test-token-0001}
          - {id: c405, token: c405-test-token-0001, ack_timeout: 10, custom_topics: [{topic: file_topic, ordered: false}]}
        """)
        routes: [{source: \(topic), site: \(routeSite), topic: order_state_changed}]
        webhooks:\(webhooks.isEmpty ? " []" : "\n" + webhooks.map { "  - \($0)" }.joined(separator: "\n"))
        """
    }

    static func config(_ yaml: String) throws -> BridgeConfig {
        var config = try BridgeConfig.parse(yaml: yaml)
        config.http.adminPort = 0
        return config
    }

    static func call(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil, token: String = "c404-test-token-0001") async throws -> (HTTPResponse.Status, String) {
        let response = try await client.execute(
            uri: uri, method: method, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: body.map { ByteBuffer(string: $0) })
        return (response.status, String(buffer: response.body))
    }

    static let fileHook = #"{id: filehook, site: c404, url: "http://127.0.0.1:9/a", topics: [order_state_changed], hash_key: file-key-0123456789}"#

    @Test("the API cannot change what the file manages (409 managed_by_config); a restart keeps what the API changed; a file edit changes the webhook in place; removal prunes")
    func restartKeepsAPIChangesAndPrunes() async throws {
        let group = try BridgeTestCluster.group()
        let topic = BridgeTestCluster.unique("own")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)

        let apiHook = try await withBridge(Self.config(Self.yaml(group: group, topic: topic, webhooks: [Self.fileHook]))) { bridge in
            let api = AdminAPI(backend: bridge.adminBackend, logger: BridgeTestCluster.logger)
            return try await Application(router: api.router()).test(.router) { client in
                // The file's: 409, naming what to edit.
                let patched = try await Self.call(client, .patch, "/webhooks/filehook", #"{"url":"http://127.0.0.1:9/other"}"#)
                #expect(patched.0 == .conflict && patched.1.contains("managed_by_config") && patched.1.contains("id: filehook"), "\(patched)")
                #expect(try await Self.call(client, .delete, "/webhooks/filehook").0 == .conflict)
                let configured = try await Self.call(client, .put, "/sites/c405/configuration", #"{"ack_timeout":20}"#, token: "c405-test-token-0001")
                #expect(configured.0 == .conflict && configured.1.contains("managed_by_config"), "\(configured)")
                let topicPosted = try await Self.call(
                    client, .post, "/webhook_topics", #"{"site_id":"c405","webhook_topic":{"topic":"file_topic","ordered":true}}"#, token: "c405-test-token-0001")
                #expect(topicPosted.0 == .conflict, "\(topicPosted)")
                // Runtime state and the API's own objects: allowed.
                #expect(try await Self.call(client, .patch, "/webhooks/filehook/status", #"{"status":"paused"}"#).0 == .ok)
                #expect(try await Self.call(client, .put, "/sites/c404/configuration", #"{"ack_timeout":20}"#).0 == .ok)
                #expect(try await Self.call(client, .post, "/webhook_topics", #"{"site_id":"c404","webhook_topic":{"topic":"api_topic"}}"#).0 == .created)
                let created = try await Self.call(
                    client, .post, "/webhooks",
                    #"{"site_id":"c404","webhook":{"url":"http://127.0.0.1:9/api","http_method":"POST","topics":["order_state_changed"],"hash_key":"api-key-0123456789"}}"#)
                #expect(created.0 == .created)
                return try #require(bridge.catalog.webhooks.first { $0.id != "filehook" }?.id)
            }
        }

        // Restarted with the file webhook's URL edited: the same webhook changes; the pause, the
        // API's site configuration, topic and webhook are kept.
        let edited = Self.fileHook.replacingOccurrences(of: "9/a", with: "9/b")
        try await withBridge(Self.config(Self.yaml(group: group, topic: topic, webhooks: [edited]))) { bridge in
            #expect(bridge.catalog.webhooks.map(\.id).sorted() == [apiHook, "filehook"].sorted())
            #expect(bridge.catalog.webhook("filehook")?.url == "http://127.0.0.1:9/b")
            #expect(bridge.catalog.state("filehook").status == .paused, "a pause made through the API holds across a restart")
            #expect(bridge.catalog.site("c404")?.ackTimeout == .seconds(20))
            #expect(bridge.catalog.site("c405")?.ackTimeout == .seconds(10))
            #expect(bridge.catalog.customTopics(site: "c404").map(\.name) == ["api_topic"])
            #expect(bridge.catalog.customTopics(site: "c405").map(\.name) == ["file_topic"])
        }

        // The file webhook and site c405 gone from the file: deleted, with status and topics; the
        // API's webhook and topic stay.
        let c404Only = "  - {id: c404, token: c404-test-token-0001}"
        try await withBridge(Self.config(Self.yaml(group: group, topic: topic, sites: c404Only, webhooks: []))) { bridge in
            #expect(bridge.catalog.webhooks.map(\.id) == [apiHook])
            #expect(bridge.catalog.store.state("filehook") == nil, "its status went with it")
            #expect(bridge.catalog.customTopics(site: "c405").isEmpty)
            #expect(bridge.catalog.customTopics(site: "c404").map(\.name) == ["api_topic"])
            let metrics = bridge.adminBackend.metricsText()
            #expect(metrics.contains(#"webhook_bridge_config_deletions_total{kind="webhook"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"webhook_bridge_config_deletions_total{kind="custom_topic"} 1"#))
            #expect(metrics.contains(#"webhook_bridge_config_deletions_total{kind="site_configuration"} 1"#))
        }

        // Conflicts the operator settles: a removed site with API webhooks, a file id the API's.
        let noSites = "  - {id: c405, token: c405-test-token-0001}"
        await #expect {
            _ = try await Bridge(config: Self.config(Self.yaml(group: group, topic: topic, sites: noSites, routeSite: "c405", webhooks: [])), logger: BridgeTestCluster.logger)
        } throws: { error in
            "\(error)".contains("site c404 is gone from the file but has webhooks managed by the API: \(apiHook)")
        }
        let taken = #"{id: \#(apiHook), site: c404, url: "http://127.0.0.1:9/c", topics: [order_state_changed], hash_key: file-key-0123456789}"#
        await #expect {
            _ = try await Bridge(config: Self.config(Self.yaml(group: group, topic: topic, sites: c404Only, webhooks: [taken])), logger: BridgeTestCluster.logger)
        } throws: { error in
            "\(error)".contains("webhooks[0].id: \(apiHook) is a webhook managed by the API")
        }
    }

    @Test("instances started together with the same file converge on one result")
    func startTogether() async throws {
        let group = try BridgeTestCluster.group()
        let topic = BridgeTestCluster.unique("together")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
        let old = #"{id: old, site: c405, url: "http://127.0.0.1:9/old", topics: [order_state_changed], hash_key: file-key-0123456789}"#
        try await withBridge(Self.config(Self.yaml(group: group, topic: topic, webhooks: [Self.fileHook, old]))) { _ in }
        let edited = Self.fileHook.replacingOccurrences(of: "9/a", with: "9/b")
        let config = try Self.config(Self.yaml(group: group, topic: topic, sites: "  - {id: c404, token: c404-test-token-0001}", webhooks: [edited]))
        async let first = Bridge(config: config, logger: BridgeTestCluster.logger)
        async let second = Bridge(config: config, logger: BridgeTestCluster.logger)
        let bridges = try await [first, second]
        for bridge in bridges {
            try await whileRunning(bridge.serviceGroup(signals: []), ready: { try await waitUntilReady(bridge) }) {
                #expect(await waitFor { bridge.catalog.webhooks.map(\.id) == ["filehook"] })
                #expect(bridge.catalog.webhook("filehook")?.url == "http://127.0.0.1:9/b")
                #expect(bridge.catalog.customTopics(site: "c405").isEmpty)
            }
        }
        #expect(try await Bridge.plan(config, logger: BridgeTestCluster.logger).changes.isEmpty, "nothing left to change")
    }

    @Test("config plan lists what a start would create, change and delete, and writes nothing")
    func plan() async throws {
        let group = try BridgeTestCluster.group()
        let topic = BridgeTestCluster.unique("plan")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        let first = try Self.config(Self.yaml(group: group, topic: topic, webhooks: [Self.fileHook]))
        let before = try await Bridge.plan(first, logger: BridgeTestCluster.logger)
        #expect(before.changes.map(\.description).sorted() == [
            "create custom topic c405/file_topic: unordered", "create site configuration c404: the defaults; managed by the API",
            "create site configuration c405: as the file sets it", "create webhook filehook: POST to site c404's order_state_changed",
        ])
        #expect(try await Bridge.plan(first, logger: BridgeTestCluster.logger) == before, "planning wrote nothing")
        try await withBridge(first) { _ in }
        #expect(try await Bridge.plan(first, logger: BridgeTestCluster.logger).changes.isEmpty)
        let edited = Self.fileHook.replacingOccurrences(of: "9/a", with: "9/b")
        let second = try Self.config(Self.yaml(group: group, topic: topic, sites: "  - {id: c404, token: c404-test-token-0001}", webhooks: [edited]))
        #expect(try await Bridge.plan(second, logger: BridgeTestCluster.logger).changes.map(\.description).sorted() == [
            "change webhook filehook: url", "delete custom topic c405/file_topic: gone from the file", "delete site configuration c405: gone from the file",
        ])
    }

    @Test("a reload applies the edited file; an invalid one keeps the running configuration and is counted; start-up-only settings are reported")
    func reload() async throws {
        let group = try BridgeTestCluster.group()
        let topic = BridgeTestCluster.unique("reload")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        try await withReceiver(secret: nil) { receiver, port in
            let hook = #"{id: hook, site: c404, url: "http://127.0.0.1:\#(port)/first", topics: [order_state_changed], hash_key: file-key-0123456789}"#
            let text = Self.yaml(group: group, topic: topic, webhooks: [hook])
            let file = try Reliability.writeConfig(text)
            defer { try? FileManager.default.removeItem(at: file) }
            try await withBridge(Self.config(text)) { bridge in
                let reloader = bridge.configReloader(path: file.path, appliedText: text)
                try await produce([KafkaOutgoingRecord(topic: topic, key: "E1", value: #"{"entity":"E1"}"#)])
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.contains { $0.uri == "/first" } })

                // Invalid: refused, counted, nothing changes.
                try "sites: [{id: c404}]".write(to: file, atomically: true, encoding: .utf8)
                #expect(await reloader.reload() == false)
                #expect(bridge.adminBackend.metricsText().contains("webhook_bridge_config_reload_failures_total 1"))

                // Edited: the webhook moves, a site's token changes, a new webhook comes.
                // The key rotates in the file: the new key first, the old one still signing as h1.
                let moved = hook.replacingOccurrences(of: "/first", with: "/second")
                    .replacingOccurrences(of: "hash_key: file-key-0123456789", with: "hash_keys: [rotated-key-0123456789, {hash_key_env: OLD_KEY}]")
                let added = #"{id: added, site: c404, url: "http://127.0.0.1:\#(port)/added", topics: [order_state_changed], hash_key: file-key-0123456789}"#
                let edited = Self.yaml(group: group, topic: topic, webhooks: [moved, added]) + "\nshutdown_timeout: 30s"
                try edited.write(to: file, atomically: true, encoding: .utf8)
                #expect(ConfigReloader.changedKeys(from: text, to: edited) == ["shutdown_timeout"], "reported as needing a restart")
                #expect(await reloader.reload(environment: ["OLD_KEY": "file-key-0123456789"]))
                #expect(bridge.catalog.webhook("hook")?.url.hasSuffix("/second") == true)
                #expect(await waitFor { bridge.engine.lane("added") != nil && bridge.engine.lane("hook")?.webhook.url.hasSuffix("/second") == true })
                try await produce([KafkaOutgoingRecord(topic: topic, key: "E2", value: #"{"entity":"E2"}"#)])
                #expect(await receiver.wait(timeout: .seconds(30)) { requests in
                    requests.contains { $0.uri == "/second" } && requests.contains { $0.uri == "/added" }
                })
                for request in receiver.requests where request.uri == "/second" {
                    let header = request.header("x-webhook-signature")
                    #expect(WebhookSignature.verifyHMAC(header: header, secret: HashKey("rotated-key-0123456789"), body: request.body) == .valid(keyIndex: 0))
                    #expect(WebhookSignature.verifyHMAC(header: header, secret: HashKey("file-key-0123456789"), body: request.body) == .valid(keyIndex: 1))
                }
                #expect(bridge.adminBackend.metricsText().contains("webhook_bridge_config_reloads_total 1"))
            }
        }
    }
}
