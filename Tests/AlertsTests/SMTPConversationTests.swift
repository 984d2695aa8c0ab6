import NIOCore
import NIOEmbedded
import Testing

@testable import Alerts

@Suite("SMTP state machine and codec")
struct SMTPConversationTests {
    static func reply(_ code: Int, _ lines: String...) -> SMTPReply { SMTPReply(code: code, lines: lines) }

    @Test("plain session: EHLO, MAIL, each RCPT, DATA, body")
    func plain() {
        var machine = SMTPConversation(tls: .none, clientName: "bridge", username: nil, password: nil, from: "a@x", recipients: ["b@y", "c@y"])
        #expect(machine.next(after: Self.reply(220, "hi")) == .send("EHLO bridge"))
        #expect(machine.next(after: Self.reply(250, "hello", "8BITMIME")) == .send("MAIL FROM:<a@x>"))
        #expect(machine.next(after: Self.reply(250, "ok")) == .send("RCPT TO:<b@y>"))
        #expect(machine.next(after: Self.reply(550, "no")) == .send("RCPT TO:<c@y>"))
        #expect(machine.next(after: Self.reply(250, "ok")) == .send("DATA"))
        #expect(machine.next(after: Self.reply(354, "go")) == .sendBody)
        #expect(machine.next(after: Self.reply(250, "queued")) == .delivered(accepted: ["c@y"], rejected: ["b@y"]))
    }

    @Test("STARTTLS: upgrade, then EHLO again, then AUTH PLAIN")
    func startTLS() {
        var machine = SMTPConversation(tls: .starttls, clientName: "bridge", username: "u", password: "p", from: "a@x", recipients: ["b@y"])
        _ = machine.next(after: Self.reply(220, "hi"))
        #expect(machine.next(after: Self.reply(250, "hello", "STARTTLS")) == .send("STARTTLS"))
        #expect(machine.next(after: Self.reply(220, "go ahead")) == .startTLS)
        #expect(machine.tlsEstablished() == .send("EHLO bridge"))
        // "\0u\0p" in base64
        #expect(machine.next(after: Self.reply(250, "hello", "AUTH LOGIN PLAIN")) == .send("AUTH PLAIN AHUAcA=="))
        #expect(machine.next(after: Self.reply(235, "ok")) == .send("MAIL FROM:<a@x>"))
    }

    @Test("STARTTLS asked for and not offered: fails before any AUTH or MAIL")
    func startTLSMissing() {
        var machine = SMTPConversation(tls: .starttls, clientName: "bridge", username: "u", password: "p", from: "a@x", recipients: ["b@y"])
        _ = machine.next(after: Self.reply(220, "hi"))
        guard case .fail(let error) = machine.next(after: Self.reply(250, "hello", "AUTH PLAIN")) else { Issue.record("expected a failure"); return }
        #expect(error.kind == .permanent)
    }

    @Test("AUTH without TLS: refused before any AUTH command unless allowed; after STARTTLS or with implicit TLS it goes on")
    func plaintextAuth() {
        var refused = SMTPConversation(tls: .none, clientName: "bridge", username: "u", password: "p", from: "a@x", recipients: ["b@y"])
        _ = refused.next(after: Self.reply(220, "hi"))
        #expect(refused.next(after: Self.reply(250, "hello", "AUTH PLAIN LOGIN")) == .fail(.plaintextAuthRefused))
        var allowed = SMTPConversation(tls: .none, clientName: "bridge", username: "u", password: "p", allowPlaintextAuth: true, from: "a@x", recipients: ["b@y"])
        _ = allowed.next(after: Self.reply(220, "hi"))
        #expect(allowed.next(after: Self.reply(250, "hello", "AUTH PLAIN LOGIN")) == .send("AUTH PLAIN AHUAcA=="))
        // No username: nothing to protect, the session goes on in the clear.
        var anonymous = SMTPConversation(tls: .none, clientName: "bridge", username: nil, password: nil, from: "a@x", recipients: ["b@y"])
        _ = anonymous.next(after: Self.reply(220, "hi"))
        #expect(anonymous.next(after: Self.reply(250, "hello", "AUTH PLAIN")) == .send("MAIL FROM:<a@x>"))
    }

    @Test("AUTH LOGIN when PLAIN is not offered")
    func authLogin() {
        var machine = SMTPConversation(tls: .implicit, clientName: "bridge", username: "u", password: "p", from: "a@x", recipients: ["b@y"])
        _ = machine.next(after: Self.reply(220, "hi"))
        #expect(machine.next(after: Self.reply(250, "hello", "AUTH LOGIN")) == .send("AUTH LOGIN"))
        #expect(machine.next(after: Self.reply(334, "VXNlcm5hbWU6")) == .send("dQ=="))
        #expect(machine.next(after: Self.reply(334, "UGFzc3dvcmQ6")) == .send("cA=="))
        #expect(machine.next(after: Self.reply(235, "ok")) == .send("MAIL FROM:<a@x>"))
    }

    @Test("4xx is transient, 5xx permanent; every recipient refused fails the send")
    func errors() {
        var busy = SMTPConversation(tls: .none, clientName: "b", username: nil, password: nil, from: "a@x", recipients: ["b@y"])
        guard case .fail(let transient) = busy.next(after: Self.reply(421, "busy")) else { Issue.record("expected a failure"); return }
        #expect(transient.isRetriable)
        var refused = SMTPConversation(tls: .none, clientName: "b", username: nil, password: nil, from: "a@x", recipients: ["b@y"])
        _ = refused.next(after: Self.reply(220, "hi"))
        _ = refused.next(after: Self.reply(250, "hello"))
        _ = refused.next(after: Self.reply(250, "ok"))
        guard case .fail(let permanent) = refused.next(after: Self.reply(550, "no such user")) else { Issue.record("expected a failure"); return }
        #expect(!permanent.isRetriable)
    }

    @Test("the codec frames lines apart from parsing multi-line replies")
    func codec() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPLineDecoder()))
        try channel.pipeline.syncOperations.addHandler(SMTPReplyDecoder())
        try channel.writeInbound(ByteBuffer(string: "250-mail.example\r\n250-SIZE 100\r"))
        #expect(try channel.readInbound(as: SMTPReply.self) == nil)
        try channel.writeInbound(ByteBuffer(string: "\n250 HELP\r\n220 ready\n"))
        #expect(try channel.readInbound(as: SMTPReply.self) == SMTPReply(code: 250, lines: ["mail.example", "SIZE 100", "HELP"]))
        #expect(try channel.readInbound(as: SMTPReply.self) == SMTPReply(code: 220, lines: ["ready"]))
        #expect(throws: SMTPError.self) { try channel.writeInbound(ByteBuffer(string: "hello there\r\n")) }
    }

    @Test("an email has the headers, CRLF line ends and dot-stuffing")
    func rendering() {
        let email = Email(from: "a@x", to: ["b@y", "c@y"], subject: "webhook_failure: é", body: "one\n.two\nthree", messageID: "<id@x>")
        let data = email.dataPhase
        #expect(data.hasPrefix("From: a@x\r\nTo: b@y, c@y\r\nSubject: =?utf-8?B?"))
        #expect(data.contains("\r\nMessage-ID: <id@x>\r\n"))
        #expect(data.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"))
        #expect(data.hasSuffix("\r\n\r\none\r\n..two\r\nthree\r\n.\r\n"))
    }
}
