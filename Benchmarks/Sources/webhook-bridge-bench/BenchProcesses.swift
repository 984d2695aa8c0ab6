import Foundation
import WebhookBridgeTools

/// The programs the benchmark runs beside the bridge: nginx (the receiver), wrk (the HTTP
/// limit), the Python forwarder, and `webhook-bridge run` itself when its memory is measured.
enum BenchProcesses {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A started program, its output going to a file.
    final class Running: @unchecked Sendable {
        let process = Process()
        let logFile: URL

        init(_ executable: String, _ arguments: [String], logFile: URL, environment: [String: String] = [:]) throws {
            self.logFile = logFile
            _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
            let handle = try FileHandle(forWritingTo: logFile)
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }

        /// Peak resident memory so far, from /proc (kB → bytes).
        var peakResidentBytes: Int? {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
            else { return nil }
            return kilobytes * 1024
        }

        /// CPU time (user and system) the process has used so far, from /proc.
        var cpuSeconds: Double? { Self.cpuSeconds(of: pid) }

        /// The same with its children's (nginx's worker), which are running, so not yet reaped.
        var cpuSecondsWithChildren: Double? {
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
            let times = ([pid] + children.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }).map(Self.cpuSeconds(of:))
            return times.contains { $0 == nil } ? nil : times.reduce(0) { $0 + ($1 ?? 0) }
        }

        private static func cpuSeconds(of pid: Int32) -> Double? {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let end = stat.lastIndex(of: ")")
            else { return nil }
            // Fields after the command name: state is field 3, utime 14 and stime 15.
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
            return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }

        /// CPU time of the children this process has waited for (getrusage).
        static var reapedChildrenCPUSeconds: Double { usageSeconds(RUSAGE_CHILDREN) }

        /// CPU time (user and system) of this process so far, all its threads (getrusage).
        static var ownCPUSeconds: Double { usageSeconds(RUSAGE_SELF) }

        private static func usageSeconds(_ who: __rusage_who) -> Double {
            var usage = rusage()
            getrusage(who.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }

        func stop() async {
            if process.isRunning { process.terminate() }
            await waitForExit()
        }

        func waitForExit() async {
            let process = self.process
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async {
                    process.waitUntilExit()
                    continuation.resume()
                }
            }
        }

        var output: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
    }

    /// Waits until something accepts connections on the port.
    static func waitForListener(port: Int, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(socket)
            if connected { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Failure(description: "nothing listens on 127.0.0.1:\(port)")
    }

    /// nginx answering every request with `return 202;` — the receiver of every throughput run.
    static func startNginx(in directory: URL) async throws -> (Running, port: Int) {
        let port = try LoopbackPort.free()
        let root = directory.appendingPathComponent("nginx")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let temp = { (name: String) in root.appendingPathComponent(name).path }
        try """
            worker_processes 1;
            daemon off;
            pid \(temp("nginx.pid"));
            error_log \(temp("error.log")) warn;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path \(temp("body"));
                proxy_temp_path \(temp("proxy"));
                fastcgi_temp_path \(temp("fastcgi"));
                uwsgi_temp_path \(temp("uwsgi"));
                scgi_temp_path \(temp("scgi"));
                keepalive_requests 10000000;
                keepalive_timeout 120s;
                server {
                    listen 127.0.0.1:\(port);
                    location / { return 202; }
                }
            }
            """.write(toFile: temp("nginx.conf"), atomically: true, encoding: .utf8)
        let nginx = try Running("/usr/sbin/nginx", ["-p", root.path, "-e", temp("error.log"), "-c", temp("nginx.conf")], logFile: root.appendingPathComponent("stdout.log"))
        try await waitForListener(port: port)
        return (nginx, port)
    }

    /// `wrk -t1 -c8` for a few seconds: requests per second.
    static func wrk(url: String, seconds: Int, in directory: URL) async throws -> Double {
        let run = try Running("/usr/bin/wrk", ["-t1", "-c8", "-d\(seconds)s", url], logFile: directory.appendingPathComponent("wrk.log"))
        await run.waitForExit()
        guard let line = run.output.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }),
            let rate = line.split(separator: " ").last.flatMap({ Double($0) })
        else { throw Failure(description: "wrk printed no rate: \(run.output)") }
        return rate
    }
}
