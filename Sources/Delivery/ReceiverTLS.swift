import NIOSSL
import Synchronization
import WebhookDomain

/// The TLS configurations of webhooks with a `tls` block, made from their PEMs on first use and
/// kept: the system's trust store plus the webhook's CA, and its client certificate for mutual
/// TLS. AsyncHTTPClient (through a proxy) keeps a request's connections apart by its TLS
/// configuration; `DeliveryHTTPClient` takes the SSL context made from it (nil: the system's
/// trust store alone), made once, as it loads the certificates.
final class ReceiverTLS: Sendable {
    private let configurations = Kept<WebhookTLS, TLSConfiguration>()
    private let contexts = Kept<WebhookTLS?, NIOSSLContext>()

    func configuration(for tls: WebhookTLS) throws -> TLSConfiguration {
        try configurations.value(for: tls) { try Self.configuration(tls) }
    }

    /// The SSL context of a delivery connection: HTTP/1.1, full certificate verification
    /// (hostname included) against the system's trust store and the webhook's CA.
    func context(for tls: WebhookTLS?) throws -> NIOSSLContext {
        try contexts.value(for: tls) {
            var configuration = try tls.map { try self.configuration(for: $0) } ?? .makeClientConfiguration()
            configuration.applicationProtocols = ["http/1.1"]
            return try NIOSSLContext(configuration: configuration)
        }
    }

    /// The configuration these PEMs make, or an error naming the part that does not parse.
    static func configuration(_ tls: WebhookTLS) throws(SettingsError) -> TLSConfiguration {
        if let problem = tls.problem { throw SettingsError(path: "", problem: problem) }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let authority = tls.certificateAuthority {
            configuration.additionalTrustRoots = [.certificates(try certificates(authority, path: "ca"))]
        }
        if let certificate = tls.clientCertificate, let key = tls.clientKey {
            configuration.certificateChain = try certificates(certificate, path: "client_certificate").map { .certificate($0) }
            do { configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)) } catch {
                throw SettingsError(path: "client_key", problem: "not a PEM private key (unencrypted)")
            }
        }
        return configuration
    }

    private static func certificates(_ pem: String, path: String) throws(SettingsError) -> [NIOSSLCertificate] {
        guard let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)), !certificates.isEmpty else {
            throw SettingsError(path: path, problem: "not a PEM certificate")
        }
        return certificates
    }
}

/// Values made on first use and kept; beyond `limit` distinct keys they are all made again on use.
private final class Kept<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let values = Mutex<[Key: Value]>([:])
    private let limit = 1_000

    func value(for key: Key, make: () throws -> Value) throws -> Value {
        if let value = values.withLock({ $0[key] }) { return value }
        let value = try make()
        values.withLock { values in
            if values.count >= limit { values.removeAll() }
            values[key] = value
        }
        return value
    }
}

extension WebhookTLS {
    /// Nil when these PEMs make a TLS configuration, else the problem, naming the part (`ca`,
    /// `client_certificate`, `client_key`) and never quoting it.
    public var configurationProblem: SettingsError? {
        do { _ = try ReceiverTLS.configuration(self) } catch { return error }
        return nil
    }
}
