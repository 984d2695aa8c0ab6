import ArgumentParser
import Foundation
import Logging
import WebhookBridge

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Consume the configured source topics and deliver webhooks until SIGTERM or SIGINT.")

    @Option(name: .shortAndLong, help: "The YAML configuration file.")
    var config: String

    func run() async throws {
        MallocArenas.limit()
        try await service().run()
    }

    /// The service, holding the only copy of the configuration's webhooks: none is left here.
    private func service() throws -> BridgeService {
        let (settings, text) = try ConfigCommand.load(config)
        LogSetup.bootstrap(level: settings.logLevel, format: settings.logFormat)
        let logger = Logger(label: "webhook-bridge")
        logger.notice("webhook-bridge starting", metadata: ["group_id": "\(settings.kafka.groupID)", "pid": "\(ProcessInfo.processInfo.processIdentifier)"])
        return BridgeService(config: settings, file: (config, text), logger: logger) { bridge in
            for generated in bridge.generatedKeysInUse {
                // Shown once, like a key the API generates: the receiver needs it to verify signatures.
                FileHandle.standardError.write(
                    Data("webhook-bridge: webhook \(generated.webhookID) has no hash key; generated \(generated.key.whsec) (kept in the control topic)\n".utf8))
            }
            logger.notice("webhook-bridge started", metadata: ["bootstrap_servers": "\(bridge.bootstrapServers)"])
        }
    }
}
