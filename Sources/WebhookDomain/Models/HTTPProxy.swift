import Foundation

/// An HTTP proxy that deliveries go through (`http.proxy`, or a site's `proxy`): the bridge opens
/// a CONNECT tunnel through it to the receiver, for https and http URLs alike, so that requests
/// leave from the proxy's address.
public struct HTTPProxy: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Basic credentials for the proxy, if it asks for them; never logged.
    public var username: String?
    public var password: String?

    public init(host: String, port: Int, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// `http://[user:password@]host:port`; the problem otherwise (never quoting the password).
    public static func parse(_ text: String) -> Result<HTTPProxy, SettingsError> {
        guard let url = URLComponents(string: text), url.scheme?.lowercased() == "http", let host = url.host, !host.isEmpty else {
            return .failure(SettingsError(path: "", problem: "expected http://host:port (an HTTP proxy)"))
        }
        guard let port = url.port, (1...65_535).contains(port) else { return .failure(SettingsError(path: "", problem: "expected a port: http://host:port")) }
        guard url.path.isEmpty || url.path == "/", url.query == nil, url.fragment == nil else {
            return .failure(SettingsError(path: "", problem: "expected http://host:port, without a path or query"))
        }
        if (url.user == nil) != (url.password == nil) { return .failure(SettingsError(path: "", problem: "give both a user and a password, or neither")) }
        return .success(HTTPProxy(host: host, port: port, username: url.percentEncodedUser?.removingPercentEncoding, password: url.percentEncodedPassword?.removingPercentEncoding))
    }

    public var description: String { "http://\(host):\(port)" }
}
