import Foundation
import Testing
import WebhookDomain

@Suite("The webhook-bridge executable", .serialized)
struct ExecutableTests {
    @Test("events produced by kcat to dev-broker reach a webhook through `run --config`, signed")
    func devBrokerRunAndKcat() async throws {
        let broker = try ChildProcess(ChildProcess.executable, ["dev-broker", "--partitions", "2", "--topic", "oms.orders"])
        let bootstrap = try #require(await broker.waitForLine { $0.contains(":") }, "no bootstrap address: \(broker.lines)")
        #expect(broker.lines.first == bootstrap, "the address must be the first line of stdout")

        try await withReceiver(secret: HashKey("cli-key")) { receiver, port in
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

            let bridge = try ChildProcess(ChildProcess.executable, ["run", "--config", configPath.path], environment: ["CLI_TOKEN": "t", "CLI_KEY": "cli-key"])
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
        try "sites: [{id: c404, token: t}]\nwebhooks: [{site: c404, url: nowhere, topics: [order_state_changed]}]\n"
            .write(to: configPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: configPath) }
        let bridge = try ChildProcess(ChildProcess.executable, ["run", "--config", configPath.path])
        #expect(await bridge.stop(signal: 0) == 2)
        #expect(bridge.lines.contains { $0.contains("webhooks[0].url: not an absolute http(s) URL") }, "\(bridge.lines)")
    }
}
