import AsyncHTTPClient
import Foundation
import Kafka
import NIOCore
import Testing
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

extension ReliabilitySuite {
    /// Case 7: no secret in any log line, at the most talkative level.
    @Suite("Reliability: secrets never logged")
    struct Secrets {
        @Test("at trace level, a run that creates and patches webhooks, delivers, fails, alerts by SMTP with AUTH logs no token, hash key or password in any form, from the environment or from files")
        func noSecretInLogs() async throws {
            let secrets = [
                "site_token": "tok-\(UUID().uuidString)", "config_key_good": "key-good-\(UUID().uuidString)", "config_key_bad": "key-bad-\(UUID().uuidString)",
                "smtp_password": "pw-\(UUID().uuidString)", "api_key_created": "key-api-\(UUID().uuidString)", "api_key_rotated": "key-rot-\(UUID().uuidString)",
            ]
            let smtp = try await SMTPServer(["--user", "alerts", "--password", secrets["smtp_password"]!])
            let adminPort = try LoopbackPort.free()
            // The site's token, the smtp password and one hash key from files (as Kubernetes mounts
            // them, with a trailing newline), the other hash key from the environment.
            let secretFiles = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: secretFiles, withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(at: secretFiles) }
            for name in ["site_token", "config_key_bad", "smtp_password"] {
                try Data((secrets[name]! + "\n").utf8).write(to: secretFiles.appendingPathComponent(name))
            }
            try await withReceiver(secret: nil, respond: { .init(status: $0.uri.hasPrefix("/bad") ? 500 : 202) }) { receiver, port in
                let config = try Reliability.writeConfig("""
                    kafka: {bootstrap_servers: embedded, group_id: secrets, start_from: earliest}
                    http: {admin_listen: "127.0.0.1:\(adminPort)", allow_private_destinations: true}
                    smtp: {host: 127.0.0.1, port: \(smtp.port), tls: none, username: alerts, password_file: \(secretFiles.path)/smtp_password, allow_plaintext_auth: true, from: bridge@example.com}
                    sites:
                      - {id: c404, token_file: \(secretFiles.path)/site_token, max_in_flight: 2, retry_intervals: [0.2, 0.2], retries_until_failure: 1, on_failure: {contact_emails: [ops@example.com]}, on_deactivation: {contact_emails: [ops@example.com]}}
                    routes: [{source: oms.orders, site: c404, topic: order_state_changed}]
                    webhooks:
                      - {id: good, site: c404, url: "http://127.0.0.1:\(port)/good", topics: [order_state_changed], hash_key_env: GOOD_KEY}
                      - {id: bad, site: c404, url: "http://127.0.0.1:\(port)/bad", topics: [order_state_changed], hash_key_file: \(secretFiles.path)/config_key_bad}
                    logging: {level: trace}
                    """)
                defer { try? FileManager.default.removeItem(at: config) }
                let bridge = try ChildProcess(
                    ChildProcess.executable, ["run", "--config", config.path],
                    environment: ["GOOD_KEY": secrets["config_key_good"]!])
                let started = try #require(await bridge.waitForLine { $0.contains("embedded Kafka cluster started") }, "\(bridge.lines.suffix(10))")
                let bootstrap = try #require(started.split(separator: " ").first { $0.hasPrefix("bootstrap_servers=") }?.dropFirst("bootstrap_servers=".count))
                let admin = "http://127.0.0.1:\(adminPort)"
                let deadline = ContinuousClock.now + .seconds(60)
                while (try? await SSRF.call(.GET, "\(admin)/ready", nil).0) != 200, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }

