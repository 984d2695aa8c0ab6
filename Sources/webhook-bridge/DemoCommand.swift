import ArgumentParser
import Logging
import WebhookBridge
import WebhookBridgeTools

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the bridge on an embedded broker against a local verifying receiver, with an outage and its recovery, then print a summary.")

    @Option(help: "Orders to simulate.") var orders = 40
    @Option(help: "Parcels to simulate.") var parcels = 40
    @Option(help: "Seconds the erp receiver answers 503.") var outage = 3.0

    func run() async throws {
        LogSetup.bootstrap(level: "error", format: .text)
        let (summary, _) = try await Demo.run(
            Demo.Options(orders: orders, parcels: parcels, outage: .milliseconds(Int(outage * 1000))), logger: Logger(label: "webhook-bridge.demo"))
        print(summary)
        print(summary.succeeded ? "demo: every event delivered, signed and in per-entity order; the outage paused erp and it recovered" : "demo: FAILED")
        if !summary.succeeded { throw ExitCode.failure }
    }
}
