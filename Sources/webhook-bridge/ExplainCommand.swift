import ArgumentParser
import Foundation
import WebhookBridgeTools

/// `webhook-bridge explain`: where one source record went, per webhook, from a running instance.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Where one source record went: its routes, message ids and a verdict per webhook, from a running instance.")

    @Option(help: "The instance's admin API, or its http.ops_listen address when that is set.") var url = "http://127.0.0.1:8080"
    @Option(help: "The source topic.") var topic: String
    @Option(help: "The partition.") var partition: Int32
    @Option(help: "The offset.") var offset: Int64
    @Flag(help: "Print the answer as JSON.") var json = false

    func run() async throws {
        var query = URLComponents()
        query.path = "/explain"
        query.queryItems = [.init(name: "topic", value: topic), .init(name: "partition", value: "\(partition)"), .init(name: "offset", value: "\(offset)")]
        let answer = try await AdminCall.json(.GET, url: url, path: query.string ?? "/explain")
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: answer, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
        } else {
            print(ExplanationText.render(answer), terminator: "")
        }
    }
}
