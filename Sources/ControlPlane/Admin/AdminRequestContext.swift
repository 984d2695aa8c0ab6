import Hummingbird
import NIOCore

/// The admin API's request context: Hummingbird's basic one plus the client's address, which
/// failed authentications are counted by (`AuthFailureLimit`).
public struct AdminRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection's peer; nil where there is none (a test driving the router directly).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client as failed authentications are counted: its IP address (any port), or
    /// `unknown` without one. Behind a proxy every client has the proxy's address.
    var client: String { remoteAddress?.ipAddress ?? "unknown" }
}
