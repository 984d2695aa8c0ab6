import ArgumentParser
import Logging
import WebhookBridge

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run the bridge on an embedded broker against a local verifying receiver, then print a summary.")

    @Option(help: "Orders to simulate.") var orders = 30
    @Option(help: "Parcels to simulate.") var parcels = 30

    func run() async throws {
        LogSetup.bootstrap(level: "warning", format: .text)
        let summary = try await Demo.run(orders: orders, parcels: parcels, logger: Logger(label: "webhook-bridge.demo"))
        print(summary)
        print(summary.succeeded ? "demo: every event delivered, signed and in per-entity order" : "demo: FAILED")
        if !summary.succeeded { throw ExitCode.failure }
    }
}
