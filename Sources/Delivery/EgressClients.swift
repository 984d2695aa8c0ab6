import AsyncHTTPClient
import Synchronization
import WebhookDomain

/// The HTTP clients of deliveries that do not go straight to whatever the host name resolves to:
/// - pinned: a host name connected to one checked address (AsyncHTTPClient's `dnsOverride`: the
///   address for the connection, the name for the Host header, the TLS SNI and the certificate
///   check);
/// - through a proxy (a CONNECT tunnel; the proxy resolves the name).
///
/// One client per egress, made on first use; clients unused for `idleLifetime` and the least
/// recently used beyond `limit` are shut down once no request is on them.
final class EgressClients: Sendable {
    enum Egress: Hashable {
        case pinned(host: String, address: String)
        case proxy(HTTPProxy)
    }

    private struct Entry {
        let client: HTTPClient
        var inFlight = 0
        var lastUsed: ContinuousClock.Instant
    }

    private let configuration: HTTPClient.Configuration
    private let limit: Int
    private let idleLifetime: Duration
    private let state = Mutex(State())

    private struct State {
        var entries: [Egress: Entry] = [:]
        var nextSweep = ContinuousClock.now
    }

    init(configuration: HTTPClient.Configuration, limit: Int = 1_000, idleLifetime: Duration = .seconds(60)) {
        self.configuration = configuration
        self.limit = limit
        self.idleLifetime = idleLifetime
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Runs `body` with the client of `egress`.
    func withClient<Result>(_ key: Egress, _ body: (HTTPClient) async -> Result) async -> Result {
        let (client, retired) = state.withLock { state in
            let now = ContinuousClock.now
            var entry = state.entries[key] ?? Entry(client: makeClient(key), lastUsed: now)
            entry.inFlight += 1
            entry.lastUsed = now
            state.entries[key] = entry
            return (entry.client, retire(from: &state, now: now))
        }
        for client in retired { Task { try? await client.shutdown() } }
        let result = await body(client)
        state.withLock { state in
            state.entries[key]?.inFlight -= 1
            state.entries[key]?.lastUsed = .now
        }
        return result
    }

    func shutdown() async {
        let clients = state.withLock { state in
            defer { state.entries.removeAll() }
            return state.entries.values.map(\.client)
        }
        for client in clients { try? await client.shutdown() }
    }

    private func makeClient(_ egress: Egress) -> HTTPClient {
        var configuration = configuration
        switch egress {
        case .pinned(let host, let address):
            configuration.dnsOverride = [host: address]
        case .proxy(let proxy):
            let credentials = proxy.username.map { HTTPClient.Authorization.basic(username: $0, password: proxy.password ?? "") }
            configuration.proxy = .server(host: proxy.host, port: proxy.port, authorization: credentials)
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Removes the entries idle for `idleLifetime` (looked for at most every 10 s) and, beyond `limit`,
    /// the least recently used; never one with a request on it.
    private func retire(from state: inout State, now: ContinuousClock.Instant) -> [HTTPClient] {
        var retired: [Egress] = []
        if now >= state.nextSweep {
            state.nextSweep = now + min(.seconds(10), idleLifetime)
            retired = state.entries.filter { $0.value.inFlight == 0 && now - $0.value.lastUsed > idleLifetime }.map(\.key)
        }
        let excess = state.entries.count - retired.count - limit
        if excess > 0 {
            let idle = state.entries.filter { $0.value.inFlight == 0 && !retired.contains($0.key) }
            retired += idle.sorted { $0.value.lastUsed < $1.value.lastUsed }.prefix(excess).map(\.key)
        }
        return retired.compactMap { state.entries.removeValue(forKey: $0)?.client }
    }
}
