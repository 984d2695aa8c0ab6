import Foundation
import Testing
import WebhookDomain

@testable import WebhookBridge

@Suite("Configuration file")
struct ConfigTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the shipped example loads, with secrets from the environment")
    func example() throws {
        let config = try BridgeConfig.load(
            path: Self.repository.appendingPathComponent("config/example.yaml").path,
            environment: ["C404_TOKEN": "secret-token-0123456789", "ERP_HASH_KEY": "erp-key-0123456789"])
        #expect(config.kafka.isEmbedded)
        #expect(config.kafka.groupID == "webhook-bridge")
        #expect(config.kafka.startFrom == .latest)
        let site = try #require(config.sites.first)
        #expect(site.token == "secret-token-0123456789")
        #expect(site.retryIntervals == [30, 60, 120, 240, 480, 840].map { .seconds($0) })
        #expect(site.messageRetention == .seconds(7 * 86_400))
        #expect(site.notifications["email_sent_to_client"] == WorkflowNotification(webhookTopics: ["email_sent_to_client_topic"], delay: .zero))
        #expect(config.routes.count == 3)
        #expect(config.routes[2].topic == .notification("notification"))
        let webhook = try #require(config.webhooks.first)
        #expect(webhook.hashKeys == [HashKey("erp-key-0123456789")])
        #expect(webhook.options.batchLinger == .milliseconds(20))
        #expect(webhook.options.rateLimit == nil && !webhook.options.adaptive)
        let paced = try BridgeConfig.parse(yaml: """
            sites: [{id: c404, token: c404-test-token-0001}]
            webhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], options: {rate_limit: 2.5, adaptive: true}}]
            """)
        #expect(paced.webhooks.first?.options.rateLimit == 2.5 && paced.webhooks.first?.options.adaptive == true)
        #expect(config.smtp?.tls == BridgeConfig.SMTPTLS.none)
        #expect(config.smtp?.allowPlaintextAuth == false)
        #expect(config.http.opsListen == nil)
        #expect(config.http.listenerLimits == BridgeConfig.ListenerLimits())
    }

    @Test("http.ops_listen and http.listener_limits: the operators' listener and the limits of both")
    func listeners() throws {
        let defaults = try BridgeConfig.parse(yaml: "http: {admin_listen: '127.0.0.1:8080'}")
        #expect(defaults.http.opsListen == nil)
        #expect(defaults.http.listenerLimits.idleTimeout == .seconds(60))
        #expect(defaults.http.listenerLimits.readTimeout == .seconds(10))
        #expect(defaults.http.listenerLimits.maxConnections == 256)
        #expect(defaults.http.listenerLimits.maxHeaderBytes == 16_384)
        let set = try BridgeConfig.parse(yaml: """
            http:
              admin_listen: 127.0.0.1:8080
              ops_listen: "[::]:9091"
              listener_limits: {idle_timeout: 30s, read_timeout: 500ms, max_connections: 1000, max_header_bytes: 8192}
            """)
        #expect(set.http.opsListen == .init(host: "::", port: 9091))
        #expect(set.http.listenerLimits.idleTimeout == .seconds(30))
        #expect(set.http.listenerLimits.readTimeout == .milliseconds(500))
        #expect(set.http.listenerLimits.maxConnections == 1_000)
        #expect(set.http.listenerLimits.maxHeaderBytes == 8_192)
        // Port 0 on both: each gets a free port, so they cannot clash.
        #expect(try BridgeConfig.parse(yaml: "http: {admin_listen: '127.0.0.1:0', ops_listen: '127.0.0.1:0'}").http.opsListen?.port == 0)
    }

    @Test("the demo config loads")
    func demo() throws {
        let config = try BridgeConfig.load(path: Self.repository.appendingPathComponent("config/demo.yaml").path, environment: [:])
        #expect(config.sites.first?.retryIntervals == [1, 2, 4].map { .seconds($0) })
        #expect(config.webhooks.map(\.id) == ["demo-erp"])
    }

    @Test(
        "each kind of mistake names the key path and the problem",
        arguments: [
            ("kafka: {group_idd: x}", "kafka.group_idd: unknown key"),
            ("kafka: {start_from: middle}", "kafka.start_from: expected one of earliest, latest, got \"middle\""),
            ("http: {admin_listen: nowhere}", "http.admin_listen: expected host:port"),
            ("http: {ops_listen: 9091}", "http.ops_listen: expected host:port"),
            ("http: {admin_listen: '0.0.0.0:8080', ops_listen: '0.0.0.0:8080'}", "http.ops_listen: must differ from http.admin_listen"),
            ("http: {listener_limits: {read_timeout: 0}}", "http.listener_limits.read_timeout: must be from 0.001 to 86400 seconds"),
            ("http: {listener_limits: {idle_timeout: soon}}", "http.listener_limits.idle_timeout: expected a duration"),
            ("http: {listener_limits: {max_connections: 0}}", "http.listener_limits.max_connections: must be between 1 and 100000, got 0"),
            ("http: {listener_limits: {max_header_bytes: 100}}", "http.listener_limits.max_header_bytes: must be between 1024 and 1048576, got 100"),
            ("http: {listener_limits: {idle: 5s}}", "http.listener_limits.idle: unknown key"),
            ("sites: [{id: c404}]", "sites[0].token: required: give token, token_env or token_file"),
            ("sites: [{id: c404, token_env: NOT_SET_ANYWHERE}]", "sites[0].token_env: environment variable NOT_SET_ANYWHERE is not set"),
            ("sites: [{id: c404, token: c404-test-token-0001, ack_timeout: soon}]", "sites[0].ack_timeout: expected a duration"),
            ("sites: [{id: c404, token: c404-test-token-0001, retry_intervals: [1, -2]}]", "sites[0].retry_intervals[1]: expected a duration"),
            ("sites: [{id: c404, token: c404-test-token-0001, retries_until_failure: 9}]", "sites[0].retries_until_failure: must be between 1 and the number of retry_intervals (6), not 9"),
            ("sites: [{id: c404, token: c404-test-token-0001, max_in_flight: many}]", "sites[0].max_in_flight: expected a whole number"),
            // Limits: `Site.validate()` and `WebhookOptions.validate()`, under the file's key path.
            ("sites: [{id: c404, token: c404-test-token-0001, retry_intervals: [1, 2, 0]}]", "sites[0].retry_intervals[2]: must be from 0.001 to 3153600000 seconds (100 years)"),
            ("sites: [{id: c404, token: c404-test-token-0001, retry_intervals: []}]", "sites[0].retry_intervals: must not be empty"),
            ("sites: [{id: c404, token: c404-test-token-0001, ack_timeout: 61s}]", "sites[0].ack_timeout: must be from 0.001 to 60 seconds"),
            ("sites: [{id: c404, token: c404-test-token-0001, ack_statuses: [202, 700]}]", "sites[0].ack_statuses: must be HTTP statuses (100-599), at least one"),
            ("sites: [{id: c404, token: c404-test-token-0001, message_retention: 0s}]", "sites[0].message_retention: must be from 0.001"),
            ("sites: [{id: c404, token: c404-test-token-0001, max_in_flight: 65}]", "sites[0].max_in_flight: must be between 1 and 64, not 65"),
            ("sites: [{id: c404, token: c404-test-token-0001}, {id: c405, token: c405-test-token-0002, notifications: {n: {media: {webhook_topic: []}}}}]", "sites[1].notifications.n.media.webhook_topic: must name at least one topic"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], options: {batch_linger: 2m}}]", "webhooks[0].options.batch_linger: must be from 0 to 60 seconds"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], options: {max_pending: 0}}]", "webhooks[0].options.max_pending: must be between 1 and 10000, not 0"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], options: {rate_limit: 0}}]", "webhooks[0].options.rate_limit: must be more than 0 and at most 10000 requests a second, not 0.0"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], options: {rate_limit: fast}}]", "webhooks[0].options.rate_limit: expected a number"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], options: {adaptive: maybe}}]", "webhooks[0].options.adaptive: expected true or false"),
            ("sites: [{id: c404, token: c404-test-token-0001}, {id: c404, token: c405-test-token-0002}]", "sites[1].id: duplicate site id c404"),
            ("sites: [{id: c404, token: c404-test-token-0001, notifications: {n: {media: {webhook_topic: [nope]}}}}]", "sites[0].notifications.n.media.webhook_topic: unknown topic nope"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source: s, site: c405, topic: order_state_changed}]", "routes[0].site: unknown site c405"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source: s, site: c404}]", "routes[0].topic: required: give topic, topic_field, notification_field or topic_header"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source_pattern: 'oms.*', site: c404, topic: order_state_changed}]", "routes[0].source_pattern: a pattern starts with ^"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source_pattern: '^webhook-bridge.*', site: c404, topic: order_state_changed}]", "routes[0].source_pattern: matches the bridge's own topic webhook-bridge.control"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source_pattern: '^(', site: c404, topic: order_state_changed}]", "routes[0].source_pattern: not a valid regular expression"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source: s, source_pattern: '^s', site: c404, topic: order_state_changed}]", "routes[0].source: give only one of source or source_pattern"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source: s, site: c404, site_header: h, topic: order_state_changed}]", "routes[0].site: give only one of site, site_field or site_header"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source: s, site: c404, topic: order_state_changed, format: avro}]", "routes[0].format: avro needs schema_registry.url"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source: s, site: c404, topic: order_state_changed, format: xml}]", "routes[0].format: expected one of json, avro, json_sr"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source: s, site: c404, topic: order_state_changed, deletes: include}]", "routes[0].deletes: only with envelope: debezium"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source: s, site: c404, topic: order_state_changed, envelope: debezium, deletes: all}]", "routes[0].deletes: expected one of skip, include"),
            ("schema_registry: {url: 'ftp://x'}", "schema_registry.url: not an absolute http(s) URL"),
            ("schema_registry: {url: 'http://r:8081', username: u}", "schema_registry.username: give username and password together"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source: s, site: c404, topic: a, topic_field: b}]", "routes[0].topic: give only one of"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nroutes: [{source: s, site: c404, topic: unknown_topic}]", "routes[0].topic: unknown webhook topic unknown_topic"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: x, topics: [order_state_changed]}]", "webhooks[0].url: not an absolute http(s) URL"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'http://127.0.0.1/', topics: [order_state_changed]}]", "webhooks[0].url: destination 127.0.0.1 is loopback"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [nope]}]", "webhooks[0].topics[0]: unknown webhook topic nope"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], http_method: FETCH}]", "webhooks[0].http_method: expected one of GET, XGET, POST, PATCH, PUT, DELETE"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], options: {max_batch_size: 31}}]", "webhooks[0].options.max_batch_size: must be between 1 and 30, not 31"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], options: {signature: rsa}}]", "webhooks[0].options.signature: expected one of hmac, standard, both"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], hash_key: a, hash_key_env: B}]", "webhooks[0].hash_key: give hash_key or hash_key_env, not both"),
            ("smtp: {username: u}", "smtp.password_env: required when username is set"),
            // Keys and tokens (DESIGN.md §10): `Site.validate()` and `HashKey.validate()`, under the file's key path.
            ("sites: [{id: c404, token: fifteen-chars..}]", "sites[0].token: must be at least 16 characters"),
            ("sites: [{id: c404, token: c404-test-token-0001}, {id: c405, token: c404-test-token-0001}]", "sites[1].token: the same token as sites[0] (c404): tokens must be unique"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], hash_key: fifteen-chars..}]", "webhooks[0].hash_key: must be at least 16 characters"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], hash_key: whsec_c2hvcnQ=}]", "webhooks[0].hash_key: a whsec_ key must decode to at least 24 bytes"),
            // Kafka properties the guarantees rest on (DESIGN.md §7, §9).
            ("kafka: {properties: {enable.auto.offset.store: 'true'}}", "kafka.properties.enable.auto.offset.store: set by the bridge"),
            ("kafka: {properties: {enable.auto.commit: 'false'}}", "kafka.properties.enable.auto.commit: set by the bridge"),
            ("kafka: {properties: {auto.commit.enable: 'false'}}", "kafka.properties.auto.commit.enable: set by the bridge"),
            ("kafka: {properties: {acks: '1'}}", "kafka.properties.acks: set by the bridge's producer (acks=all)"),
            ("kafka: {properties: {request.required.acks: '0'}}", "kafka.properties.request.required.acks: set by the bridge's producer"),
            ("kafka: {properties: {enable.idempotence: 'false'}}", "kafka.properties.enable.idempotence: the bridge's producer must be idempotent"),
            ("kafka: {properties: {isolation.level: read_uncommitted}}", "kafka.properties.isolation.level: the bridge reads committed records only"),
            ("kafka: {properties_env: {sasl.password: NOT_SET_ANYWHERE}}", "kafka.properties_env.sasl.password: environment variable NOT_SET_ANYWHERE is not set"),
            ("kafka: {properties_file: {sasl.password: /nonexistent/kafka-secret}}", "kafka.properties_file.sasl.password: cannot read /nonexistent/kafka-secret"),
            ("kafka: {properties: {sasl.password: x}, properties_file: {sasl.password: /nonexistent/kafka-secret}}", "kafka.properties_file.sasl.password: given in kafka.properties too"),
            ("kafka: {properties_secret: {sasl.password: x}}", "kafka.properties_secret: unknown key"),
            // Quotas per site.
            ("quotas: {webhooks_per_site: 0}", "quotas.webhooks_per_site: must be between 1 and 100000, not 0"),
            ("quotas: {topics_per_site: 5}", "quotas.topics_per_site: unknown key"),
            ("quotas: {webhooks_per_site: 1}\nsites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: a, site: c404, url: 'https://a.example', topics: [order_state_changed]}, {id: b, site: c404, url: 'https://b.example', topics: [order_state_changed]}]", "webhooks[1]: site c404 is at its quota of webhooks (quotas.webhooks_per_site: 1)"),
            ("quotas: {custom_topics_per_site: 1}\nsites: [{id: c404, token: c404-test-token-0001, custom_topics: [{topic: a}, {topic: b}]}]", "sites[0].custom_topics[1]: site c404 is at its quota of custom topics (quotas.custom_topics_per_site: 1)"),
            ("http: {auth_failures_per_minute: 0}", "http.auth_failures_per_minute: must be between 1 and 1000000, got 0"),
            ("smtp: {allow_plaintext_auth: maybe}", "smtp.allow_plaintext_auth: expected true or false"),
            ("sites: [{id: c404, token: c404-test-token-0001, test_mobiles: ['+1 555 0100', 'x']}]", "sites[0].test_mobiles[1]: not a mobile number"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], auth: {type: oauth2, token_url: 'https://auth.example/token', client_id: b}}]", "webhooks[0].auth.client_secret: required (or client_secret_env, client_secret_file)"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], auth: {type: oauth2, token_url: 'ftp://auth.example', client_id: b, client_secret: s}}]", "webhooks[0].auth: token_url: not an absolute http(s) URL"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], auth: {type: digest}}]", "webhooks[0].auth.type: expected one of bearer, basic, oauth2, got digest"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], tls: {ca_file: /nonexistent/ca.pem}}]", "webhooks[0].tls.ca_file: cannot read /nonexistent/ca.pem"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], tls: {ca: not-a-pem}}]", "webhooks[0].tls.ca: not a PEM certificate"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], tls: {client_key: k}}]", "webhooks[0].tls: a client certificate needs its key"),
            ("sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], tls: {ca_path: x}}]", "webhooks[0].tls.ca_path: unknown key"),
            ("http: {proxy: 'https://proxy:3128'}", "http.proxy: expected http://host:port"),
            ("http: {proxy_env: NOT_SET_ANYWHERE}", "http.proxy_env: environment variable NOT_SET_ANYWHERE is not set"),
            ("sites: [{id: c404, token: c404-test-token-0001, proxy: 'http://proxy'}]", "sites[0].proxy: expected a port"),
            ("webhooks: {}", "webhooks: expected a list"),
            ("kafka: [1]", "kafka: expected a mapping"),
            ("kafka: {bootstrap_servers: [a, b]}", "kafka.bootstrap_servers: expected a string"),
            ("key: [unclosed", "not valid YAML"),
        ])
    func mistakes(yaml: String, expected: String) {
        do {
            _ = try BridgeConfig.parse(yaml: yaml, environment: [:])
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.description.hasPrefix(expected) || (expected == "not valid YAML" && error.description.contains(expected)), "\(error)")
        }
    }

    @Test("a file webhook needs an id; without a key it gets a generated one")
    func derivedValues() throws {
        let site = "sites: [{id: c404, token: c404-test-token-0001}]\n"
        #expect(throws: ConfigError.self) { try BridgeConfig.parse(yaml: site + "webhooks: [{site: c404, url: 'https://a.example/h', topics: [order_state_changed]}]") }
        let config = try BridgeConfig.parse(yaml: site + "webhooks: [{id: erp, site: c404, url: 'https://a.example/h', topics: [order_state_changed]}]")
        #expect(config.generatedKeys.map(\.webhookID) == ["erp"])
        #expect(config.webhooks[0].hashKeys[0].bytes.count == 32)
    }

    @Test("hash_keys rotates in the file: newest first, inline or from the environment, at most 3, not with hash_key")
    func hashKeys() throws {
        let head = "sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], "
        let config = try BridgeConfig.parse(yaml: head + "hash_keys: [new-key-0123456789, {hash_key_env: OLD}]}]", environment: ["OLD": "old-key-0123456789"])
        #expect(config.webhooks[0].hashKeys == [HashKey("new-key-0123456789"), HashKey("old-key-0123456789")])
        #expect(config.generatedKeys.isEmpty)
        for (yaml, expected) in [
            ("hash_key: new-key-0123456789, hash_keys: [old-key-0123456789]}]", "webhooks[0].hash_keys: give hash_key or hash_keys, not both"),
            ("hash_keys: [a-key-0123456789, b-key-0123456789, c-key-0123456789, d-key-0123456789]}]", "webhooks[0].hash_keys: at most 3 keys"),
            ("hash_keys: [new-key-0123456789, short]}]", "webhooks[0].hash_keys[1]: must be at least 16 characters"),
            ("hash_keys: [{hash_key_env: MISSING}]}]", "webhooks[0].hash_keys[0].hash_key_env: environment variable MISSING is not set"),
            ("hash_keys: [new-key-0123456789, new-key-0123456789]}]", "webhooks[0].hash_keys: the same key twice"),
        ] {
            #expect(throws: ConfigError.self, "\(yaml)") { try BridgeConfig.parse(yaml: head + yaml) }
            do { _ = try BridgeConfig.parse(yaml: head + yaml) } catch { #expect(error.description.hasPrefix(expected), "\(error)") }
        }
    }

    @Test("retries_until_failure not given: 3, or every retry when retry_intervals has fewer")
    func retriesDefault() throws {
        #expect(try BridgeConfig.parse(yaml: "sites: [{id: c404, token: c404-test-token-0001}]").sites[0].retriesUntilFailure == 3)
        #expect(try BridgeConfig.parse(yaml: "sites: [{id: c404, token: c404-test-token-0001, retry_intervals: [600]}]").sites[0].retriesUntilFailure == 1)
        #expect(try BridgeConfig.parse(yaml: "sites: [{id: c404, token: c404-test-token-0001, retry_intervals: [1, 2, 3, 4]}]").sites[0].retriesUntilFailure == 3)
    }

    @Test("secrets from the environment are held to the same rules, the error naming the key given")
    func secretsFromTheEnvironment() {
        let environment = ["SHORT": "fifteen-chars..", "TOKEN": "c404-test-token-0001"]
        for (yaml, expected) in [
            ("sites: [{id: c404, token_env: SHORT}]", "sites[0].token_env: must be at least 16 characters"),
            ("sites: [{id: c404, token_env: TOKEN}, {id: c405, token_env: TOKEN}]", "sites[1].token_env: the same token as sites[0] (c404): tokens must be unique"),
            ("sites: [{id: c404, token_env: TOKEN}]\nwebhooks: [{id: w, site: c404, url: 'https://a.example', topics: [order_state_changed], hash_key_env: SHORT}]", "webhooks[0].hash_key_env: must be at least 16 characters"),
            ("kafka: {properties_env: {acks: TOKEN}}", "kafka.properties_env.acks: set by the bridge's producer"),
        ] {
            do {
                _ = try BridgeConfig.parse(yaml: yaml, environment: environment)
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect(error.description.hasPrefix(expected), "\(error)")
                #expect(!error.description.contains("fifteen-chars") && !error.description.contains("c404-test-token-0001"), "secrets are never quoted: \(error)")
            }
        }
    }

    @Test("Kafka properties: inline, from the environment and from files (trailing newlines trimmed); enable.idempotence=true is allowed")
    func kafkaProperties() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-secret-\(UUID().uuidString)")
        try "p4ss word\n\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let config = try BridgeConfig.parse(
            yaml: """
                kafka:
                  properties: {security.protocol: SASL_SSL, enable.idempotence: "true"}
                  properties_env: {sasl.username: KAFKA_USER}
                  properties_file: {sasl.password: \(file.path)}
                """,
            environment: ["KAFKA_USER": "bridge"])
        #expect(config.kafka.properties == [
            "security.protocol": "SASL_SSL", "enable.idempotence": "true", "sasl.username": "bridge", "sasl.password": "p4ss word",
        ])
    }

    @Test("quotas: 100 webhooks and 100 custom topics per site by default; a file may hold that many and raise them")
    func quotas() throws {
        #expect(try BridgeConfig.parse(yaml: "").quotas == Quotas())
        let hooks = (0..<100).map { "  - {id: w\($0), site: c404, url: 'https://a.example/\($0)', topics: [order_state_changed], hash_key: hash-key-for-tests}" }
        let yaml = "sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks:\n" + hooks.joined(separator: "\n")
        #expect(try BridgeConfig.parse(yaml: yaml).webhooks.count == 100)
        let raised = try BridgeConfig.parse(yaml: "quotas: {webhooks_per_site: 100000, custom_topics_per_site: 7}\n" + yaml)
        #expect(raised.quotas.webhooksPerSite == 100_000 && raised.quotas.customTopicsPerSite == 7)
    }

    @Test("private destinations are accepted when allowed")
    func allowPrivate() throws {
        let config = try BridgeConfig.parse(yaml: """
            http: {allow_private_destinations: true}
            sites: [{id: c404, token: c404-test-token-0001}]
            webhooks: [{id: w, site: c404, url: 'http://127.0.0.1:9/h', topics: [order_state_changed], hash_key: hash-key-for-tests}]
            """)
        #expect(config.webhooks.count == 1)
    }
}
