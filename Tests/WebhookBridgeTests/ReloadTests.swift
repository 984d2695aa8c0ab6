import Foundation
import Kafka
import Testing
import WebhookDomain

@testable import WebhookBridge
@testable import WebhookBridgeTools

extension ReliabilitySuite {
    /// SIGHUP as operators send it: to a `webhook-bridge run` subprocess, against a `dev-broker`
    /// subprocess, while events flow.
    @Suite("Reliability: reload (SIGHUP) under load")
    struct Reload {
        @Test("a reload under load moves the webhook with no event lost; an invalid file is refused and delivery goes on")
        func reloadUnderLoad() async throws {
            let broker = try ChildProcess(ChildProcess.executable, ["dev-broker", "--partitions", "4", "--topic", "oms.orders", "--topic", "webhook-bridge.control"])
            let bootstrap = try #require(await broker.waitForLine { $0.contains(":") }, "no bootstrap address: \(broker.lines)")
            try await withReceiver(secret: HashKey("reload-key-0123456789")) { receiver, port in
                func yaml(path: String) -> String {
                    """
                    kafka: {bootstrap_servers: "\(bootstrap)", group_id: reload, start_from: earliest}
                    http: {admin_listen: "127.0.0.1:0", allow_private_destinations: true}
                    sites: [{id: c404, token: c404-test-token-0001}]
                    routes: [{source: oms.orders, site: c404, topic: order_state_changed}]
                    webhooks:
                      - {id: hook, site: c404, url: "http://127.0.0.1:\(port)\(path)", topics: [order_state_changed], hash_key: reload-key-0123456789}
                    logging: {format: json}
                    """
                }
                let config = try Reliability.writeConfig(yaml(path: "/first"))
                defer { try? FileManager.default.removeItem(at: config) }
                let run = try ChildProcess(ChildProcess.executable, ["run", "--config", config.path])
                #expect(await run.waitForLine { $0.contains(#""message":"ready""#) } != nil, "\(run.lines.suffix(10))")

                let total = Reliability.size(full: 20_000, smoke: 4_000)
                let producing = Task {
                    for step in 0..<(total / 100) {
                        try await Reliability.produce(Reliability.events(topic: "oms.orders", entities: 100, steps: step..<(step + 1)), bootstrap: bootstrap)
                    }
                }
                #expect(await receiver.wait(timeout: .seconds(30)) { $0.count >= total / 10 })
                try "sites: [{id: c404}]\n".write(to: config, atomically: true, encoding: .utf8)
                run.signal(SIGHUP)
                #expect(await run.waitForLine { $0.contains("config reload refused") } != nil, "\(run.lines.suffix(10))")
                try yaml(path: "/second").write(to: config, atomically: true, encoding: .utf8)
                run.signal(SIGHUP)
                #expect(await run.waitForLine { $0.contains("config reloaded") } != nil, "\(run.lines.suffix(10))")
                try await producing.value

                let ids: @Sendable ([WebhookReceiver.Received]) -> Set<String> = { Set($0.compactMap { $0.header("message_id") }) }
                #expect(await receiver.wait(timeout: .seconds(60)) { ids($0).count >= total }, "\(ids(receiver.requests).count) of \(total)")
                let paths = Dictionary(grouping: receiver.requests, by: \.uri).mapValues(\.count)
                #expect((paths["/first"] ?? 0) > 0 && (paths["/second"] ?? 0) > 0, "\(paths)")
                #expect(receiver.requests.allSatisfy { $0.hmacVerdict == .valid(keyIndex: 0) })
                #expect(await run.stop() == 0)
                Reliability.report("reload_under_load", ["events": total, "delivered_unique": ids(receiver.requests).count, "to_first": paths["/first"] ?? 0, "to_second": paths["/second"] ?? 0])
            }
            #expect(await broker.stop() == 0)
        }
    }
}
