import ArgumentParser
import WebhookBridge
import WebhookDomain

@main
struct WebhookBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook-bridge",
        abstract: "Turns Kafka streams of order-management events into signed, acknowledged, retried webhooks.",
        version: WebhookBridgeVersion.current,
        subcommands: [
            RunCommand.self, ConfigCommand.self, DemoCommand.self, DevBrokerCommand.self, WebhooksCommand.self, CheckCommand.self, SinkCommand.self,
            StatusCommand.self, ExplainCommand.self,
        ])
}
