import AsyncHTTPClient
import Testing
import WebhookDomain

@testable import Delivery

/// The egress clients (through a proxy): one per proxy, reused, and retired when idle or beyond the
/// limit, never while a request is on them.
@Suite("Egress clients")
struct EgressClientsTests {
    @Test("one client per proxy, reused; beyond the limit the least recently used idle one goes, not one in use")
    func reuseAndLimit() async {
        let clients = EgressClients(configuration: HTTPClient.Configuration(), limit: 2)
        let first = await clients.withClient(HTTPProxy(host: "a.example", port: 3129)) { $0 }
        let again = await clients.withClient(HTTPProxy(host: "a.example", port: 3129)) { $0 }
        #expect(first === again)
        let moved = await clients.withClient(HTTPProxy(host: "a.example", port: 3130)) { $0 }
        #expect(first !== moved, "a new proxy is a new client")
        #expect(clients.count == 2)
        // While a request is on b.example, two more hosts come: the idle ones go first, and
        // b.example's client stays, so the count may pass the limit while all are in use.
        let (inUse, afterwards) = await clients.withClient(HTTPProxy(host: "b.example", port: 3131)) { inUse in
            _ = await clients.withClient(HTTPProxy(host: "c.example", port: 3132)) { _ in () }
            _ = await clients.withClient(HTTPProxy(host: "d.example", port: 3133)) { _ in () }
            return (inUse, await clients.withClient(HTTPProxy(host: "b.example", port: 3131)) { $0 })
        }
        #expect(inUse === afterwards, "the client in use was kept")
        #expect(clients.count == 2)
        let reborn = await clients.withClient(HTTPProxy(host: "a.example", port: 3129)) { $0 }
        #expect(reborn !== first, "the least recently used was retired")
        await clients.shutdown()
        #expect(clients.count == 0)
    }

    @Test("clients idle past their lifetime are retired")
    func idleLifetime() async {
        let clients = EgressClients(configuration: HTTPClient.Configuration(), limit: 100, idleLifetime: .zero)
        let first = await clients.withClient(HTTPProxy(host: "a.example", port: 3129)) { $0 }
        let second = await clients.withClient(HTTPProxy(host: "b.example", port: 3130)) { $0 }
        #expect(first !== second)
        #expect(clients.count == 1, "a.example's client, idle since its request, was retired")
        await clients.shutdown()
    }
}
