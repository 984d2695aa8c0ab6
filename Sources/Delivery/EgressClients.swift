import AsyncHTTPClient
import Synchronization
import WebhookDomain

/// The HTTP clients (AsyncHTTPClient) of deliveries through a proxy (a CONNECT tunnel; the proxy
/// resolves the name). Direct deliveries go through `DeliveryHTTPClient`.
///
/// One client per proxy, made on first use; clients unused for `idleLifetime` and the least
/// recently used beyond `limit` are shut down once no request is on them.
final class EgressClients: Sendable {
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
        var entries: [HTTPProxy: Entry] = [:]
        var nextSweep = ContinuousClock.now
    }

    init(configuration: HTTPClient.Configuration, limit: Int = 1_000, idleLifetime: Duration = .seconds(60)) {
        self.configuration = configuration
        self.limit = limit
        self.idleLifetime = idleLifetime
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Runs `body` with the client of `proxy`.
    func withClient<Result>(_ key: HTTPProxy, _ body: (HTTPClient) async -> Result) async -> Result {
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

    private func makeClient(_ proxy: HTTPProxy) -> HTTPClient {
        var configuration = configuration
        let credentials = proxy.username.map { HTTPClient.Authorization.basic(username: $0, password: proxy.password ?? "") }
        configuration.proxy = .server(host: proxy.host, port: proxy.port, authorization: credentials)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Removes the entries idle for `idleLifetime` (looked for at most every 10 s) and, beyond `limit`,
    /// the least recently used; never one with a request on it.
    private func retire(from state: inout State, now: ContinuousClock.Instant) -> [HTTPClient] {
        var retired: [HTTPProxy] = []
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
