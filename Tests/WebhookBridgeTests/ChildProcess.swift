import Foundation
import Synchronization
import Testing

/// A subprocess whose stdout and stderr lines are collected, for tests of the executable.
final class ChildProcess: Sendable {
    private let process: Process
    private let output = Mutex<(lines: [String], partial: String, waiters: [(UUID, @Sendable (String) -> Bool, CheckedContinuation<String?, Never>)])>(([], "", []))

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
            let ready: [(CheckedContinuation<String?, Never>, String)] = self.output.withLock { state in
                state.partial += String(decoding: data, as: UTF8.self)
                var complete = state.partial.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                state.partial = complete.removeLast()
                state.lines += complete
                var resumed: [(CheckedContinuation<String?, Never>, String)] = []
                state.waiters.removeAll { waiter in
                    guard let line = complete.first(where: waiter.1) else { return false }
                    resumed.append((waiter.2, line))
                    return true
                }
                return resumed
            }
            for (continuation, line) in ready { continuation.resume(returning: line) }
        }
        try process.run()
    }

    var lines: [String] { output.withLock { $0.lines } }

    /// Waits for an output line matching `predicate` (one already printed counts).
    func waitForLine(timeout: Duration = .seconds(30), _ predicate: @escaping @Sendable (String) -> Bool) async -> String? {
        let id = UUID()
        return await withTaskGroup(of: String?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let existing = self.output.withLock { state -> String? in
                        if let line = state.lines.first(where: predicate) { return line }
                        state.waiters.append((id, predicate, continuation))
                        return nil
                    }
                    if let existing { continuation.resume(returning: existing) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            let stale = output.withLock { state in
                let index = state.waiters.firstIndex { $0.0 == id }
                return index.map { state.waiters.remove(at: $0).2 }
            }
            stale?.resume(returning: nil)
            group.cancelAll()
            return first
        }
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
