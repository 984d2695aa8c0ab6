/// A server reply: its code and text lines (a multi-line reply `250-…`/`250 …` is one reply).
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    public var isPositive: Bool { (200..<400).contains(code) }
    public var description: String { "\(code) \(lines.joined(separator: " / "))" }
}

/// An SMTP failure: transient (4xx, timeouts, connection trouble) is tried again; permanent
/// (5xx, refused TLS requirements) is logged and counted.
public struct SMTPError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        case transient, permanent
    }

    /// What went wrong where the mailer counts it apart (label-safe).
    public enum Code: String, Sendable {
        case other
        /// AUTH was due over a connection without TLS and `smtp.allow_plaintext_auth` is off: no
        /// credentials were sent (DESIGN.md §10).
        case plaintextAuthRefused = "plaintext_auth_refused"
    }

    public var kind: Kind
    public var message: String
    public var reply: SMTPReply?
    public var code: Code

    public init(_ kind: Kind, _ message: String, reply: SMTPReply? = nil, code: Code = .other) {
        self.kind = kind
        self.message = message
        self.reply = reply
        self.code = code
    }

    /// Credentials are never sent in the clear unless the operator said so.
    static let plaintextAuthRefused = SMTPError(
        .permanent,
        "AUTH refused: the connection to the SMTP server is not encrypted, so the credentials were not sent "
            + "(set smtp.tls to starttls or implicit, or smtp.allow_plaintext_auth: true)",
        code: .plaintextAuthRefused)

    /// 4xx is transient, 5xx permanent; anything else unexpected is permanent.
    static func unexpected(_ reply: SMTPReply, during step: String) -> SMTPError {
        SMTPError((400..<500).contains(reply.code) ? .transient : .permanent, "\(step): \(reply)", reply: reply)
    }

    public var isRetriable: Bool { kind == .transient }
    public var description: String { message }
}
