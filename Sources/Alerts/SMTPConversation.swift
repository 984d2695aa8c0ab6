import Foundation
import WebhookDomain

/// The client side of one SMTP session as a value: each server reply in, the next action out
/// (DESIGN.md §11). No I/O, so every path is tested as plain values.
struct SMTPConversation {
    enum TLSMode: String, Sendable, CaseIterable {
        case none, starttls, implicit
    }

    enum Action: Equatable {
        /// Send this command line (without CRLF).
        case send(String)
        /// Put TLS in front of the connection, then call `tlsEstablished()`.
        case startTLS
        /// Send the message body (dot-stuffed, ending in CRLF.CRLF).
        case sendBody
        /// The message was accepted for these recipients (the others were refused); QUIT follows.
        case delivered(accepted: [String], rejected: [String])
        case fail(SMTPError)
    }

    private enum Step: Equatable {
        case greeting, ehlo, startTLS, authPlain, authLoginUser, authLoginPassword, authLoginDone, mailFrom
        case recipient(Int)
        case data, body, finished
    }

    let tls: TLSMode
    let clientName: String
    let username: String?
    let password: String?
    /// AUTH over a connection without TLS (`smtp.allow_plaintext_auth`); refused otherwise.
    let allowPlaintextAuth: Bool
    let from: String
    let recipients: [String]

    private var step = Step.greeting
    private var tlsActive: Bool
    private(set) var extensions: Set<String> = []
    private var authMechanisms: Set<String> = []
    private var accepted: [String] = []
    private var rejected: [(String, SMTPReply)] = []

    init(
        tls: TLSMode, clientName: String, username: String?, password: String?, allowPlaintextAuth: Bool = false, from: String, recipients: [String]
    ) {
        self.tls = tls
        self.clientName = clientName
        self.username = username
        self.password = password
        self.allowPlaintextAuth = allowPlaintextAuth
        self.from = from
        // Only mailboxes: no CR, LF, `<` or `>` can reach a command (DESIGN.md §10).
        self.recipients = recipients.filter(Mailbox.isValid)
        tlsActive = tls == .implicit
    }

    mutating func next(after reply: SMTPReply) -> Action {
        switch step {
        case .greeting:
            guard reply.code == 220 else { return fail(reply, "greeting") }
            return ehlo()

        case .ehlo:
            guard reply.code == 250 else { return fail(reply, "EHLO") }
            extensions = Set(reply.lines.dropFirst().compactMap { $0.split(separator: " ").first.map { $0.uppercased() } })
            authMechanisms = Set(reply.lines.dropFirst().filter { $0.uppercased().hasPrefix("AUTH") }.flatMap { $0.uppercased().split(separator: " ").dropFirst().map(String.init) })
            if tls == .starttls, !tlsActive {
                // Never fall back to plain text when TLS was asked for.
                guard extensions.contains("STARTTLS") else {
                    step = .finished
                    return .fail(SMTPError(.permanent, "smtp.tls is starttls but the server does not offer STARTTLS"))
                }
                step = .startTLS
                return .send("STARTTLS")
            }
            return authenticateOrSend()

        case .startTLS:
            guard reply.code == 220 else { return fail(reply, "STARTTLS") }
            return .startTLS

        case .authPlain, .authLoginDone:
            guard reply.code == 235 else { return fail(reply, "AUTH") }
            return mailFrom()

        case .authLoginUser:
            guard reply.code == 334 else { return fail(reply, "AUTH LOGIN") }
            step = .authLoginPassword
            return .send(Data((username ?? "").utf8).base64EncodedString())

        case .authLoginPassword:
            guard reply.code == 334 else { return fail(reply, "AUTH LOGIN") }
            step = .authLoginDone
            return .send(Data((password ?? "").utf8).base64EncodedString())

        case .mailFrom:
            guard reply.code == 250 else { return fail(reply, "MAIL FROM") }
            guard !recipients.isEmpty else {
                step = .finished
                return .fail(SMTPError(.permanent, "no valid recipient"))
            }
            return recipient(0)

        case .recipient(let index):
            // A refused recipient does not lose the others.
            if reply.code == 250 || reply.code == 251 { accepted.append(recipients[index]) } else { rejected.append((recipients[index], reply)) }
            if index + 1 < recipients.count { return recipient(index + 1) }
            guard !accepted.isEmpty else {
                step = .finished
                let transient = rejected.contains { (400..<500).contains($0.1.code) }
                return .fail(SMTPError(transient ? .transient : .permanent, "every recipient was refused: \(rejected.map { "\($0.0) (\($0.1))" }.joined(separator: ", "))"))
            }
            step = .data
            return .send("DATA")

        case .data:
            guard reply.code == 354 else { return fail(reply, "DATA") }
            step = .body
            return .sendBody

        case .body:
            guard reply.code == 250 else { return fail(reply, "message") }
            step = .finished
            return .delivered(accepted: accepted, rejected: rejected.map(\.0))

        case .finished:
            return .fail(SMTPError(.permanent, "unexpected reply after the session ended: \(reply)"))
        }
    }

    /// TLS is up after STARTTLS: greet again (the server forgets everything said before).
    mutating func tlsEstablished() -> Action {
        tlsActive = true
        return ehlo()
    }

    private mutating func ehlo() -> Action {
        step = .ehlo
        return .send("EHLO \(clientName)")
    }

    private mutating func authenticateOrSend() -> Action {
        guard let username else { return mailFrom() }
        // The credentials never cross a connection without TLS unless the operator allowed it
        // (DESIGN.md §10): the session ends here, before any AUTH command.
        guard tlsActive || allowPlaintextAuth else {
            step = .finished
            return .fail(.plaintextAuthRefused)
        }
        if authMechanisms.contains("PLAIN") {
            step = .authPlain
            return .send("AUTH PLAIN " + Data(([0] + Array(username.utf8) + [0] + Array((password ?? "").utf8))).base64EncodedString())
        }
        if authMechanisms.contains("LOGIN") {
            step = .authLoginUser
            return .send("AUTH LOGIN")
        }
        step = .finished
        return .fail(SMTPError(.permanent, "smtp.username is set but the server offers neither AUTH PLAIN nor AUTH LOGIN"))
    }

    private mutating func mailFrom() -> Action {
        step = .mailFrom
        return .send("MAIL FROM:<\(from)>")
    }

    private mutating func recipient(_ index: Int) -> Action {
        step = .recipient(index)
        return .send("RCPT TO:<\(recipients[index])>")
    }

    private mutating func fail(_ reply: SMTPReply, _ during: String) -> Action {
        step = .finished
        return .fail(.unexpected(reply, during: during))
    }
}
