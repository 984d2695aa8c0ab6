import ArgumentParser
import Foundation
import Logging
import WebhookBridge
import WebhookBridgeTools
import WebhookDomain

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Send signed test messages to a receiver, many at once, and judge its acknowledgements.",
        discussion: "Exit status 0 when every message was acknowledged within the timeout, 1 otherwise.")

    @Argument(help: "The receiver's URL.") var url: String
    @Option(help: "The hash key the receiver verifies with.") var secret = "check-secret"
    @Option(help: "Signature scheme: hmac, standard or both.") var scheme: String = "hmac"
    @Option(help: "Requests at once (the guide asks for at least 20).") var concurrency = 20
    @Option(help: "Messages to send.") var count = 100
    @Option(help: "Statuses that acknowledge, comma-separated.") var ack = "202"
    @Option(help: "Seconds to wait for each answer.") var timeout: Double = 15

    func run() async throws {
        LogSetup.bootstrap(level: "error", format: .text)
        guard let scheme = SignatureScheme(rawValue: scheme) else { throw ValidationError("--scheme: expected hmac, standard or both") }
        let statuses = Set(ack.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        guard !statuses.isEmpty else { throw ValidationError("--ack: expected statuses such as 202 or 200,202") }
        guard concurrency >= 1, count >= 1, timeout > 0 else { throw ValidationError("--concurrency, --count and --timeout must be positive") }
        let report = await ReceiverCheck(
            url: url, secret: HashKey(secret), scheme: scheme, concurrency: concurrency, count: count, ackStatuses: statuses,
            timeout: DurationText.seconds(timeout)
        ).run()
        print(report)
        if !report.allAcknowledged { throw ExitCode.failure }
    }
}
