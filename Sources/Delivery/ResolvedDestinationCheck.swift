import Foundation
import Synchronization
import WebhookDomain

/// The delivery-time half of DESIGN.md §10: a webhook's host name is resolved before a request,
/// and the request is refused if any of its addresses is loopback, private, link-local or
/// metadata. (URLs as written are checked when a webhook is configured; a name can point anywhere.)
///
/// Verdicts are kept for `lifetime`, so a delivery costs a dictionary look-up, not a DNS query.
/// The HTTP client resolves the name again when it connects, so a name whose DNS answer changes
/// between the two look-ups (DNS rebinding) is not caught here; docs/decisions.md says so.
final class ResolvedDestinationCheck: Sendable {
    typealias Resolve = @Sendable (String) async -> [String]

    private let resolve: Resolve
    private let lifetime: Duration
    private let verdicts = Mutex<[String: (problem: String?, until: ContinuousClock.Instant)]>([:])

    init(lifetime: Duration = .seconds(10), resolve: @escaping Resolve = ResolvedDestinationCheck.addresses(of:)) {
        self.lifetime = lifetime
        self.resolve = resolve
    }

    /// Nil when every address the URL's host resolves to is public (or the host does not
    /// resolve: the connection attempt then fails on its own), else the problem in words.
    func problem(with url: String) async -> String? {
        let now = ContinuousClock.now
        if let cached = verdicts.withLock({ $0[url] }), cached.until > now { return cached.problem }
        let problem = await check(url)
        verdicts.withLock { verdicts in
            if verdicts.count > 100_000 { verdicts.removeAll() }
            verdicts[url] = (problem, now + lifetime)
        }
        return problem
    }

    private func check(_ url: String) async -> String? {
        guard let host = URLComponents(string: url)?.host, !host.isEmpty else { return nil }
        // Literal addresses were checked as written when the webhook was configured.
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if bare.contains(":") || bare.allSatisfy({ $0.isNumber || $0 == "." }) { return nil }
        let privateAddresses = await resolve(host).filter { DestinationPolicy.isPrivate(host: $0) }
        guard let address = privateAddresses.first else { return nil }
        return "destination \(host) resolves to \(address), a loopback, private, link-local or metadata address (set http.allow_private_destinations to allow)"
    }

    private static let lookups = DispatchQueue(label: "webhook-bridge.resolve", attributes: .concurrent)

    /// The host's addresses from the system resolver (getaddrinfo, which also reads /etc/hosts),
    /// looked up on a queue of its own because getaddrinfo blocks.
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
            if text[0] != 0 { addresses.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
            entry = info.ai_next
        }
        return addresses
    }
}
