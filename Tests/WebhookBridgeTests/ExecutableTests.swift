import Foundation
import Kafka
import Testing
import WebhookDomain
import WebhookBridgeTools

@Suite("The webhook-bridge executable", .serialized)
struct ExecutableTests {
    @Test("events produced by kcat to dev-broker reach a webhook through `run --config`, signed")
    func devBrokerRunAndKcat() async throws {
        let broker = try ChildProcess(ChildProcess.executable, ["dev-broker", "--partitions", "2", "--topic", "oms.orders", "--topic", "webhook-bridge.control"])
        let bootstrap = try #require(await broker.waitForLine { $0.contains(":") }, "no bootstrap address: \(broker.lines)")
        #expect(broker.lines.first == bootstrap, "the address must be the first line of stdout")

        try await withReceiver(secret: HashKey("cli-key-0123456789")) { receiver, port in
            let configPath = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-\(UUID().uuidString).yaml")
            try """
                kafka: {bootstrap_servers: "\(bootstrap)", group_id: cli-test, start_from: earliest}
                http: {admin_listen: "127.0.0.1:0", allow_private_destinations: true}
                sites: [{id: c404, token_env: CLI_TOKEN}]
                routes: [{source: oms.orders, site: c404, topic: order_state_changed}]
                webhooks:
                  - {id: cli, site: c404, url: "http://127.0.0.1:\(port)/hooks", topics: [order_state_changed], hash_key_env: CLI_KEY}
                """.write(to: configPath, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: configPath) }

            let bridge = try ChildProcess(ChildProcess.executable, ["run", "--config", configPath.path], environment: ["CLI_TOKEN": "c404-test-token-0001", "CLI_KEY": "cli-key-0123456789"])
            #expect(await bridge.waitForLine { $0.contains("partitions assigned") } != nil, "bridge output: \(bridge.lines)")

            let input = Pipe()
            let kcat = try ChildProcess(URL(fileURLWithPath: "/usr/bin/kcat"), ["-b", bootstrap, "-t", "oms.orders", "-P", "-K", "|"], stdin: input)
            let lines = (0..<20).map { #"E\#($0 % 4)|{"entity":"E\#($0 % 4)","step":\#($0 / 4)}"# }.joined(separator: "\n") + "\n"
            input.fileHandleForWriting.write(Data(lines.utf8))
            try input.fileHandleForWriting.close()
            #expect(await kcat.stop(signal: 0) == 0, "kcat: \(kcat.lines)")

            #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 20 }, "bridge output: \(bridge.lines.suffix(20))")
            let requests = receiver.requests
            #expect(requests.count == 20)
            #expect(requests.allSatisfy { $0.hmacVerdict == .valid(keyIndex: 0) })
            for (_, offsets) in offsetsByEntity(requests) { #expect(offsets == offsets.sorted()) }
            #expect(await bridge.stop() == 0, "graceful shutdown exits 0: \(bridge.lines.suffix(10))")
        }
        #expect(await broker.stop() == 0)
    }

    @Test("a bad config file is refused with the key path and exit status 2")
    func badConfig() async throws {
        let configPath = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml")
        try "sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{site: c404, url: nowhere, topics: [order_state_changed]}]\n"
            .write(to: configPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: configPath) }
        let bridge = try ChildProcess(ChildProcess.executable, ["run", "--config", configPath.path])
        #expect(await bridge.stop(signal: 0) == 2)
        #expect(bridge.lines.contains { $0.contains("webhooks[0].url: not an absolute http(s) URL") }, "\(bridge.lines)")
    }

