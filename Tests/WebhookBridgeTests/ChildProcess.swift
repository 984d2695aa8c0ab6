import Foundation
import Synchronization
import Testing
import Waiting
import WebhookBridge
import WebhookBridgeTools

/// A subprocess whose stdout and stderr lines are collected, for tests of the executable.
final class ChildProcess: Sendable {
    private let process: Process
    private let output = Waitable<(lines: [String], partial: String)>(([], ""))

    /// The built `webhook-bridge` executable, next to the test bundle.
    static var executable: URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("webhook-bridge")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return ConfigTests.repository.appendingPathComponent(".build/debug/webhook-bridge")
    }

    init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], stdin: Pipe? = nil) throws {
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        if let stdin { process.standardInput = stdin }
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            guard let self else { return }
            let data = handle.availableData
            guard !data.isEmpty else { return }
            self.output.withLock { state in
                state.partial += String(decoding: data, as: UTF8.self)
                var complete = state.partial.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                state.partial = complete.removeLast()
                state.lines += complete
            }
        }
        try process.run()
    }

    var lines: [String] { output.value.lines }

    /// Waits for an output line matching `predicate` (one already printed counts).
    func waitForLine(timeout: Duration = .seconds(30), _ predicate: @escaping @Sendable (String) -> Bool) async -> String? {
        guard await waitUntil(timeout: timeout, { $0.contains(where: predicate) }) else { return nil }
        return lines.first(where: predicate)
    }

    /// Waits until the output so far satisfies `condition`, checked at each new line.
    func waitUntil(timeout: Duration = .seconds(30), _ condition: @escaping @Sendable ([String]) -> Bool) async -> Bool {
        await output.wait(until: { condition($0.lines) }, timeout: timeout)
    }

    /// Sends a signal (SIGHUP: reload) and returns at once.
    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Sends a signal and waits for the exit status.
    func stop(signal: Int32 = SIGTERM) async -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.process.waitUntilExit()
                continuation.resume()
            }
        }
        return process.terminationStatus
    }

    deinit { if process.isRunning { process.terminate() } }
}
