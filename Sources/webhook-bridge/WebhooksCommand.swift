import ArgumentParser
import Foundation
import NIOHTTP1

/// `webhook-bridge webhooks …`: the admin API from the command line.
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks", abstract: "List, show, pause, enable or replay webhooks through the admin API.",
        subcommands: [List.self, Show.self, Pause.self, Enable.self, Replay.self])

    struct Connection: ParsableArguments {
        @Option(help: "The admin API.") var url = "http://127.0.0.1:8080"
        @Option(help: "The site id.") var site: String
        @Option(help: "The environment variable holding the site's token.") var tokenEnv = "WEBHOOK_BRIDGE_TOKEN"

        /// Sends a request and returns the JSON answer; an error answer becomes a failure with its message.
        func call(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> [String: Any] {
            guard let token = ProcessInfo.processInfo.environment[tokenEnv], !token.isEmpty else {
                throw ValidationError("set \(tokenEnv) to the site's token")
            }
            return try await AdminCall.json(method, url: url, path: path, token: token, body: body)
        }
    }

    static func line(_ webhook: [String: Any]) -> String {
        let columns = [webhook["id"], webhook["status"], webhook["http_method"], webhook["url"], (webhook["topics"] as? [String])?.joined(separator: ","), webhook["last_error"]]
        return columns.map { $0.map { "\($0)" } ?? "-" }.joined(separator: "\t")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The site's webhooks: id, status, method, url, topics, last error.")
        @OptionGroup var connection: Connection

        func run() async throws {
            let json = try await connection.call(.GET, "/webhooks?site_id=\(connection.site)")
            print(["ID", "STATUS", "METHOD", "URL", "TOPICS", "LAST ERROR"].joined(separator: "\t"))
            for webhook in json["webhooks"] as? [[String: Any]] ?? [] { print(WebhooksCommand.line(webhook)) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One webhook, as JSON.")
        @OptionGroup var connection: Connection
        @Argument var id: String

        func run() async throws {
            let json = try await connection.call(.GET, "/webhooks/\(id)?site_id=\(connection.site)")
            print(String(decoding: try JSONSerialization.data(withJSONObject: json["webhook"] ?? [:], options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a webhook (manual): nothing is sent until it is enabled.")
        @OptionGroup var connection: Connection
        @Argument var id: String

        func run() async throws {
            let json = try await connection.call(.PATCH, "/webhooks/\(id)/status", body: ["site_id": connection.site, "status": "paused"])
            print(WebhooksCommand.line(json["webhook"] as? [String: Any] ?? [:]))
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a webhook: its backlog follows, in order.")
        @OptionGroup var connection: Connection
        @Argument var id: String

        func run() async throws {
            let json = try await connection.call(.PATCH, "/webhooks/\(id)/status", body: ["site_id": connection.site, "status": "enabled"])
            print(WebhooksCommand.line(json["webhook"] as? [String: Any] ?? [:]))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deliver again every message since a time.")
        @OptionGroup var connection: Connection
        @Argument var id: String
        @Option(help: "Unix time in seconds.") var since: Double

        func run() async throws {
            let json = try await connection.call(.POST, "/webhooks/\(id)/replay", body: ["site_id": connection.site, "since": since])
            for (partition, offset) in (json["cursors"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) { print("\(partition)\tfrom offset \(offset)") }
        }
    }
}
