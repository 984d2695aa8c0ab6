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

    /// True for names and literal addresses that reach this machine or a private network, or that
    /// no public receiver has (multicast, reserved, documentation ranges).
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
            if bytes[0] == 0xFF { return true }  // ff00::/8, multicast
            if bytes[0..<4] == [0x20, 0x01, 0x00, 0x00] || bytes[0..<4] == [0x20, 0x01, 0x0D, 0xB8] { return true }  // Teredo, documentation
            if bytes[0..<6] == [0x00, 0x64, 0xFF, 0x9B, 0x00, 0x01] { return true }  // 64:ff9b:1::/48, local-use NAT64
            // Addresses that carry an IPv4 address, which decides: IPv4-mapped (::ffff:a.b.c.d),
            // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && ((bytes[10] == 0xFF && bytes[11] == 0xFF) || (bytes[10] == 0 && bytes[11] == 0)) {
                return isPrivate(ipv4: Array(bytes[12..<16]))
            }
            if bytes[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return isPrivate(ipv4: Array(bytes[12..<16])) }
            if bytes[0] == 0x20 && bytes[1] == 0x02 { return isPrivate(ipv4: Array(bytes[2..<6])) }
            return false
        }
        // Only a name made of digits, dots and hex digits can be an address; inet_aton also
        // accepts trailing text after a space, which a URL host cannot have.
        var address = in_addr()
        guard !name.isEmpty, name.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == "x" }), inet_aton(name, &address) != 0 else { return false }
        return isPrivate(ipv4: withUnsafeBytes(of: address.s_addr) { Array($0) })
    }

    /// Loopback, this-network, private, link-local (metadata), shared (CGNAT), benchmarking,
    /// documentation, protocol-assignment, multicast and reserved IPv4 ranges.
    static func isPrivate(ipv4 octets: [UInt8]) -> Bool {
        switch (octets[0], octets[1], octets[2]) {
        case (127, _, _), (10, _, _), (0, _, _), (224..., _, _): true
        case (172, 16...31, _), (192, 168, _), (169, 254, _), (100, 64...127, _), (198, 18...19, _): true
        case (192, 0, 0), (192, 0, 2), (198, 51, 100), (203, 0, 113): true
        default: false
        }
    }
}
