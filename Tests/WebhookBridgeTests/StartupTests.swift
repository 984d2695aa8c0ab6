import Foundation
import Testing
import WebhookBridgeTools

/// `webhook-bridge run` starts inside the service lifecycle (issue 18, issue 14 item 5): its
/// listeners answer before the control topic is read, and a SIGTERM during a slow start is clean.
@Suite("Start-up inside the service lifecycle")
struct StartupTests {
    @Test("with no broker reachable, /health answers at once, /ready and the tenants' API say 503 starting, and SIGTERM ends the start cleanly")
    func slowStart() async throws {
        let port = try LoopbackPort.free()
        let unused = try LoopbackPort.free()
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("startup-\(UUID().uuidString.prefix(8)).yaml")
        try """
            kafka: {bootstrap_servers: "127.0.0.1:\(unused)", group_id: startup}
            http: {admin_listen: "127.0.0.1:\(port)"}
            sites: [{id: c404, token: c404-test-token-0001}]
            routes: [{source: oms.orders, site: c404, topic: order_state_changed}]
            webhooks:
              - {id: a, site: c404, url: "https://example.com/hooks", topics: [order_state_changed], hash_key: start-key-0123456789}
            """.write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }
        let bridge = try ChildProcess(ChildProcess.executable, ["run", "--config", config.path])
        #expect(await Self.answers("http://127.0.0.1:\(port)/health", status: 200), "\(bridge.lines.suffix(5))")
        #expect(try await httpGet("http://127.0.0.1:\(port)/ready").status == 503)
        let api = try await httpGet("http://127.0.0.1:\(port)/webhooks")
        #expect(api.status == 503 && api.body.contains(#""code":"starting""#), "\(api)")
        #expect(!bridge.lines.contains { $0.contains("webhook-bridge started") }, "still starting: no broker answers")
        let clock = ContinuousClock()
        let stopping = clock.now
        #expect(await bridge.stop() == 0)
        let stopped = clock.now - stopping
        #expect(stopped < .seconds(10), "SIGTERM during the start took \(stopped)")
        #expect(bridge.lines.contains { $0.contains("stopped while starting") }, "\(bridge.lines.suffix(5))")
    }

    /// Polls until the URL answers `status` (the listener comes up as the process starts).
    static func answers(_ url: String, status: Int) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await httpGet(url))?.status == status { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
