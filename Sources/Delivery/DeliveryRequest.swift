import Foundation
import NIOCore
import NIOHTTP1
import WebhookDomain

/// Where a delivery connection goes: the key of `DeliveryConnectionPool`'s connections, so a
/// connection is reused only for the same scheme, host, port, pinned address and TLS settings.
struct DeliveryEndpoint: Hashable, Sendable {
    var isTLS: Bool
    /// The URL's host, IPv6 without brackets: the Host header, the SNI and the certificate's name.
    var host: String
    var port: Int
    /// The address the destination check approved (DNS rebinding cannot move the connection); nil
    /// to connect to whatever `host` resolves to (or to the literal address it is).
    var address: String?
    /// The webhook's private CA and client certificate; nil for the system trust store alone.
    var tls: WebhookTLS?

    /// The host is an IP literal: no SNI, the certificate is checked against the address.
    var hostIsAddress: Bool { host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." } }

    /// `host[:port]`, the port left out when it is the scheme's default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? name : "\(name):\(port)"
    }
}

/// A request as `DeliveryHTTPClient` sends it: the endpoint, and the head and body to write.
struct DeliveryRequest: Sendable {
    var endpoint: DeliveryEndpoint
    var head: HTTPRequestHead
    var body: ByteBuffer?

    /// The request to `request.url` (http or https), connected to `address` when given. `Host`
    /// and `Content-Length` are added (the encoder would otherwise send the body chunked).
    init(_ request: WebhookRequest, address: String?, tls: WebhookTLS?) throws(DeliveryHTTPClient.Failure) {
        guard let url = URLComponents(string: request.url), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let rawHost = url.host, !rawHost.isEmpty
        else { throw .invalidURL(request.url) }
        let isTLS = scheme == "https"
        let host = rawHost.hasPrefix("[") ? String(rawHost.dropFirst().dropLast()) : rawHost
        endpoint = DeliveryEndpoint(isTLS: isTLS, host: host, port: url.port ?? (isTLS ? 443 : 80), address: address, tls: isTLS ? tls : nil)
        var target = url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath
        if let query = url.percentEncodedQuery { target += "?\(query)" }
        var headers = HTTPHeaders()
        headers.reserveCapacity(request.headers.count + 2)
        headers.add(name: "Host", value: endpoint.hostHeader)
        for header in request.headers { headers.add(name: header.name, value: header.value) }
        if let bytes = request.body {
            headers.add(name: "Content-Length", value: String(bytes.count))
            body = ByteBuffer(bytes: bytes)
        } else if ["POST", "PUT", "PATCH"].contains(request.method) {
            headers.add(name: "Content-Length", value: "0")
        }
        head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: target, headers: headers)
    }
}
