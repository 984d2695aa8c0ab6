import ArgumentParser
import Foundation
import Logging
import WebhookBridge
import WebhookBridgeTools

/// `webhook-bridge-bench`: the benchmarks that run processes (nginx, wrk, Python, the bridge),
/// apart from the product; the end-to-end bench by default, the HTTP client comparison on demand.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook-bridge-bench",
        abstract: "The benchmarks around nginx (build with -c release first).",
        subcommands: [EndToEndCommand.self, HTTPClientsCommand.self],
        defaultSubcommand: EndToEndCommand.self)
}

/// The end-to-end bench: prints a table and writes docs/benchmarks.md.
struct EndToEndCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "end-to-end",
        abstract: "Measure throughput, latency, memory and catch-up against nginx and a Python forwarder.")

    @Option(help: "Where the results go (between the bench markers of an existing file).") var output = "docs/benchmarks.md"
    @Option(help: "The Python comparison forwarder.") var pythonForwarder = "Benchmarks/python_forwarder.py"
    @Option(help: "The webhook-bridge executable the memory figures run as a subprocess (default: beside this one).") var bridge: String?
    @Flag(help: "Small sizes, for a quick look (not for the record).") var quick = false
    @Option(help: "Run only these steps (1 limit, 2 unbatched, 3 batched, 4 Python, 5 latency, 6 memory, 7 catch-up, 8 as users run it, 9 the same on Avro).") var only: [Int] = []
    @Option(help: "Log level of the bridges under test (their configs say warning; this is the process's handler).") var logLevel = "error"

    func run() async throws {
        LogSetup.bootstrap(level: logLevel, format: .text)
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("webhook-bridge")
        var options = Bench.Options(executable: bridge.map(URL.init(fileURLWithPath:)) ?? beside, pythonForwarder: URL(fileURLWithPath: pythonForwarder))
        options.only = Set(only)
        if quick {
            (options.events, options.batchedEvents, options.pythonEvents, options.latencySeconds) = (20_000, 60_000, 5_000, 3)
            (options.rssWebhooks, options.backlog, options.catchUpBacklog, options.userRunEvents) = (1_000, 100_000, 20_000, 20_000)
        }
        let started = Date()
        let figures = try await Bench.run(options, logger: Logger(label: "webhook-bridge.bench")) { print($0) }
        let report = BenchReport(figures: figures, options: options, started: started, quick: quick)
        print("\n" + report.table)
        try report.write(to: URL(fileURLWithPath: output))
        print("written to \(output)")
    }
}
