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
public enum WebhookAuth: Sendable, Hashable, CustomStringConvertible {
    case bearer(token: String)
    case basic(username: String, password: String)
    /// OAuth 2.0 client credentials (RFC 6749 §4.4): the bridge asks `tokenURL` for an access
    /// token, sends it as a bearer token, and keeps it until shortly before it expires.
    case oauth2(OAuth2Client)

    public var type: String {
        switch self {
        case .bearer: "bearer"
        case .basic: "basic"
        case .oauth2: "oauth2"
        }
    }

    public var description: String { "auth(\(type))" }

    /// The `Authorization` header, when it does not change; nil for OAuth 2.0, whose token is
    /// asked for at delivery.
    public var staticHeader: String? {
        switch self {
        case .bearer(let token): "Bearer \(token)"
        case .basic(let username, let password): Self.basicHeader(username: username, password: password)
        case .oauth2: nil
        }
    }

    static func basicHeader(username: String, password: String) -> String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    /// Nil when acceptable, else the problem (never quoting a secret).
    public var problem: String? {
        switch self {
        case .bearer(let token):
            if token.isEmpty || token.utf8.count > 4_096 || token.contains(where: { $0.isWhitespace || $0.isNewline }) { return "token: 1 to 4096 characters, no spaces" }
        case .basic(let username, let password):
            if username.isEmpty || username.contains(":") || username.contains(where: \.isNewline) { return "username: not empty, no ':'" }
            if password.isEmpty || password.contains(where: \.isNewline) { return "password: not empty, one line" }
        case .oauth2(let client):
            return client.problem
        }
        return nil
    }
}

/// An OAuth 2.0 client of the client-credentials grant (`auth: {type: oauth2, …}`).
public struct OAuth2Client: Sendable, Hashable, CustomStringConvertible {
    public var tokenURL: String
    public var clientID: String
    /// Never logged or returned.
    public var clientSecret: String
    /// Space-separated scopes; nil: the token endpoint's default.
    public var scope: String?

    public init(tokenURL: String, clientID: String, clientSecret: String, scope: String? = nil) {
        self.tokenURL = tokenURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.scope = scope
    }

    public var description: String { "OAuth2Client(\(tokenURL), client_id: \(clientID))" }

    /// The token request's `Authorization` header (RFC 6749 §2.3.1: HTTP Basic with the
    /// form-encoded id and secret).
    public var basicAuthorization: String {
        WebhookAuth.basicHeader(username: Self.formEncoded(clientID), password: Self.formEncoded(clientSecret))
    }

    /// The token request's body.
    public var requestBody: String {
        "grant_type=client_credentials" + (scope.map { "&scope=" + Self.formEncoded($0) } ?? "")
    }

    static func formEncoded(_ text: String) -> String {
        let unreserved = CharacterSet(charactersIn: "-._~").union(.alphanumerics)
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    var problem: String? {
        guard let url = URLComponents(string: tokenURL), ["http", "https"].contains(url.scheme?.lowercased()), url.host?.isEmpty == false else {
            return "token_url: not an absolute http(s) URL"
        }
        if clientID.isEmpty || clientID.contains(where: \.isNewline) { return "client_id: not empty, one line" }
        if clientSecret.isEmpty || clientSecret.contains(where: \.isNewline) { return "client_secret: not empty, one line" }
        if let scope, scope.isEmpty || scope.contains(where: \.isNewline) { return "scope: not empty, one line" }
        return nil
    }
}

/// TLS towards a receiver (`tls`): a private CA to trust besides the system's, and a client
/// certificate for mutual TLS. PEM texts; the key is never logged or returned.
public struct WebhookTLS: Sendable, Hashable, CustomStringConvertible {
    public var certificateAuthority: String?
    public var clientCertificate: String?
    public var clientKey: String?

    public init(certificateAuthority: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil) {
        self.certificateAuthority = certificateAuthority
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
    }

    public var description: String {
        "WebhookTLS(ca: \(certificateAuthority != nil), client_certificate: \(clientCertificate != nil))"
    }

    /// Nil when the parts fit together, else the problem. Whether they parse is for the TLS
    /// library to say (`ReceiverTLS`).
    public var problem: String? {
        if certificateAuthority == nil, clientCertificate == nil, clientKey == nil { return "give ca, a client certificate and key, or both" }
        if (clientCertificate == nil) != (clientKey == nil) { return "a client certificate needs its key, and a key its certificate" }
        return nil
    }
}