    @Test("config check validates offline (exit 2 naming the key); config plan shows what a start would do, and a start then leaves nothing to plan; a file webhook paused through the API stays paused across a restart; a second start on the same admin port is refused naming it")
    func configCheckAndPlan() async throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml")
        try "sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{site: c404, url: 'https://a.example', topics: [order_state_changed]}]\n"
            .write(to: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: bad) }
        let check = try ChildProcess(ChildProcess.executable, ["config", "check", "--config", bad.path])
        #expect(await check.stop(signal: 0) == 2)
        #expect(check.lines.contains { $0.contains("webhooks[0].id: required") }, "\(check.lines)")

        let broker = try ChildProcess(ChildProcess.executable, ["dev-broker", "--partitions", "1", "--topic", "oms.orders", "--topic", "webhook-bridge.control"])
        let bootstrap = try #require(await broker.waitForLine { $0.contains(":") })
        let good = FileManager.default.temporaryDirectory.appendingPathComponent("good-\(UUID().uuidString).yaml")
        let adminPort = try LoopbackPort.free()
        try """
            kafka: {bootstrap_servers: "\(bootstrap)"}
            http: {admin_listen: "127.0.0.1:\(adminPort)"}
            sites: [{id: c404, token: c404-test-token-0001}]
            routes: [{source: oms.orders, site: c404, topic: order_state_changed}]
            webhooks: [{id: erp, site: c404, url: 'https://erp.example/hooks', topics: [order_state_changed], hash_key: erp-key-0123456789}]
            """.write(to: good, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: good) }
        let valid = try ChildProcess(ChildProcess.executable, ["config", "check", "--config", good.path])
        #expect(await valid.stop(signal: 0) == 0)
        #expect(valid.lines.contains { $0.contains("valid: 1 site(s), 1 webhook(s), 1 route(s)") }, "\(valid.lines)")
        let plan = try ChildProcess(ChildProcess.executable, ["config", "plan", "--config", good.path])
        #expect(await plan.stop(signal: 0) == 0, "\(plan.lines)")
        #expect(plan.lines.contains("create webhook erp: POST to site c404's order_state_changed"), "\(plan.lines)")
        #expect(plan.lines.contains("2 to create, 0 to change, 0 to delete"), "\(plan.lines)")

        // A file webhook paused through the API, as a new user would: the pause holds across a restart.
        let run = try ChildProcess(ChildProcess.executable, ["run", "--config", good.path])
        #expect(await run.waitForLine { $0.contains("ready") } != nil, "\(run.lines.suffix(10))")
        #expect(try await httpPatch("http://127.0.0.1:\(adminPort)/webhooks/erp/status", body: #"{"status":"paused"}"#).status == 200)
        #expect(await run.stop() == 0)
        let after = try ChildProcess(ChildProcess.executable, ["config", "plan", "--config", good.path])
        #expect(await after.stop(signal: 0) == 0)
        #expect(after.lines.contains { $0.hasPrefix("no changes") }, "\(after.lines)")
        let again = try ChildProcess(ChildProcess.executable, ["run", "--config", good.path])
        #expect(await again.waitForLine { $0.contains("ready") } != nil, "\(again.lines.suffix(10))")
        let shown = try await httpGet("http://127.0.0.1:\(adminPort)/webhooks/erp?site_id=c404")
        #expect(shown.body.contains(#""status":"paused""#), "the pause held across the restart: \(shown)")
        // A second start while the first holds the admin port: refused, naming the setting.
        let taken = try ChildProcess(ChildProcess.executable, ["run", "--config", good.path])
        #expect(await taken.stop(signal: 0) == 1)
        let refusal = await taken.waitForLine { $0.contains("http.admin_listen 127.0.0.1:\(adminPort): cannot listen") }
        #expect(refusal != nil, "\(taken.lines.suffix(5))")
        #expect(await again.stop() == 0)
        #expect(await broker.stop() == 0)
    }

    @Test("kill -9 in mid-stream loses nothing; redeliveries keep their message_id")
    func crashLosesNothing() async throws {
        let broker = try ChildProcess(ChildProcess.executable, ["dev-broker", "--partitions", "3", "--topic", "oms.orders", "--topic", "webhook-bridge.control"])
        let bootstrap = try #require(await broker.waitForLine { $0.contains(":") })
        try await withReceiver(secret: HashKey("crash-key-0123456789"), respond: { _ in
            // Slow enough that the kill lands in mid-stream.
            try? await Task.sleep(for: .milliseconds(2))
            return .init(status: 202)
        }) { receiver, port in
            let configPath = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(UUID().uuidString).yaml")
            try """
                kafka: {bootstrap_servers: "\(bootstrap)", group_id: crash-test, start_from: earliest}
                http: {admin_listen: "127.0.0.1:0", allow_private_destinations: true}
                sites: [{id: c404, token: c404-test-token-0001, max_in_flight: 4}]
                routes: [{source: oms.orders, site: c404, topic: order_state_changed}]
                webhooks:
                  - {id: crash, site: c404, url: "http://127.0.0.1:\(port)/hooks", topics: [order_state_changed], hash_key: crash-key-0123456789}
                """.write(to: configPath, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: configPath) }

            let producer = try KafkaProducer(configuration: .init(kafka: KafkaConfig(bootstrapServers: bootstrap)), logger: BridgeTestCluster.logger)
            for step in 0..<50 {
                for entity in 0..<10 {
                    try await producer.send(KafkaOutgoingRecord(topic: "oms.orders", key: "E\(entity)", value: #"{"entity":"E\#(entity)","step":\#(step)}"#))
                }
            }
            await producer.close()

            let first = try ChildProcess(ChildProcess.executable, ["run", "--config", configPath.path])
            #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= 100 })
            #expect(await first.stop(signal: SIGKILL) == SIGKILL)
            let beforeRestart = receiver.requests.count
            #expect(beforeRestart < 500, "the kill should land in mid-stream")

            let second = try ChildProcess(ChildProcess.executable, ["run", "--config", configPath.path])
            #expect(await receiver.wait(timeout: .seconds(60)) { Set($0.compactMap { $0.header("message_id") }).count >= 500 }, "\(second.lines.suffix(10))")
            #expect(await second.stop() == 0)

            // Every event arrived; each (entity, step) under one id, and a resent id carries the same body.
            var bodies: [String: [UInt8]] = [:]
            var idsByEvent: [String: Set<String>] = [:]
            for request in receiver.requests {
                let id = try #require(request.header("message_id"))
                if let known = bodies[id] { #expect(known == request.body) }
                bodies[id] = request.body
                let json = try #require(request.json)
                idsByEvent["\(json["entity"]!)/\(json["step"]!)", default: []].insert(id)
            }
            #expect(idsByEvent.count == 500)
            #expect(idsByEvent.values.allSatisfy { $0.count == 1 })
            #expect(receiver.requests.allSatisfy { $0.hmacVerdict == .valid(keyIndex: 0) })
        }
        #expect(await broker.stop() == 0)
    }

    @Test("`webhooks list|show|pause|enable` talk to a running bridge's admin API")
    func webhooksCommand() async throws {
        let topic = BridgeTestCluster.unique("cli")
        try BridgeTestCluster.shared.createTopic(topic, partitions: 1)
        try await withReceiver(secret: nil) { _, port in
            let config = try testConfig(sources: [(topic, "order_state_changed")], receiverPort: port, group: try BridgeTestCluster.group())
            try await withBridge(config) { bridge in
                #expect(await waitFor { bridge.adminPort != nil })
                let url = "http://127.0.0.1:\(bridge.adminPort ?? 0)"
                func run(_ arguments: [String], token: String = "c404-test-token-0001") async throws -> (Int32, [String]) {
                    let child = try ChildProcess(ChildProcess.executable, ["webhooks"] + arguments + ["--url", url, "--site", "c404"], environment: ["WEBHOOK_BRIDGE_TOKEN": token])
                    let status = await child.stop(signal: 0)
                    // Its last lines may still be on their way from the pipe after it exited.
                    _ = await child.waitUntil(timeout: .seconds(5)) { !$0.isEmpty }
                    return (status, child.lines)
                }
                let (listed, lines) = try await run(["list"])
                #expect(listed == 0)
                #expect(lines.contains { $0.hasPrefix("hook\tenabled\tPOST\thttp://127.0.0.1:") }, "\(lines)")
                #expect(try await run(["pause", "hook"]).0 == 0)
                #expect(await waitFor { bridge.engine.lane("hook")?.status.status == .paused })
                #expect(try await run(["enable", "hook"]).0 == 0)
                #expect(await waitFor { bridge.engine.lane("hook")?.status.status == .enabled })
                let (shown, shownLines) = try await run(["show", "hook"])
                #expect(shown == 0 && shownLines.contains { $0.contains("\"status\" : \"enabled\"") }, "\(shownLines)")
                // The enable's catch-up (from the pause's cursor) counts as a replay in flight until it ends.
                #expect(await waitFor { !bridge.adminBackend.replayInFlight(webhookID: "hook") })
                let (replayed, replayLines) = try await run(["replay", "hook", "--since", "0"])
                #expect(replayed == 0 && replayLines.contains("\(topic)/0\tfrom offset 0"), "\(replayLines)")
                let (refused, refusedLines) = try await run(["list"], token: "wrong-token-0123456789")
                #expect(refused != 0)
                #expect(refusedLines.contains { $0.contains("401") }, "\(refusedLines)")
            }
        }
    }
}