                // Create (a key given, and one generated), rotate, read back.
                let token = secrets["site_token"]!
                let (created, createdBody) = try await SSRF.call(
                    .POST, "\(admin)/webhooks",
                    #"{"site_id":"c404","token":"\#(token)","webhook":{"url":"http://127.0.0.1:\#(port)/api","http_method":"POST","topics":["order_state_changed"],"hash_key":"\#(secrets["api_key_created"]!)"}}"#)
                #expect(created == 201, "\(createdBody)")
                let (generated, generatedBody) = try await SSRF.call(
                    .POST, "\(admin)/webhooks", #"{"site_id":"c404","token":"\#(token)","webhook":{"url":"http://127.0.0.1:\#(port)/gen","http_method":"POST","topics":["order_state_changed"]}}"#)
                #expect(generated == 201, "\(generatedBody)")
                let generatedKey = try #require((try JSONSerialization.jsonObject(with: Data(generatedBody.utf8)) as? [String: Any])?["hash_key"] as? String, "\(generatedBody)")
                let createdJSON = try JSONSerialization.jsonObject(with: Data(createdBody.utf8)) as? [String: Any]
                let id = try #require((createdJSON?["webhook"] as? [String: Any])?["id"] as? String ?? createdJSON?["id"] as? String, "\(createdBody)")
                let (patched, patchedBody) = try await SSRF.call(.PATCH, "\(admin)/webhooks/\(id)", #"{"hash_key":"\#(secrets["api_key_rotated"]!)"}"#, token: token)
                #expect(patched == 200, "\(patchedBody)")
                #expect(try await SSRF.call(.GET, "\(admin)/webhooks/\(id)", nil, token: token).0 == 200)
                #expect(try await SSRF.call(.GET, "\(admin)/webhooks?site_id=c404", nil, token: "wrong-\(token)").0 == 401)

                // Deliveries, a failing webhook (paused, retried, disabled) and its two alert emails.
                try await Reliability.produce(Reliability.events(topic: "oms.orders", entities: 4, steps: 0..<5), bootstrap: String(bootstrap))
                #expect(await receiver.wait(timeout: .seconds(60)) { requests in
                    ["/good", "/api", "/gen"].allSatisfy { path in requests.filter { $0.uri.hasPrefix(path) }.count >= 20 }
                }, "\(bridge.lines.suffix(10))")
                let mails = await smtp.waitForMessages(2)
                #expect(mails.count == 2 && mails.allSatisfy(\.authenticated), "\(smtp.process.lines.suffix(5))")
                #expect(await bridge.stop() == 0)
                await smtp.stop()

                // Every form a secret could take in a line: as given, base64 (whsec_, AUTH LOGIN),
                // hex of its bytes, and SMTP AUTH PLAIN's base64 of "\0user\0password".
                var forms: [String: String] = [:]
                for (name, secret) in secrets.merging(["api_key_generated": generatedKey], uniquingKeysWith: { first, _ in first }) {
                    forms[name] = secret
                    forms[name + "_base64"] = Data(secret.utf8).base64EncodedString()
                    forms[name + "_hex"] = Data(secret.utf8).map { String(format: "%02x", $0) }.joined()
                    if secret.hasPrefix("whsec_"), let bytes = Data(base64Encoded: String(secret.dropFirst(6))) {
                        forms[name + "_bytes_hex"] = bytes.map { String(format: "%02x", $0) }.joined()
                    }
                }
                forms["smtp_auth_plain"] = Data("\u{0}alerts\u{0}\(secrets["smtp_password"]!)".utf8).base64EncodedString()
                let lines = bridge.lines
                var leaks: [String] = []
                for line in lines {
                    for (name, form) in forms {
                        guard let range = line.range(of: form) else { continue }
                        let from = line.index(range.lowerBound, offsetBy: -120, limitedBy: line.startIndex) ?? line.startIndex
                        leaks.append("\(name): …\(line[from..<range.lowerBound])<secret>…")
                    }
                }
                #expect(leaks.isEmpty, "\(leaks)")
                // The run really was talkative and exercised what it should.
                #expect(lines.count > 80, "\(lines.count) lines")
                #expect(lines.contains { $0.contains("trace") || $0.contains("debug") })
                Reliability.report("secrets", [
                    "log_lines": lines.count, "level": "trace", "secrets": secrets.count + 1, "forms_checked": forms.count, "leaks": leaks.count,
                    "deliveries": receiver.requests.count, "alert_emails": mails.count,
                ])
            }
        }
    }
}
