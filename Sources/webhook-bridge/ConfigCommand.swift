import ArgumentParser
import ControlPlane
import Foundation
import Logging
import WebhookBridge

/// `webhook-bridge config check|plan`: the config file checked offline, or compared with what
/// the cluster's control topic holds (DESIGN.md §8).
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check a config file, or show what starting or reloading with it would change.",
        subcommands: [Check.self, Plan.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a config file offline (secrets from *_env and *_file included); exit 2 naming the key if it is invalid.")

        @Option(name: .shortAndLong, help: "The YAML configuration file.") var config: String

        func run() async throws {
            let (settings, _) = try ConfigCommand.load(config)
            print("\(config): valid: \(settings.sites.count) site(s), \(settings.webhooks.count) webhook(s), \(settings.routes.count) route(s)")
        }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the cluster's control topic and print what a start or reload with this file would create, change and delete; changes nothing.")

        @Option(name: .shortAndLong, help: "The YAML configuration file.") var config: String

        func run() async throws {
            let (settings, _) = try ConfigCommand.load(config)
            LogSetup.bootstrap(level: "error", format: .text)
            let plan: ConfigPlan
            do { plan = try await Bridge.plan(settings, logger: Logger(label: "webhook-bridge")) } catch {
                FileHandle.standardError.write(Data("webhook-bridge: \(error)\n".utf8))
                throw ExitCode(1)
            }
            if plan.changes.isEmpty { print("no changes: the control topic matches \(config)") }
            for change in plan.changes { print(change) }
            let counts = Dictionary(grouping: plan.changes, by: \.action).mapValues(\.count)
            print("\(counts[.create] ?? 0) to create, \(counts[.change] ?? 0) to change, \(counts[.delete] ?? 0) to delete")
        }
    }

    /// The file's text and its configuration, or exit 2 with the error (the key path and problem).
    static func load(_ path: String) throws -> (BridgeConfig, String) {
        do {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ConfigError(path: "", problem: "cannot read config file \(path): \(error.localizedDescription)")
            }
            return (try BridgeConfig.parse(yaml: text, environment: ProcessInfo.processInfo.environment), text)
        } catch {
            FileHandle.standardError.write(Data("webhook-bridge: invalid configuration: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
