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
        @Test("at trace level, a run that creates and patches webhooks, delivers (with bearer, basic and OAuth 2.0 auth and a client key), fails, alerts by SMTP with AUTH logs no token, hash key or password in any form, from the environment or from files; the API returns none of the auth secrets")
        func noSecretInLogs() async throws {
            let secrets = [
                "site_token": "tok-\(UUID().uuidString)", "config_key_good": "key-good-\(UUID().uuidString)", "config_key_bad": "key-bad-\(UUID().uuidString)",
                "smtp_password": "pw-\(UUID().uuidString)", "api_key_created": "key-api-\(UUID().uuidString)", "api_key_rotated": "key-rot-\(UUID().uuidString)",
                "bearer_token": "bearer-\(UUID().uuidString)", "basic_password": "basic-\(UUID().uuidString)", "oauth_client_secret": "oauth-\(UUID().uuidString)",
                "oauth_access_token": "access-\(UUID().uuidString)", "api_bearer_token": "api-bearer-\(UUID().uuidString)",
            ]
            // A client certificate's key, read from its file at load: a line of its PEM stands for it.
            let certificates = try ReceiverConnectionTests.Certificates.make()
            let keyLines = try String(contentsOfFile: certificates.clientKey, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("-----") }
            let keyLine = String(try #require(keyLines.dropFirst().first))
            let smtp = try await SMTPServer(["--user", "alerts", "--password", secrets["smtp_password"]!])
            let adminPort = try LoopbackPort.free()
            // The site's token, the smtp password and one hash key from files (as Kubernetes mounts
            // them, with a trailing newline), the other hash key from the environment.
            let secretFiles = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: secretFiles, withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(at: secretFiles) }
            for name in ["site_token", "config_key_bad", "smtp_password", "basic_password", "oauth_client_secret"] {
                try Data((secrets[name]! + "\n").utf8).write(to: secretFiles.appendingPathComponent(name))
            }
            let accessToken = secrets["oauth_access_token"]!
            try await withReceiver(secret: nil, respond: { request in
                if request.uri == "/token" { return .init(status: 200, body: #"{"access_token":"\#(accessToken)","token_type":"Bearer","expires_in":600}"#) }
                return .init(status: request.uri.hasPrefix("/bad") ? 500 : 202)
            }) { receiver, port in
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
                      - {id: bearer, site: c404, url: "http://127.0.0.1:\(port)/bearer", topics: [order_state_changed], auth: {type: bearer, token_env: BEARER_TOKEN},
                         tls: {ca_file: "\(certificates.ca)", client_certificate_file: "\(certificates.clientCertificate)", client_key_file: "\(certificates.clientKey)"}}
                      - {id: basic, site: c404, url: "http://127.0.0.1:\(port)/basic", topics: [order_state_changed], auth: {type: basic, username: bridge, password_file: \(secretFiles.path)/basic_password}}
                      - {id: oauth, site: c404, url: "http://127.0.0.1:\(port)/oauth", topics: [order_state_changed],
                         auth: {type: oauth2, token_url: "http://127.0.0.1:\(port)/token", client_id: bridge, client_secret_file: \(secretFiles.path)/oauth_client_secret}}
                    logging: {level: trace}
                    """)
                defer { try? FileManager.default.removeItem(at: config) }
                let bridge = try ChildProcess(
                    ChildProcess.executable, ["run", "--config", config.path],
                    environment: ["GOOD_KEY": secrets["config_key_good"]!, "BEARER_TOKEN": secrets["bearer_token"]!])
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
                let (withAuth, withAuthBody) = try await SSRF.call(
                    .POST, "\(admin)/webhooks",
                    #"{"site_id":"c404","token":"\#(token)","webhook":{"url":"http://127.0.0.1:\#(port)/api-auth","http_method":"POST","topics":["order_state_changed"],"auth":{"type":"bearer","token":"\#(secrets["api_bearer_token"]!)"}}}"#)
                #expect(withAuth == 201, "\(withAuthBody)")
                let generatedKey = try #require((try JSONSerialization.jsonObject(with: Data(generatedBody.utf8)) as? [String: Any])?["hash_key"] as? String, "\(generatedBody)")
                let createdJSON = try JSONSerialization.jsonObject(with: Data(createdBody.utf8)) as? [String: Any]
                let id = try #require((createdJSON?["webhook"] as? [String: Any])?["id"] as? String ?? createdJSON?["id"] as? String, "\(createdBody)")
                let (patched, patchedBody) = try await SSRF.call(.PATCH, "\(admin)/webhooks/\(id)", #"{"hash_key":"\#(secrets["api_key_rotated"]!)"}"#, token: token)
                #expect(patched == 200, "\(patchedBody)")
                #expect(try await SSRF.call(.GET, "\(admin)/webhooks/\(id)", nil, token: token).0 == 200)
                let (listed, listBody) = try await SSRF.call(.GET, "\(admin)/webhooks?site_id=c404", nil, token: token)
                #expect(listed == 200 && listBody.contains(#""type":"oauth2""#), "\(listBody)")
                for name in ["bearer_token", "basic_password", "oauth_client_secret", "oauth_access_token", "api_bearer_token"] {
                    #expect(!listBody.contains(secrets[name]!) && !withAuthBody.contains(secrets[name]!), "the API returned \(name)")
                }
                #expect(try await SSRF.call(.GET, "\(admin)/webhooks?site_id=c404", nil, token: "wrong-\(token)").0 == 401)

                // Deliveries, a failing webhook (paused, retried, disabled) and its two alert emails.
                try await Reliability.produce(Reliability.events(topic: "oms.orders", entities: 4, steps: 0..<5), bootstrap: String(bootstrap))
                #expect(await receiver.wait(timeout: .seconds(60)) { requests in
                    ["/good", "/api", "/gen", "/bearer", "/basic", "/oauth"].allSatisfy { path in requests.filter { $0.uri.hasPrefix(path) }.count >= 20 }
                }, "\(bridge.lines.suffix(10))")
                #expect(receiver.requests.filter { $0.uri.hasPrefix("/oauth") }.allSatisfy { $0.header("authorization") == "Bearer \(accessToken)" })
                #expect(receiver.requests.filter { $0.uri.hasPrefix("/bearer") }.allSatisfy { $0.header("authorization") == "Bearer \(secrets["bearer_token"]!)" })
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
                forms["tls_client_key"] = keyLine
                forms["basic_header"] = Data("bridge:\(secrets["basic_password"]!)".utf8).base64EncodedString()
                forms["oauth_client_credentials"] = Data("bridge:\(secrets["oauth_client_secret"]!)".utf8).base64EncodedString()
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
