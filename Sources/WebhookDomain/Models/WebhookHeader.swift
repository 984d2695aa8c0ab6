import Foundation

/// A static header a webhook adds to every request (`headers` in the file and the API).
public struct WebhookHeader: Sendable, Equatable, Codable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Headers the bridge sets itself (and `auth` sets), which a webhook cannot override.
    public static let reserved: Set<String> = [
        "content-type", "content-length", "content-encoding", "transfer-encoding", "connection", "host", "user-agent", "authorization",
        "message_id", "topic", "webhook_id", "sequence", "batch_id", "message_count", "x-webhook-signature", "webhook-id", "webhook-timestamp",
        "webhook-signature", "traceparent", "tracestate", "te", "upgrade", "expect",
    ]

    public static let maxCount = 20
    public static let maxValueBytes = 4_096

    /// Nil when acceptable, else the problem: an RFC 9110 token name, not one of the bridge's, a
    /// value of visible characters and spaces (no CR, LF or NUL) of at most 4 KB.
    public var problem: String? {
        let tchars = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~").union(.alphanumerics)
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && tchars.contains($0) }) else { return "not a header name: \(name)" }
        if Self.reserved.contains(name.lowercased()) { return "\(name) is set by the bridge and cannot be overridden" }
        guard value.utf8.count <= Self.maxValueBytes else { return "the value of \(name) is longer than \(Self.maxValueBytes) bytes" }
        guard value.unicodeScalars.allSatisfy({ $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) }) else {
            return "the value of \(name) holds control characters"
        }
        return nil
    }
}

/// How a receiver authenticates the bridge (`auth`), besides the signature. Its secrets are
/// never logged or returned: `description` names the type only.
public enum WebhookAuth: Sendable, Equatable, CustomStringConvertible {
    case bearer(token: String)
    case basic(username: String, password: String)

    public var type: String {
        switch self {
        case .bearer: "bearer"
        case .basic: "basic"
        }
    }

    public var description: String { "auth(\(type))" }

    /// The `Authorization` header.
    public var header: String {
        switch self {
        case .bearer(let token): "Bearer \(token)"
        case .basic(let username, let password): "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        }
    }

    /// Nil when acceptable, else the problem (never quoting a secret).
    public var problem: String? {
        switch self {
        case .bearer(let token):
            if token.isEmpty || token.utf8.count > 4_096 || token.contains(where: { $0.isWhitespace || $0.isNewline }) { return "token: 1 to 4096 characters, no spaces" }
        case .basic(let username, let password):
            if username.isEmpty || username.contains(":") || username.contains(where: \.isNewline) { return "username: not empty, no ':'" }
            if password.isEmpty || password.contains(where: \.isNewline) { return "password: not empty, one line" }
        }
        return nil
    }
}
