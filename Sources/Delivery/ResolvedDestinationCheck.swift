import Foundation
import Synchronization
import WebhookDomain

/// The delivery-time half of DESIGN.md §10: a webhook's host is resolved once before a request,
/// every answer is checked, and the request then goes to one checked address (the HTTP client is
/// pinned to it, so a DNS answer that changes between the check and the connection, DNS
/// rebinding, cannot send it elsewhere). The name stays in the Host header and the TLS SNI.
///
/// Verdicts are kept for `lifetime` per host, so a delivery costs a dictionary look-up, not a DNS
/// query.
final class ResolvedDestinationCheck: Sendable {
    typealias Resolve = @Sendable (String) async -> [String]

    enum Verdict: Sendable, Equatable {
        /// Connect to `address`; nil for a literal address in the URL, which is its own address.
        case approved(address: String?)
        /// An answer (or the literal) is private: the problem in words, for the operator's log.
        case refused(String)
        /// The name has no address: the delivery fails as `host name not resolved`.
        case unresolved
    }

    private let resolve: Resolve
    private let isRefused: @Sendable (String) -> Bool
    private let lifetime: Duration
    private let verdicts = Mutex<[String: (verdict: Verdict, until: ContinuousClock.Instant)]>([:])

    /// `isRefused` says which addresses are refused (the private ones; tests may pass others).
    init(
        lifetime: Duration = .seconds(10), isRefused: @escaping @Sendable (String) -> Bool = DestinationPolicy.isPrivate(host:),
        resolve: @escaping Resolve = ResolvedDestinationCheck.addresses(of:)
    ) {
        self.lifetime = lifetime
        self.isRefused = isRefused
        self.resolve = resolve
    }

    /// The verdict on a URL's host (a name or a literal address, IPv6 in brackets or not).
    func verdict(on host: String) async -> Verdict {
        let now = ContinuousClock.now
        if let cached = verdicts.withLock({ $0[host] }), cached.until > now { return cached.verdict }
        let verdict = await check(host)
        verdicts.withLock { verdicts in
            if verdicts.count > 100_000 { verdicts.removeAll() }
            verdicts[host] = (verdict, now + lifetime)
        }
        return verdict
    }

    private func check(_ host: String) async -> Verdict {
        // A literal address is checked again (the ranges refused may have grown since the URL
        // was stored), and connected to as written.
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if bare.contains(":") || bare.allSatisfy({ $0.isNumber || $0 == "." }) {
            return isRefused(bare) ? .refused(Self.problem(host: host, address: bare)) : .approved(address: nil)
        }
        let addresses = await resolve(host)
        guard let first = addresses.first else { return .unresolved }
        if let refused = addresses.first(where: isRefused) { return .refused(Self.problem(host: host, address: refused)) }
        return .approved(address: first)
    }

    private static func problem(host: String, address: String) -> String {
        "destination \(host) resolves to \(address), a loopback, private, link-local, metadata or reserved address (set http.allow_private_destinations to allow)"
    }

    private static let lookups = DispatchQueue(label: "webhook-bridge.resolve", attributes: .concurrent)

    /// The host's addresses from the system resolver (getaddrinfo, which also reads /etc/hosts),
    /// in its order of preference, looked up on a queue of its own because getaddrinfo blocks.
    static func addresses(of host: String) async -> [String] {
        await withCheckedContinuation { continuation in
            lookups.async { continuation.resume(returning: resolveBlocking(host)) }
        }
    }

    private static func resolveBlocking(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var entry = list
        while let info = entry?.pointee {
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            switch info.ai_family {
            case AF_INET:
                var address = info.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
            case AF_INET6:
                var address = info.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
            default:
                break
            }
            let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !address.isEmpty, !addresses.contains(address) { addresses.append(address) }
            entry = info.ai_next
        }
        return addresses
    }
}
