import Foundation
import Kafka
import Testing
import WebhookDomain

@testable import WebhookBridge

@Suite("Alert emails end to end", .serialized)
struct AlertEmailTests {
    static func config(topic: String, receiverPort: Int, smtpPort: Int, group: String, testMode: Bool = false) throws -> BridgeConfig {
        var config = try BridgeConfig.parse(yaml: """
            \(testKafkaAndHTTP(group: group))
            smtp: {host: 127.0.0.1, port: \(smtpPort), tls: none, from: bridge@example.com}
            sites:
              - id: c404
                token: c404-test-token-0001
                max_in_flight: 1
                # Short waits up to the failure alert, then long enough for the test to react to it.
                retry_intervals: [0.2, 0.2, 3, 1]
                retries_until_failure: 2
                test_mode: \(testMode)
                test_emails: [qa@example.com]
                on_failure: {contact_emails: [ops@example.com, oncall@example.com]}
                on_deactivation: {contact_emails: [ops@example.com]}
                on_failure_recovered: {contact_emails: [ops@example.com]}
            routes: [{source: \(topic), site: c404, topic: order_state_changed}]
            webhooks:
              - {id: flaky, site: c404, url: "http://127.0.0.1:\(receiverPort)/flaky", topics: [order_state_changed], hash_key: hash-key-for-tests}
              - {id: never, site: c404, url: "http://127.0.0.1:\(receiverPort)/never", topics: [order_state_changed], hash_key: hash-key-for-tests}
              - {id: good, site: c404, url: "http://127.0.0.1:\(receiverPort)/good", topics: [order_state_changed], hash_key: hash-key-for-tests}
            """)
        config.http.adminPort = 0
        return config
    }

