import ArgumentParser
import WebhookBridge
import WebhookBridgeTools

/// `webhook-bridge status`: what one running instance is doing, as a table.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "A table of webhooks with status, in-flight, queued, lag and last error, from a running instance.")

    @Option(help: "The instance's admin API, or its http.ops_listen address when that is set.") var url = "http://127.0.0.1:8080"

    func run() async throws {
        print(StatusTable.render(try await AdminCall.json(.GET, url: url, path: "/status")), terminator: "")
    }
}
