import Foundation

/// Which webhook URLs are acceptable (DESIGN.md §10): absolute http(s) URLs, and unless private
/// destinations are allowed, none whose host is loopback, private, link-local or a cloud
/// metadata address. This checks the URL as written; delivery checks resolved addresses too.
public struct DestinationPolicy: Sendable {
    public var allowPrivateDestinations: Bool

    public init(allowPrivateDestinations: Bool) {
        self.allowPrivateDestinations = allowPrivateDestinations
    }

    /// Nil when acceptable, else the problem in a few words.
    public func problem(with url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return "not an absolute http(s) URL" }
        if !allowPrivateDestinations, Self.isPrivate(host: host) {
            return "destination \(host) is loopback, private, link-local or metadata (set http.allow_private_destinations to allow)"
        }
        return nil
    }

    /// True for names and literal addresses that reach this machine or a private network.
    public static func isPrivate(host: String) -> Bool {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if name == "localhost" || name.hasSuffix(".localhost") || name == "metadata.google.internal" { return true }
        let octets = name.split(separator: ".").compactMap { UInt8($0) }
        if octets.count == 4, name.split(separator: ".").count == 4 {
            switch (octets[0], octets[1]) {
            case (127, _), (10, _), (0, _): return true
            case (172, 16...31), (192, 168), (169, 254), (100, 64...127): return true
            default: return false
            }
        }
        if name.contains(":") {
            return name == "::1" || name == "::" || name.hasPrefix("fe80:") || name.hasPrefix("fc") || name.hasPrefix("fd")
                || name.hasPrefix("::ffff:127.") || name.hasPrefix("::ffff:10.") || name.hasPrefix("::ffff:192.168.")
                || name.hasPrefix("::ffff:169.254.")
        }
        return false
    }
}
