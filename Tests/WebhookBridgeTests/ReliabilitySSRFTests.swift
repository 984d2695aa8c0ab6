import AsyncHTTPClient
import Foundation
import Kafka
import NIOCore
import NIOHTTP1
import Testing
import Synchronization
import WebhookDomain

@testable import Delivery
@testable import WebhookBridge

extension ReliabilitySuite {
    /// Case 6: destinations that reach this machine or a private network (DESIGN.md §10).
    @Suite("Reliability: private destinations (SSRF)")
    struct SSRF {
        /// Every spelling here reaches loopback, a private or link-local network, or a metadata service.
        static let privateURLs = [
            "http://127.0.0.1/", "http://127.8.9.10:8080/x", "http://localhost/", "http://LOCALHOST:9/", "http://localhost./", "http://api.localhost/",
            "http://0.0.0.0/", "http://10.0.0.1/", "http://10.255.255.255/", "http://172.16.0.1/", "http://172.31.255.254/",
            "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://169.254.0.1/", "http://100.64.0.1/",
            "http://metadata.google.internal/computeMetadata/v1/",
            // Decimal, hexadecimal, octal and short IPv4 spellings (inet_aton, and so getaddrinfo, take them).
            "http://2130706433/", "http://0x7f000001/", "http://0x7f.0.0.1/", "http://017700000001/", "http://0177.0.0.1/",
            "http://127.1/", "http://0/", "http://3232235777/", "http://0xa9fea9fe/", "http://0251.0376.0251.0376/", "http://167772161/",
            // IPv6: loopback, unspecified, ULA, link-local, IPv4-mapped (both spellings), expanded forms.
            "http://[::1]/", "http://[0:0:0:0:0:0:0:1]/", "http://[::]/", "http://[fc00::1]/", "http://[fd12:3456::1]/", "http://[fe80::1]/",
            "http://[FE80::abcd]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::ffff:a9fe:a9fe]/", "http://[0::ffff:10.0.0.1]/",
            "https://[::ffff:192.168.0.1]:8443/",
            // Ranges that carry an IPv4 address (NAT64, 6to4), local-use NAT64, reserved and benchmarking ranges.
            "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::10.0.0.1]/", "http://[64:ff9b:1::1]/", "http://[2002:a9fe:a9fe::1]/",
            "http://198.18.0.1/", "http://198.19.255.1/", "http://240.0.0.1/", "http://255.255.255.255/",
        ]
        static let publicURLs = [
            "https://hooks.example.com/x", "http://93.184.216.34/", "http://[2606:2800:220:1::1]/", "http://172.32.0.1/", "http://11.0.0.1/",
            "http://[64:ff9b::5db8:d822]/", "http://[2002:5db8:d822::1]/", "http://198.20.0.1/",
        ]

        @Test("the destination policy refuses every private spelling unless allow_private_destinations; public ones pass")
        func policy() {
            let strict = DestinationPolicy(allowPrivateDestinations: false)
            let relaxed = DestinationPolicy(allowPrivateDestinations: true)
            let accepted = Self.privateURLs.filter { strict.problem(with: $0) == nil }
            #expect(accepted.isEmpty, "accepted: \(accepted)")
            #expect(Self.privateURLs.allSatisfy { relaxed.problem(with: $0) == nil })
            #expect(Self.publicURLs.allSatisfy { strict.problem(with: $0) == nil }, "\(Self.publicURLs.filter { strict.problem(with: $0) != nil })")
            Reliability.report("ssrf_policy", ["private_urls": Self.privateURLs.count, "refused": Self.privateURLs.count - accepted.count, "accepted": accepted.count, "public_refused": Self.publicURLs.filter { strict.problem(with: $0) != nil }.count])
        }

        static func configYAML(url: String, allow: Bool) -> String {
            """
            kafka: {bootstrap_servers: embedded}
            http: {admin_listen: "127.0.0.1:0", allow_private_destinations: \(allow)}
            sites: [{id: c404, token: c404-test-token-0001}]
            webhooks: [{id: w, site: c404, url: "\(url)", topics: [order_state_changed], hash_key: hash-key-for-tests}]
            """
        }

