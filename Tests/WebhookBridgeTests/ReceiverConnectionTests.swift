import Foundation
import Kafka
import ServiceLifecycle
import NIOSSL
import Synchronization
import Testing
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

/// How deliveries reach receivers (DESIGN.md §4): OAuth 2.0 client credentials against a token
/// endpoint, mutual TLS against a receiver that demands a client certificate, and egress through
/// a real proxy (tinyproxy), each end to end through a bridge.
@Suite("Receiver connections", .serialized)
struct ReceiverConnectionTests {
    /// A token endpoint and a receiver in one: `/token` grants `tok-1`, `tok-2`… to the bridge's
    /// client credentials; `/hook` acknowledges only the newest token, until it is revoked.
    final class OAuthServer: Sendable {
        private let state = Mutex<(issued: Int, valid: String?)>((0, nil))

        var issued: Int { state.withLock { $0.issued } }
        func revoke() { state.withLock { $0.valid = nil } }

        func respond(_ request: WebhookReceiver.Received) -> WebhookReceiver.Answer {
            if request.uri == "/token" {
                let body = String(decoding: request.body, as: UTF8.self)
                let credentials = "Basic " + Data("bridge-client:client-secret-7".utf8).base64EncodedString()
                guard request.header("authorization") == credentials, body == "grant_type=client_credentials&scope=orders.write",
                    request.header("content-type") == "application/x-www-form-urlencoded"
                else { return .init(status: 401) }
                let token = state.withLock { state in
                    state.issued += 1
                    state.valid = "tok-\(state.issued)"
                    return state.valid!
                }
                return .init(status: 200, body: #"{"access_token":"\#(token)","token_type":"Bearer","expires_in":3600}"#)
            }
            let valid = state.withLock { $0.valid }
            return .init(status: valid.map { request.header("authorization") == "Bearer \($0)" } == true ? 202 : 401)
        }
    }

