/// How a failed delivery is described wherever it is kept or shown (DESIGN.md §10): the status
/// record's `last_error` in the control topic, `/status`, the tenants' webhook resource, alerts,
/// the attempts topic and the delivery log line's `error`. An error kind or an HTTP status, never
/// a host name, an address or a URL: a tenant must not learn what its URL resolved to inside the
/// operator's network. The HTTP client's own words, which may name them, go only to the operator's
/// log line (`detail`).
public enum FailureText: String, CaseIterable, Sendable {
    case timeout = "timeout"
    case connectTimeout = "connect timeout"
    case connectionRefused = "connection refused"
    case connectionReset = "connection reset"
    case connectionClosed = "connection closed by the receiver"
    case hostNotFound = "host name not resolved"
    case hostUnreachable = "host unreachable"
    case tlsHandshakeFailed = "tls handshake failed"
    case tlsCertificateRejected = "tls certificate rejected"
    case privateDestination = "private destination refused"
    /// An OAuth 2.0 webhook's token endpoint gave no token.
    case tokenRequestFailed = "oauth2 token request failed"
    case connectionError = "connection error"
    /// What a text that is none of these is shown as (`displayable`).
    case deliveryError = "delivery error"

    /// An answer with a status that does not acknowledge.
    public static func status(_ code: Int) -> String { "HTTP \(code)" }

    /// `text` as it may be kept and shown: itself when it is one of these words or `HTTP <status>`,
    /// else `delivery error`. For texts from outside this process (a status record written by an
    /// older version named hosts and addresses).
    public static func displayable(_ text: String) -> String {
        if FailureText(rawValue: text) != nil { return text }
        if text.hasPrefix("HTTP "), let code = Int(text.dropFirst(5)), (100...999).contains(code) { return text }
        return deliveryError.rawValue
    }
}
