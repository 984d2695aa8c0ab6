import Foundation

/// Which webhook URLs are acceptable (DESIGN.md §10): absolute http(s) URLs, and unless private
/// destinations are allowed, none whose host is loopback, private, link-local or a cloud
/// metadata address. This checks the URL as written; delivery checks the addresses its host resolves to
/// (`ResolvedDestinationCheck`).
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
    ///
    /// Literal addresses are read the way the resolver will read them, not only in dotted-quad
    /// form: `inet_aton` takes `2130706433`, `0x7f.1` and `0177.0.0.1` for 127.0.0.1, and
    /// `inet_pton` every IPv6 spelling (`0:0:0:0:0:0:0:1`, `::ffff:7f00:1`).
    public static func isPrivate(host: String) -> Bool {
        var name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        // A trailing dot names the same host; a zone id (`fe80::1%eth0`) does not change the address.
        if name.hasSuffix(".") { name.removeLast() }
        if let zone = name.firstIndex(of: "%") { name = String(name[..<zone]) }
        if name == "localhost" || name.hasSuffix(".localhost") || name == "metadata.google.internal" { return true }
        if name.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, name, &address) == 1 else { return false }
            let bytes = withUnsafeBytes(of: address) { Array($0) }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && (bytes[15] == 0 || bytes[15] == 1) { return true }  // :: and ::1
            if bytes[0] & 0xFE == 0xFC { return true }  // fc00::/7, unique local
            if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return true }  // fe80::/10, link-local
            if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0xC0 { return true }  // fec0::/10, site-local (deprecated)
            // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): the IPv4 address decides.
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && ((bytes[10] == 0xFF && bytes[11] == 0xFF) || (bytes[10] == 0 && bytes[11] == 0)) {
                return isPrivate(ipv4: Array(bytes[12..<16]))
            }
            return false
        }
        // Only a name made of digits, dots and hex digits can be an address; inet_aton also
        // accepts trailing text after a space, which a URL host cannot have.
        var address = in_addr()
        guard !name.isEmpty, name.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == "x" }), inet_aton(name, &address) != 0 else { return false }
        return isPrivate(ipv4: withUnsafeBytes(of: address.s_addr) { Array($0) })
    }

    /// Loopback, this-network, private, link-local (metadata) and shared (CGNAT) IPv4 ranges.
    static func isPrivate(ipv4 octets: [UInt8]) -> Bool {
        switch (octets[0], octets[1]) {
        case (127, _), (10, _), (0, _): true
        case (172, 16...31), (192, 168), (169, 254), (100, 64...127): true
        default: false
        }
    }
}
