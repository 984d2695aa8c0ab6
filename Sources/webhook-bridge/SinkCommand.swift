import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import WebhookBridge
import WebhookBridgeTools
import WebhookDomain

struct SinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sink", abstract: "A disposable webhook receiver: prints each request and its signature verdict.")

    @Option(help: "Port to listen on (0: any free port).") var port = 9090
    @Option(help: "The hash key to verify signatures with.") var secret: String?
    @Option(help: "Status to answer with.") var status = 202
    @Option(help: "Milliseconds to wait before answering.") var delay = 0

    func run() async throws {
        LogSetup.bootstrap(level: "warning", format: .text)
        let logger = Logger(label: "webhook-bridge.sink")
        let answer = WebhookReceiver.Answer(status: status, delay: .milliseconds(delay))
        let receiver = WebhookReceiver(secret: secret.map(HashKey.init), logger: logger) { request in
            for line in SinkOutput.lines(for: request, verifying: secret != nil) { print(line) }
            fflush(nil)
            return answer
        }
        let group = ServiceGroup(configuration: .init(services: [.init(service: receiver.service(port: port))], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let bound = await receiver.boundPort()
            print("sink listening on http://127.0.0.1:\(bound)/ — answering \(status)\(delay > 0 ? " after \(delay) ms" : "")")
            fflush(nil)
            try await tasks.waitForAll()
        }
    }
}