    @Test("oauth2: one token request for many deliveries; a revoked token's 401 brings one new token and the same attempt succeeds, no pause")
    func oauth2ClientCredentials() async throws {
        let topic = BridgeTestCluster.unique("oauth")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        let server = OAuthServer()
        try await withReceiver(secret: nil, respond: { server.respond($0) }) { receiver, port in
            let group = try BridgeTestCluster.group()
            var config = try BridgeConfig.parse(
                yaml: """
                    \(testKafkaAndHTTP(group: group))
                    sites: [{id: c404, token: c404-test-token-0001}]
                    routes: [{source: \(topic), site: c404, topic: order_state_changed}]
                    webhooks:
                      - id: oauth
                        site: c404
                        url: "http://127.0.0.1:\(port)/hook"
                        topics: [order_state_changed]
                        hash_key: oauth-key-0123456789
                        auth: {type: oauth2, token_url: "http://127.0.0.1:\(port)/token", client_id: bridge-client, client_secret_env: OAUTH_SECRET, scope: orders.write}
                    """, environment: ["OAUTH_SECRET": "client-secret-7"])
            config.http.adminPort = 0
            // One entity: its messages go one at a time, so the revoked token meets one request.
            let records = { @Sendable (range: Range<Int>) in
                range.map { KafkaOutgoingRecord(topic: topic, key: "order-1", value: #"{"order_id":"order-1","step":\#($0)}"#) }
            }
            let acked = { @Sendable (count: Int) in
                await receiver.wait(timeout: .seconds(30)) { $0.filter { $0.uri == "/hook" && $0.answeredStatus == 202 }.count >= count }
            }
            try await withBridge(config) { bridge in
                try await produce(records(0..<3))
                #expect(await acked(3))
                #expect(server.issued == 1, "the token is kept between deliveries")
                server.revoke()
                try await produce(records(3..<5))
                #expect(await acked(5))
                #expect(server.issued == 2, "a 401 brought exactly one new token")
                let state = try #require(bridge.engine.runtime().first { $0.id == "oauth" })
                #expect(state.state.status == .enabled && state.state.lastError == nil, "the 401 refreshed before the attempt counted as failed")
            }
            let hooks = receiver.requests.filter { $0.uri == "/hook" }
            #expect(hooks.filter { $0.answeredStatus == 401 }.count == 1)
            #expect(hooks.filter { $0.answeredStatus == 202 }.map { $0.header("authorization") } == ["tok-1", "tok-1", "tok-1", "tok-2", "tok-2"].map { "Bearer \($0)" })
        }
    }

    /// A CA, and a server and a client certificate it signed, made with openssl: PEM paths.
    struct Certificates {
        let directory: URL
        var ca: String { path("ca.pem") }
        var serverCertificate: String { path("server.pem") }
        var serverKey: String { path("server.key") }
        var clientCertificate: String { path("client.pem") }
        var clientKey: String { path("client.key") }

        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        static func make() throws -> Certificates {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mtls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let made = Certificates(directory: directory)
            try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: made.path("server.ext"), atomically: true, encoding: .utf8)
            try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", made.path("ca.key"), "-out", made.ca, "-days", "2", "-subj", "/CN=webhook-bridge test CA"])
            for (name, subject) in [("server", "/CN=localhost"), ("client", "/CN=webhook-bridge")] {
                try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", made.path("\(name).key"), "-out", made.path("\(name).csr"), "-subj", subject])
                var signing = ["x509", "-req", "-in", made.path("\(name).csr"), "-CA", made.ca, "-CAkey", made.path("ca.key"), "-CAcreateserial"]
                signing += ["-out", made.path("\(name).pem"), "-days", "2"] + (name == "server" ? ["-extfile", made.path("server.ext")] : [])
                try openssl(signing)
            }
            return made
        }

        private static func openssl(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "openssl \(arguments.prefix(2)) failed")
        }

        /// A server that demands a certificate signed by the CA.
        func serverConfiguration() throws -> TLSConfiguration {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(serverCertificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: serverKey, format: .pem)))
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
            return configuration
        }
    }

    @Test("tls: a receiver behind a private CA that demands a client certificate accepts the webhook with one and never sees the one without")
    func mutualTLS() async throws {
        let topic = BridgeTestCluster.unique("mtls")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        let certificates = try Certificates.make()
        let receiver = WebhookReceiver(secret: HashKey("mtls-key-0123456789"), logger: BridgeTestCluster.logger)
        let service = try receiver.service(tls: try certificates.serverConfiguration())
        let receiverGroup = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: BridgeTestCluster.logger))
        try await whileRunning(receiverGroup, ready: { _ = await receiver.boundPort() }) {
            let port = await receiver.boundPort()
            let group = try BridgeTestCluster.group()
            var config = try BridgeConfig.parse(
                yaml: """
                    \(testKafkaAndHTTP(group: group))
                    sites: [{id: c404, token: c404-test-token-0001, retry_intervals: [600]}]
                    routes: [{source: \(topic), site: c404, topic: order_state_changed}]
                    webhooks:
                      - {id: mtls, site: c404, url: "https://127.0.0.1:\(port)/mtls", topics: [order_state_changed], hash_key: mtls-key-0123456789,
                         tls: {ca_file: "\(certificates.ca)", client_certificate_file: "\(certificates.clientCertificate)", client_key_file: "\(certificates.clientKey)"}}
                      - {id: no-cert, site: c404, url: "https://127.0.0.1:\(port)/no-cert", topics: [order_state_changed], hash_key: mtls-key-0123456789,
                         tls: {ca_file: "\(certificates.ca)"}}
                    """)
            config.http.adminPort = 0
            try await withBridge(config) { bridge in
                try await produce([KafkaOutgoingRecord(topic: topic, key: "order-1", value: #"{"order_id":"order-1"}"#)])
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.contains { $0.uri == "/mtls" } })
                #expect(await waitFor { bridge.engine.runtime().first { $0.id == "no-cert" }?.state.status == .paused })
                let failed = bridge.engine.runtime().first { $0.id == "no-cert" }?.state.lastError
                #expect(failed == "tls certificate rejected", "the receiver refused the handshake without a client certificate: \(failed ?? "nil")")
            }
            #expect(receiver.requests.allSatisfy { $0.uri == "/mtls" && $0.hmacVerdict == .valid(keyIndex: 0) })
        }
    }

    @Test("proxy: a site's deliveries go through tinyproxy as CONNECT tunnels; a site whose proxy is down delivers nothing directly")
    func throughProxy() async throws {
        let topic = BridgeTestCluster.unique("proxy")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        let proxyPort = try LoopbackPort.free()
        let closedPort = try LoopbackPort.free()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinyproxy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // No ConnectPort line: CONNECT to any port, as for http and https receivers alike.
        let conf = "Port \(proxyPort)\nListen 127.0.0.1\nTimeout 30\nLogLevel Info\nMaxClients 50\nAllow 127.0.0.1\n"
        try conf.write(to: directory.appendingPathComponent("tinyproxy.conf"), atomically: true, encoding: .utf8)
        let proxy = try ChildProcess(URL(fileURLWithPath: "/usr/bin/tinyproxy"), ["-d", "-c", directory.appendingPathComponent("tinyproxy.conf").path])
        #expect(await proxy.waitForLine { $0.contains("Accepting connections") } != nil, "tinyproxy: \(proxy.lines)")
        try await withReceiver(secret: nil) { receiver, port in
            let group = try BridgeTestCluster.group()
            // The global proxy is down; c404 names its own.
            let kafkaAndHTTP = testKafkaAndHTTP(group: group).replacingOccurrences(of: "http: {", with: "http: {proxy: 'http://127.0.0.1:\(closedPort)', ")
            var config = try BridgeConfig.parse(
                yaml: """
                    \(kafkaAndHTTP)
                    sites:
                      - {id: c404, token: c404-test-token-0001, proxy_env: EGRESS_PROXY}
                      - {id: other, token: other-test-token-0001, retry_intervals: [600]}
                    routes:
                      - {source: \(topic), site: c404, topic: order_state_changed}
                      - {source: \(topic), site: other, topic: order_state_changed}
                    webhooks:
                      - {id: proxied, site: c404, url: "http://127.0.0.1:\(port)/proxied", topics: [order_state_changed], hash_key: proxy-key-0123456789}
                      - {id: proxy-down, site: other, url: "http://127.0.0.1:\(port)/proxy-down", topics: [order_state_changed], hash_key: proxy-key-0123456789}
                    """, environment: ["EGRESS_PROXY": "http://127.0.0.1:\(proxyPort)"])
            config.http.adminPort = 0
            try await withBridge(config) { bridge in
                try await produce([KafkaOutgoingRecord(topic: topic, key: "order-1", value: #"{"order_id":"order-1"}"#)])
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.contains { $0.uri == "/proxied" } })
                #expect(await proxy.waitForLine { $0.contains("CONNECT 127.0.0.1:\(port) ") } != nil, "tinyproxy saw no tunnel: \(proxy.lines.suffix(5))")
                #expect(await waitFor { bridge.engine.runtime().first { $0.id == "proxy-down" }?.state.status == .paused })
                #expect(bridge.engine.runtime().first { $0.id == "proxy-down" }?.state.lastError == "connection refused")
            }
            #expect(!receiver.requests.contains { $0.uri == "/proxy-down" }, "the site whose proxy is down sent nothing around it")
        }
        // tinyproxy ignores SIGTERM while it has clients.
        _ = await proxy.stop(signal: SIGKILL)
    }
}
