import NIOSSL
import Synchronization
import WebhookDomain

/// The TLS configurations of webhooks with a `tls` block, made from their PEMs on first use and
/// kept: the system's trust store plus the webhook's CA, and its client certificate for mutual
/// TLS. AsyncHTTPClient keeps a request's connections apart by its TLS configuration.
final class ReceiverTLS: Sendable {
    private let made = Mutex<[WebhookTLS: TLSConfiguration]>([:])
    /// Distinct configurations kept at most; beyond it they are all made again on use.
    private let limit = 1_000

    func configuration(for tls: WebhookTLS) throws -> TLSConfiguration {
        if let configuration = made.withLock({ $0[tls] }) { return configuration }
        let configuration = try Self.configuration(tls)
        made.withLock { made in
            if made.count >= limit { made.removeAll() }
            made[tls] = configuration
        }
        return configuration
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

extension WebhookTLS {
    /// Nil when these PEMs make a TLS configuration, else the problem, naming the part (`ca`,
    /// `client_certificate`, `client_key`) and never quoting it.
    public var configurationProblem: SettingsError? {
        do { _ = try ReceiverTLS.configuration(self) } catch { return error }
        return nil
    }
}
