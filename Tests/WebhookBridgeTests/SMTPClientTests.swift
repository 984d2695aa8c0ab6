import Alerts
import Foundation
import Testing

@Suite("SMTP client against a real SMTP server (aiosmtpd)")
struct SMTPClientTests {
    static let email = Email(
        from: "bridge@example.com", to: ["ops@example.com", "nobody@example.com", "dev@example.com"], subject: "webhook_failure: webhook erp (site c404) paused",
        body: "first line\n.a line that starts with a dot\n..two dots\nlast line — with UTF-8")

    @Test("plain: several recipients, one refused; the others get it; dot-stuffing and headers arrive right")
    func plain() async throws {
        let server = try await SMTPServer(["--refuse", "nobody@example.com"])
        let client = SMTPClient(configuration: .init(host: "127.0.0.1", port: server.port, from: "bridge@example.com"))
        let delivery = try await client.send(Self.email)
        #expect(delivery.accepted == ["ops@example.com", "dev@example.com"])
        #expect(delivery.rejected == ["nobody@example.com"])
        let message = try #require(await server.waitForMessages(1).first)
        #expect(message.to == ["ops@example.com", "dev@example.com"])
        #expect(message.from == "bridge@example.com")
        #expect(message.body.components(separatedBy: "\r\n").prefix(4) == ["first line", ".a line that starts with a dot", "..two dots", "last line — with UTF-8"])
        #expect(message.header("Subject") == "webhook_failure: webhook erp (site c404) paused")
        #expect(message.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(message.header("Message-ID")?.hasPrefix("<") == true)
        #expect(message.header("Date")?.hasSuffix("+0000") == true)
        #expect(!message.tls)
        await server.stop()
    }

    @Test("STARTTLS with a private CA (ca_file) and AUTH PLAIN")
    func startTLSAndAuth() async throws {
        let (cert, key) = try SMTPServer.makeCertificate()
        let server = try await SMTPServer(["--mode", "starttls", "--cert", cert, "--key", key, "--user", "alerts", "--password", "s3cret"])
        let client = SMTPClient(configuration: .init(
            host: "localhost", port: server.port, tls: "starttls", username: "alerts", password: "s3cret", from: "bridge@example.com", caFile: cert))
        let delivery = try await client.send(Email(from: "bridge@example.com", to: ["ops@example.com"], subject: "s", body: "b"))
        #expect(delivery.accepted == ["ops@example.com"])
        let message = try #require(await server.waitForMessages(1).first)
        #expect(message.tls && message.authenticated)
        await server.stop()
    }

    @Test("implicit TLS (port 465 style) with AUTH; a wrong password is a permanent error")
    func implicitTLS() async throws {
        let (cert, key) = try SMTPServer.makeCertificate()
        let server = try await SMTPServer(["--mode", "implicit", "--cert", cert, "--key", key, "--user", "alerts", "--password", "s3cret"])
        let good = SMTPClient(configuration: .init(
            host: "localhost", port: server.port, tls: "implicit", username: "alerts", password: "s3cret", from: "bridge@example.com", caFile: cert))
        #expect(try await good.send(Email(from: "bridge@example.com", to: ["ops@example.com"], subject: "s", body: "b")).accepted == ["ops@example.com"])
        #expect(try #require(await server.waitForMessages(1).first).tls)
        let bad = SMTPClient(configuration: .init(
            host: "localhost", port: server.port, tls: "implicit", username: "alerts", password: "wrong", from: "bridge@example.com", caFile: cert))
        let error = await #expect(throws: SMTPError.self) { try await bad.send(Email(from: "bridge@example.com", to: ["ops@example.com"], subject: "s", body: "b")) }
        #expect(error?.kind == .permanent)
        #expect(error?.reply?.code == 535)
        await server.stop()
    }

    @Test("a certificate the client does not trust is refused")
    func untrustedCertificate() async throws {
        let (cert, key) = try SMTPServer.makeCertificate()
        let server = try await SMTPServer(["--mode", "implicit", "--cert", cert, "--key", key])
        let client = SMTPClient(configuration: .init(host: "localhost", port: server.port, tls: "implicit", from: "bridge@example.com"))
        await #expect(throws: SMTPError.self) { try await client.send(Email(from: "bridge@example.com", to: ["ops@example.com"], subject: "s", body: "b")) }
        #expect(server.messages.isEmpty)
        await server.stop()
    }

    @Test("STARTTLS required but not offered: nothing is sent, no AUTH in the clear")
    func startTLSNotOffered() async throws {
        let server = try await SMTPServer()
        let client = SMTPClient(configuration: .init(host: "127.0.0.1", port: server.port, tls: "starttls", username: "u", password: "p", from: "bridge@example.com"))
        let error = await #expect(throws: SMTPError.self) { try await client.send(Email(from: "bridge@example.com", to: ["ops@example.com"], subject: "s", body: "b")) }
        #expect(error?.message.contains("does not offer STARTTLS") == true)
        #expect(error?.kind == .permanent)
        #expect(server.messages.isEmpty)
        await server.stop()
    }

    @Test("AUTH over a connection without TLS is refused (no AUTH sent, a permanent error saying why) unless allow_plaintext_auth")
    func plaintextAuth() async throws {
        // The server offers AUTH without TLS and requires it before MAIL.
        let server = try await SMTPServer(["--user", "alerts", "--password", "s3cret"])
        let email = Email(from: "bridge@example.com", to: ["ops@example.com"], subject: "s", body: "b")
        let refused = SMTPClient(configuration: .init(host: "127.0.0.1", port: server.port, username: "alerts", password: "s3cret", from: "bridge@example.com"))
        let error = await #expect(throws: SMTPError.self) { try await refused.send(email) }
        #expect(error?.code == .plaintextAuthRefused)
        #expect(error?.kind == .permanent)
        #expect(error?.message.contains("smtp.allow_plaintext_auth") == true)
        #expect(server.authAttempts.isEmpty, "\(server.authAttempts)")
        #expect(server.messages.isEmpty)

        let allowed = SMTPClient(configuration: .init(
            host: "127.0.0.1", port: server.port, username: "alerts", password: "s3cret", allowPlaintextAuth: true, from: "bridge@example.com"))
        #expect(try await allowed.send(email).accepted == ["ops@example.com"])
        let message = try #require(await server.waitForMessages(1).first)
        #expect(message.authenticated && !message.tls)
        #expect(server.authAttempts == ["AUTH PLAIN alerts"])
        await server.stop()
    }

    @Test("an unreachable server is a transient error, within the connect timeout")
    func unreachable() async throws {
        let client = SMTPClient(configuration: .init(host: "127.0.0.1", port: 1, from: "bridge@example.com", connectTimeout: .seconds(2)))
        let error = await #expect(throws: SMTPError.self) { try await client.send(Email(from: "bridge@example.com", to: ["ops@example.com"], subject: "s", body: "b")) }
        #expect(error?.isRetriable == true)
    }
}