    @Test("one webhook_failure after retries_until_failure failed retries, one recovered when a retry is acked, one deactivation after the last retry")
    func failureRecoveryDeactivation() async throws {
        let smtp = try await SMTPServer()
        let topic = BridgeTestCluster.unique("alerts")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        let flaky = Switch(503)
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in
            .init(status: request.uri.hasPrefix("/flaky") ? flaky.status : request.uri.hasPrefix("/never") ? 500 : 202)
        }) { receiver, port in
            try await withBridge(try Self.config(topic: topic, receiverPort: port, smtpPort: smtp.port, group: try BridgeTestCluster.group())) { bridge in
                try await produce([KafkaOutgoingRecord(topic: topic, key: "DV1", value: #"{"order_id":"DV1","new_state":"shipped"}"#)])
                // Both failing webhooks send on_failure after their 2nd failed retry.
                let failures = await smtp.waitForMessages(2)
                #expect(failures.count == 2)
                flaky.status = 202
                #expect(await waitFor { bridge.engine.lane("flaky")?.status.status == .enabled && bridge.engine.lane("never")?.status.status == .disabled })
                _ = await smtp.waitForMessages(4)
                #expect(await waitFor { (bridge.mailer?.outcomes.emailsSent ?? 0) == 4 })
            }
            let messages = smtp.messages
            #expect(messages.count == 4)
            let flakyMails = messages.filter { $0.header("Subject")?.contains("webhook flaky") == true }.compactMap { $0.header("Subject") }
            let neverMails = messages.filter { $0.header("Subject")?.contains("webhook never") == true }.compactMap { $0.header("Subject") }
            #expect(flakyMails.map { $0.split(separator: ":").first.map(String.init) ?? "" } == ["webhook_failure", "webhook_failure_recovered"])
            #expect(neverMails.map { $0.split(separator: ":").first.map(String.init) ?? "" } == ["webhook_failure", "webhook_deactivation"])
            let failure = try #require(messages.first { $0.header("Subject")?.hasPrefix("webhook_failure: webhook never") == true })
            #expect(failure.to == ["ops@example.com", "oncall@example.com"])
            for expected in ["site:          c404", "webhook:       never", "url:           http://127.0.0.1:\(port)/never", "status:        paused",
                             "topic:         order_state_changed", "attempts:      3", "last error:    HTTP 500"] {
                #expect(failure.body.contains(expected), "\(expected) in \(failure.body)")
            }
            #expect(failure.body.contains("message_id:    ") && !failure.body.contains("message_id:    -"))
            let deactivation = try #require(messages.first { $0.header("Subject")?.hasPrefix("webhook_deactivation") == true })
            #expect(deactivation.to == ["ops@example.com"])
            #expect(deactivation.body.contains("status:        disabled"))
            #expect(receiver.requests.filter { $0.uri.hasPrefix("/good") }.count == 1)
        }
        await smtp.stop()
    }

    @Test("in test mode alerts go to test_emails; a server that never answers does not slow deliveries")
    func testModeAndSilentServer() async throws {
        // A TCP server that accepts and never says a word: every SMTP session waits for its reply
        // timeout (30 s). It prints a line per connection, so the test sees the alert stuck there.
        let silent = try ChildProcess(URL(fileURLWithPath: "/usr/bin/python3"), ["-u", "-c", """
            import socket, time
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
            print("PORT", s.getsockname()[1], flush=True)
            conns = []
            while True:
                c, _ = s.accept(); conns.append(c)
                print("CONNECTED", len(conns), flush=True)
            """])
        let line = try #require(await silent.waitForLine { $0.hasPrefix("PORT ") })
        let silentPort = try #require(Int(line.dropFirst(5)))
        let topic = BridgeTestCluster.unique("silent")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 2)
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in .init(status: request.uri.hasPrefix("/good") ? 202 : 500) }) { receiver, port in
            let config = try Self.config(topic: topic, receiverPort: port, smtpPort: silentPort, group: try BridgeTestCluster.group(), testMode: true)
            try await withBridge(config) { bridge in
                try await produce([KafkaOutgoingRecord(topic: topic, key: "E0", value: #"{"entity":"E0","step":-1}"#)])
                #expect(await waitFor { bridge.engine.lane("never")?.status.status == .disabled })
                // The failure alert's SMTP session is open on the silent server, waiting for a greeting.
                #expect(await silent.waitForLine { $0.hasPrefix("CONNECTED") } != nil, "the mailer never reached the silent server")
                try await produce(StatusTests.events(topic: topic, entities: 10, perEntity: 5))
                // Alerts are stuck on the silent server; deliveries to the healthy webhook are not.
                #expect(await receiver.wait(timeout: .seconds(10)) { $0.filter { $0.uri.hasPrefix("/good") }.count >= 51 })
                // Still stuck when the deliveries are done: neither sent nor given up.
                #expect(bridge.mailer?.outcomes.emailsSent == 0)
                #expect(bridge.mailer?.outcomes.emailsFailed == 0)
            }
        }
        _ = await silent.stop(signal: SIGKILL)

        // Test mode, with a real server: the alert goes to test_emails only.
        let smtp = try await SMTPServer()
        let topic2 = BridgeTestCluster.unique("testmode")
        try BridgeTestCluster.shared.createTopic(topic2, partitions: 1)
        try await withReceiver(secret: HashKey("hash-key-for-tests"), respond: { request in .init(status: request.uri.hasPrefix("/never") ? 500 : 202) }) { _, port in
            try await withBridge(try Self.config(topic: topic2, receiverPort: port, smtpPort: smtp.port, group: try BridgeTestCluster.group(), testMode: true)) { _ in
                try await produce([KafkaOutgoingRecord(topic: topic2, key: "DV1", value: #"{"order_id":"DV1"}"#)])
                #expect(await smtp.waitForMessages(1).count >= 1, "no alert email arrived")
            }
        }
        // on_failure names ops@ and oncall@: in test mode only test_emails get it.
        let mails = smtp.messages
        #expect(mails.first?.header("Subject")?.hasPrefix("webhook_failure: webhook never") == true)
        #expect(!mails.isEmpty && mails.allSatisfy { $0.to == ["qa@example.com"] }, "\(mails.map(\.to))")
        await smtp.stop()
    }

    @Test("in test mode SMS alerts go to test_mobiles only, as emails go to test_emails")
    func smsTestMode() async throws {
        let topic = BridgeTestCluster.unique("smstest")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        try await withReceiver(secret: nil, respond: { request in .init(status: request.uri.hasPrefix("/never") ? 500 : 202) }) { receiver, port in
            var config = try BridgeConfig.parse(yaml: """
                \(testKafkaAndHTTP(group: try BridgeTestCluster.group()))
                sms: {url: "http://127.0.0.1:\(port)/sms"}
                sites:
                  - id: c404
                    token: c404-test-token-0001
                    retry_intervals: [0.1]
                    retries_until_failure: 1
                    test_mode: true
                    test_mobiles: ["+1 555 0100", "+1 555 0101"]
                    on_deactivation: {contact_mobiles: ["+33600000000"], sms_notification_name: webhook_sms_deactivation}
                routes: [{source: \(topic), site: c404, topic: order_state_changed}]
                webhooks:
                  - {id: never, site: c404, url: "http://127.0.0.1:\(port)/never", topics: [order_state_changed], hash_key: alert-test-hash-key-01}
                """)
            config.http.adminPort = 0
            try await withBridge(config) { bridge in
                try await produce([KafkaOutgoingRecord(topic: topic, key: "DV1", value: #"{"order_id":"DV1"}"#)])
                #expect(await waitFor { bridge.mailer?.outcomes.smsSent == 2 })
            }
            let numbers = receiver.requests.filter { $0.uri.hasPrefix("/sms") }.compactMap { $0.json?["to"] as? String }
            #expect(numbers.sorted() == ["+1 555 0100", "+1 555 0101"])
        }
    }

    @Test("SMS alerts go to the gateway as {to, notification, text}; without a gateway they are skipped and counted")
    func sms() async throws {
        let topic = BridgeTestCluster.unique("sms")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        try await withReceiver(secret: nil, respond: { request in .init(status: request.uri.hasPrefix("/never") ? 500 : 202) }) { receiver, port in
            for gateway in [true, false] {
                var config = try BridgeConfig.parse(yaml: """
                    \(testKafkaAndHTTP(group: try BridgeTestCluster.group()))
                    \(gateway ? "sms: {url: \"http://127.0.0.1:\(port)/sms\"}" : "smtp: {host: 127.0.0.1, port: 1, from: bridge@example.com}")
                    sites:
                      - id: c404
                        token: c404-test-token-0001
                        retry_intervals: [0.1]
                        retries_until_failure: 1
                        on_deactivation: {contact_mobiles: ["+33600000000"], sms_notification_name: webhook_sms_deactivation}
                    routes: [{source: \(topic), site: c404, topic: order_state_changed}]
                    webhooks:
                      - {id: never, site: c404, url: "http://127.0.0.1:\(port)/never", topics: [order_state_changed], hash_key: hash-key-for-tests}
                    """)
                config.http.adminPort = 0
                try await withBridge(config) { bridge in
                    try await produce([KafkaOutgoingRecord(topic: topic, key: "DV1", value: #"{"order_id":"DV1"}"#)])
                    if gateway {
                        #expect(await receiver.wait(timeout: .seconds(30)) { $0.contains { $0.uri.hasPrefix("/sms") } })
                        #expect(await waitFor { bridge.mailer?.outcomes.smsSent == 1 })
                    } else {
                        #expect(await waitFor { bridge.mailer?.outcomes.smsSkipped == 1 })
                    }
                }
            }
            let sms = try #require(receiver.requests.first { $0.uri.hasPrefix("/sms") }?.json)
            #expect(sms["to"] as? String == "+33600000000")
            #expect(sms["notification"] as? String == "webhook_sms_deactivation")
            #expect((sms["text"] as? String)?.contains("webhook never") == true)
            #expect(receiver.requests.filter { $0.uri.hasPrefix("/sms") }.count == 1)
        }
    }
}
