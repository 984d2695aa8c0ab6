import Foundation
import Testing

/// The real SMTP server of the tests (aiosmtpd, `Tests/Support/smtp_server.py`) in a subprocess.
final class SMTPServer: Sendable {
    struct Message: Sendable {
        var from: String
        var to: [String]
        var data: String
        var tls: Bool
        var authenticated: Bool

        func header(_ name: String) -> String? {
            data.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix(name.lowercased() + ":") }.map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
        }

        var body: String { data.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }
    }

    let process: ChildProcess
    let port: Int

    init(_ arguments: [String] = []) async throws {
        let script = ConfigTests.repository.appendingPathComponent("Tests/Support/smtp_server.py").path
        process = try ChildProcess(URL(fileURLWithPath: "/usr/bin/python3"), ["-u", script] + arguments)
        let line = try #require(await process.waitForLine { $0.hasPrefix("PORT ") || $0.contains("Error") }, "smtp server: \(process.lines)")
        port = try #require(Int(line.dropFirst(5)), "smtp server: \(process.lines)")
    }

    var messages: [Message] {
        process.lines.compactMap { line in
            guard line.hasPrefix("{"), let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Message(
                from: json["from"] as? String ?? "", to: json["to"] as? [String] ?? [], data: json["data"] as? String ?? "",
                tls: json["tls"] as? Bool ?? false, authenticated: json["authenticated"] as? Bool ?? false)
        }
    }

    /// The AUTH commands clients sent (`AUTH <mechanism> <login>`), credentials received or not.
    var authAttempts: [String] { process.lines.filter { $0.hasPrefix("AUTH ") } }

    /// Waits until `count` messages have arrived.
    func waitForMessages(_ count: Int, timeout: Duration = .seconds(30)) async -> [Message] {
        _ = await process.waitUntil(timeout: timeout) { lines in lines.filter { $0.hasPrefix("{") }.count >= count }
        return messages
    }

    func stop() async { _ = await process.stop() }

    /// A self-signed certificate for `localhost`, made with openssl: (certificate, key) paths.
    static func makeCertificate() throws -> (cert: String, key: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl failed")
        return (cert, key)
    }
}
