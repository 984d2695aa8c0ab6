import Foundation
import Hummingbird
import WebhookDomain

extension AdminAPI {
    /// The site a request acts for (DESIGN.md §10): the one whose token it carries, compared in
    /// constant time with every site's. No token: 401. A token that matches no site: 401, counted
    /// against the client's address; after `AuthFailureLimit.maxFailures` of them within its
    /// window, every request of that address that needs a token answers 429 with `Retry-After`
    /// until the oldest leaves the window. A valid token of another site than the one the request
    /// names (`claimed`: `site_id`, or the path's site): 403.
    func authorize(_ request: Request, context: AdminRequestContext, body: JSONBody?, claimed: String?) throws -> Site {
        let client = context.client
        if let wait = guards.refusal(client) { throw AdminError.tooManyFailures(retryAfter: wait) }
        guard let token = try body?.string("token") ?? Self.bearer(request) else { throw AdminError.unauthorized }
        // Every site is compared, so the time taken does not tell which one came close.
        let matches = backend.sites.filter { WebhookSignature.constantTimeEquals($0.token, token) }
        guard let site = matches.first else {
            if guards.failed(client) {
                logger.warning("admin API: too many tokens that match no site; the client is refused for a while", metadata: ["client": "\(client)"])
            }
            throw AdminError.unknownToken
        }
        if let claimed, claimed != site.id { throw AdminError.forbidden }
        return site
    }

    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