        @Test("config file and admin API (create and patch) refuse every private spelling; the config file takes them with allow_private_destinations")
        func configAndAdminAPI() async throws {
            var configRefused = 0
            for url in Self.privateURLs {
                do {
                    _ = try BridgeConfig.parse(yaml: Self.configYAML(url: url, allow: false))
                    Issue.record("config accepted \(url)")
                } catch {
                    #expect("\(error)".contains("webhooks[0].url"), "\(error)")
                    configRefused += 1
                }
                #expect(throws: Never.self) { try BridgeConfig.parse(yaml: Self.configYAML(url: url, allow: true)) }
            }

            let topic = BridgeTestCluster.unique("ssrf")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
            let group = try BridgeTestCluster.group()
            var config = try BridgeConfig.parse(yaml: """
                kafka: {bootstrap_servers: "\(BridgeTestCluster.shared.bootstrapServers)", group_id: \(group), start_from: earliest, dead_letter_topic: \(group)-dlq, control_topic: \(group)-control, attempts_topic: \(group)-attempts}
                http: {admin_listen: "127.0.0.1:0", allow_private_destinations: false}
                sites: [{id: c404, token: c404-test-token-0001}]
                routes: [{source: \(topic), site: c404, topic: order_state_changed}]
                """)
            config.http.adminPort = 0
            let (createRefused, patchRefused) = try await withBridge(config) { bridge in
                var createRefused = 0
                var patchRefused = 0
                #expect(await waitFor { bridge.adminPort != nil })
                let admin = "http://127.0.0.1:\(bridge.adminPort ?? 0)"
                // The webhook PATCHed is the API's (a file webhook's definition is the file's: 409).
                let made = #"{"site_id":"c404","token":"c404-test-token-0001","webhook":{"url":"https://hooks.example.com/x","http_method":"POST","topics":["order_state_changed"]}}"#
                #expect(try await Self.call(.POST, "\(admin)/webhooks", made).0 == 201)
                let publicID = try #require(bridge.catalog.webhooks.first?.id)
                for url in Self.privateURLs {
                    let body = #"{"site_id":"c404","token":"c404-test-token-0001","webhook":{"url":"\#(url)","http_method":"POST","topics":["order_state_changed"]}}"#
                    let (created, createdBody) = try await Self.call(.POST, "\(admin)/webhooks", body)
                    #expect(created == 400 && createdBody.contains("webhook.url"), "POST \(url): \(created) \(createdBody)")
                    if created == 400 { createRefused += 1 }
                    let (patched, patchedBody) = try await Self.call(.PATCH, "\(admin)/webhooks/\(publicID)", #"{"url":"\#(url)"}"#, token: "c404-test-token-0001")
                    #expect(patched == 400, "PATCH \(url): \(patched) \(patchedBody)")
                    if patched == 400 { patchRefused += 1 }
                }
                // Nothing changed: still one webhook, with its public URL.
                let (listed, listedBody) = try await Self.call(.GET, "\(admin)/webhooks?site_id=c404", nil, token: "c404-test-token-0001")
                #expect(listed == 200 && listedBody.contains("hooks.example.com") && !listedBody.contains("127.0.0.1"), "\(listedBody)")
                return (createRefused, patchRefused)
            }
            Reliability.report("ssrf_config_api", [
                "urls": Self.privateURLs.count, "config_refused": configRefused, "api_create_refused": createRefused, "api_patch_refused": patchRefused,
            ])
        }

        /// A name in /etc/hosts (besides `localhost`, refused as written) that points at
        /// 127.0.0.1; container and CI hosts list their own name there. Nil if there is none.
        static let loopbackName: String? = {
            let hosts = (try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)) ?? ""
            return hosts.split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.first == "127.0.0.1", fields.count > 1 else { return nil }
                return fields.dropFirst().map(String.init).first { $0 != "localhost" && !$0.hasSuffix(".localhost") }
            }.first
        }()

        /// A host name the system resolver maps to a private address, the address, and where the
        /// name comes from: a name for 127.0.0.1 in /etc/hosts, else this machine's own host name
        /// (containers list it with their private address, systemd's resolver with a local one).
        static func privateName() async -> (host: String, address: String, source: String)? {
            var candidates: [(host: String, source: String)] = []
            if let name = loopbackName { candidates.append((name, "/etc/hosts")) }
            let own = ProcessInfo.processInfo.hostName
            // A literal address would be refused as written, which is another test.
            if own != "localhost", own.contains(where: \.isLetter), !own.contains(":") { candidates.append((own, "host name")) }
            for candidate in candidates {
                let addresses = await ResolvedDestinationCheck.addresses(of: candidate.host)
                if let address = addresses.first(where: { DestinationPolicy.isPrivate(host: $0) }) { return (candidate.host, address, candidate.source) }
            }
            return nil
        }

