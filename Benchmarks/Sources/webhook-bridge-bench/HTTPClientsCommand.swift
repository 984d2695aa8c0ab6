import ArgumentParser
import Foundation

/// `webhook-bridge-bench http-clients` (issue 17 item 3): AsyncHTTPClient, as the bridge uses it,
/// against the lean client prototype, both sending signed webhooks to nginx; prints a table.
struct HTTPClientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http-clients",
        abstract: "Requests/s and CPU per request of AsyncHTTPClient and of the lean NIO client against nginx (return 202).")

    @Option(help: "Requests per measured run.") var requests = 20_000
    @Option(help: "Measured runs of each client at each concurrency (the median is reported).") var runs = 5
    @Option(help: "Requests in flight at once (repeat for several).") var inFlight: [Int] = [8, 64]

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-bridge-http-clients-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (nginx, port) = try await BenchProcesses.startNginx(in: directory)
        print("nginx (return 202, worker_processes 1) on 127.0.0.1:\(port); \(requests) requests per run, \(runs) runs, in flight: \(inFlight)")
        let comparison = HTTPClientComparison(port: port, nginx: nginx)
        do {
            let results = try await comparison.run(requests: requests, runs: runs, inFlight: inFlight) { print($0) }
            await comparison.shutdown()
            await nginx.stop()
            print("\n" + HTTPClientComparison.table(results))
        } catch {
            await comparison.shutdown()
            await nginx.stop()
            throw error
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