        /// DESIGN.md §10 says "resolving to": a name that resolves to a private address is
        /// refused at delivery time, with the system resolver (getaddrinfo reads /etc/hosts). The
        /// webhook is paused like any failing one, naming the address, and nothing reaches the
        /// receiver. Without such a name on the machine the test fails, saying so, rather than
        /// passing untested.
        @Test("a host name that resolves to a private address (/etc/hosts or the machine's own name) is refused at delivery time")
        func resolvedName() async throws {
            guard let name = await Self.privateName() else {
                Issue.record("""
                    no host name here resolves to a private address (no name for 127.0.0.1 in /etc/hosts besides localhost, \
                    and the host name \(ProcessInfo.processInfo.hostName) does not): the delivery-time check was not tested end to end
                    """)
                return
            }
            let (host, address, source) = name
            let topic = BridgeTestCluster.unique("ssrf-dns")
            try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
            let (delivered, lastError) = try await withReceiver(secret: HashKey("hash-key-for-tests")) { receiver, port in
                let group = try BridgeTestCluster.group()
                var config = try BridgeConfig.parse(yaml: """
                    kafka: {bootstrap_servers: "\(BridgeTestCluster.shared.bootstrapServers)", group_id: \(group), start_from: earliest, dead_letter_topic: \(group)-dlq, control_topic: \(group)-control, attempts_topic: \(group)-attempts}
                    http: {admin_listen: "127.0.0.1:0", allow_private_destinations: false}
                    sites: [{id: c404, token: c404-test-token-0001, retry_intervals: [0.2, 0.2, 0.2]}]
                    routes: [{source: \(topic), site: c404, topic: order_state_changed}]
                    webhooks: [{id: dns, site: c404, url: "http://\(host):\(port)/hooks", topics: [order_state_changed], hash_key: hash-key-for-tests}]
                    """)
                config.http.adminPort = 0
                return try await withBridge(config) { bridge in
                    try await produce([KafkaOutgoingRecord(topic: topic, key: "E1", value: #"{"entity":"E1"}"#)])
                    // The first attempt fails (refused), so the webhook pauses.
                    #expect(await waitFor(seconds: 20) { bridge.engine.lane("dns")?.status.status == .paused })
                    return (receiver.requests.count, bridge.engine.lane("dns")?.status.lastError)
                }
            }
            #expect(delivered == 0, "\(delivered) request(s) reached loopback through \(host)")
            // Shown to the tenant as a kind, never the address its name resolved to (DESIGN.md §10).
            #expect(lastError == "private destination refused", "\(String(describing: lastError))")
            Reliability.report("ssrf_resolved_name", [
                "host": host, "name_from": source, "resolves_to": address, "requests_delivered": delivered, "refused": delivered == 0 ? "yes" : "no",
            ])
        }

        /// The check itself, with a resolver the test controls: any private address among a
        /// name's answers refuses it; a name without answers is unresolved; otherwise the first
        /// answer is the address to connect to; verdicts are cached per host for their
        /// lifetime; literal addresses are checked without a look-up.
        @Test("resolved addresses: one private answer refuses the name, no answer fails it, the first answer is approved; cached; literals not looked up")
        func resolvedAddressCheck() async throws {
            let answers: [String: [String]] = [
                "public.example": ["93.184.216.34", "2606:2800:220:1::1"], "mixed.example": ["93.184.216.34", "10.1.2.3"],
                "six.example": ["::1"], "metadata.example": ["169.254.169.254"], "mapped.example": ["::ffff:127.0.0.1"],
                "nat64.example": ["64:ff9b::a00:1"], "sixtofour.example": ["2002:7f00:1::1"], "bench.example": ["198.18.0.1"],
            ]
            let lookups = Mutex<[String]>([])
            let check = ResolvedDestinationCheck(lifetime: .seconds(60), resolve: { host in
                lookups.withLock { $0.append(host) }
                return answers[host] ?? []
            })
            #expect(await check.verdict(on: "public.example") == .approved(address: "93.184.216.34"))
            #expect(await check.verdict(on: "public.example") == .approved(address: "93.184.216.34"))
            #expect(await check.verdict(on: "nowhere.example") == .unresolved)
            for host in ["mixed.example", "six.example", "metadata.example", "mapped.example", "nat64.example", "sixtofour.example", "bench.example"] {
                let verdict = await check.verdict(on: host)
                guard case .refused(let problem) = verdict else {
                    Issue.record("\(host): \(verdict)")
                    continue
                }
                #expect(problem.contains("destination \(host) resolves to \(answers[host]!.last!)"), "\(problem)")
            }
            #expect(await check.verdict(on: "93.184.216.34") == .approved(address: nil))
            #expect(await check.verdict(on: "[2606:2800:220:1::1]") == .approved(address: nil))
            #expect(await check.verdict(on: "127.0.0.1") != ResolvedDestinationCheck.Verdict.approved(address: nil))
            #expect(await check.verdict(on: "[64:ff9b::7f00:1]") != ResolvedDestinationCheck.Verdict.approved(address: nil))
            #expect(lookups.withLock { $0 } == [
                "public.example", "nowhere.example", "mixed.example", "six.example", "metadata.example", "mapped.example", "nat64.example",
                "sixtofour.example", "bench.example",
            ])
        }

        static func message(to url: String) -> WebhookRequest {
            let webhook = Webhook(id: "w", siteID: "s", url: url, topics: ["t"], hashKeys: [HashKey("hash-key-for-tests")])
            let message = RoutedMessage(
                siteID: "s", topic: WebhookTopic(name: "t", ordered: true), messageID: "m", sequence: "0-1", entity: [],
                payload: Array("{}".utf8), sourcePartition: 0, sourceOffset: 1)
            return WebhookRequest.single(message, to: webhook, timestamp: 1_700_000_000)
        }

        /// The HTTP client refuses before connecting: the receiver sees nothing.
        @Test("the HTTP client sends nothing to a name with a private answer (even after a public one), nor to a private literal")
        func clientRefusesResolvedName() async throws {
            try await withReceiver(secret: nil) { receiver, port in
                let answers = ["receiver.example": ["127.0.0.1"], "public-first.example": ["93.184.216.34", "127.0.0.1"]]
                let client = WebhookHTTPClient(destinationCheck: ResolvedDestinationCheck(resolve: { answers[$0] ?? [] }))
                let result = await client.send(Self.message(to: "http://receiver.example:\(port)/hooks"), timeout: .seconds(2))
                let publicFirst = await client.send(Self.message(to: "http://public-first.example:\(port)/hooks"), timeout: .seconds(2))
                let literal = await client.send(Self.message(to: "http://127.0.0.1:\(port)/hooks"), timeout: .seconds(2))
                await client.shutdown()
                #expect(publicFirst.outcomeLabel == "refused_destination", "a public answer first does not hide the loopback one")
                #expect(result.outcomeLabel == "refused_destination")
                #expect(result.failureDescription == "private destination refused")
                #expect(result.failureDetail.contains("receiver.example resolves to 127.0.0.1"))
                #expect(literal.outcomeLabel == "refused_destination")
                #expect(receiver.requests.isEmpty)
            }
        }

        /// No rebinding window: the connection goes to the address the check approved, not to a
        /// second look-up. The name here resolves nowhere but in the check's resolver (which
        /// approves the receiver's loopback address for the test), so a request that arrives
        /// was sent to the checked address; it keeps the name in its Host header. A name with
        /// no address fails the delivery as `host name not resolved`.
        @Test("the connection goes to the checked address, with the name in the Host header; an unresolved name fails")
        func connectsToCheckedAddress() async throws {
            try await withReceiver(secret: nil) { receiver, port in
                let resolved = Mutex(0)
                let check = ResolvedDestinationCheck(
                    isRefused: { _ in false },
                    resolve: { host in
                        resolved.withLock { $0 += 1 }
                        return host == "pinned.invalid" ? ["127.0.0.1"] : []
                    })
                let client = WebhookHTTPClient(destinationCheck: check)
                let first = await client.send(Self.message(to: "http://pinned.invalid:\(port)/hooks"), timeout: .seconds(5))
                let second = await client.send(Self.message(to: "http://pinned.invalid:\(port)/hooks"), timeout: .seconds(5))
                let unresolved = await client.send(Self.message(to: "http://unresolved.invalid:\(port)/hooks"), timeout: .seconds(5))
                await client.shutdown()
                #expect(first.status == 202 && second.status == 202, "\(first.failureDetail) \(second.failureDetail)")
                #expect(receiver.requests.count == 2)
                #expect(receiver.requests.allSatisfy { $0.header("host") == "pinned.invalid:\(port)" }, "\(receiver.requests.map(\.headers))")
                #expect(resolved.withLock { $0 } == 2, "one look-up per host within the verdict's lifetime")
                #expect(unresolved.failureDescription == "host name not resolved", "\(unresolved.failureDetail)")
            }
        }

        static func call(_ method: NIOHTTP1.HTTPMethod, _ url: String, _ body: String?, token: String? = nil) async throws -> (Int, String) {
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "Content-Type", value: "application/json")
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            if let body { request.body = .bytes(ByteBuffer(string: body)) }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), String(buffer: bytes))
        }
    }
}
