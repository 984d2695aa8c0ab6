import Foundation
import Hummingbird
import WebhookDomain

/// An admin API error: `{"error":{"code":…,"message":…}}` with its status (DESIGN.md §9).
public struct AdminError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Headers of the answer besides `Content-Type` (`Retry-After` on a 429).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func badRequest(_ field: String, _ problem: String) -> AdminError { AdminError(.badRequest, "invalid_request", "\(field): \(problem)") }
    /// A setting refused by its validator, its path put under the request's field path.
    static func invalid(_ error: SettingsError, under path: String) -> AdminError {
        let field = error.prefixed(by: path)
        return badRequest(field.path, field.problem)
    }
    static let unauthorized = AdminError(.unauthorized, "unauthorized", "a site token is required: the body's token or Authorization: Bearer")
    /// The token matches no site (counted against the client, see `AuthFailureLimit`).
    static let unknownToken = AdminError(.unauthorized, "unauthorized", "the token matches no site")
    /// A valid token of another site than the one the request names.
    static let forbidden = AdminError(.forbidden, "forbidden", "the token is not valid for this site")
    /// Too many tokens that matched no site came from this client lately.
    static func tooManyFailures(retryAfter: Duration) -> AdminError {
        // Whole seconds, rounded up: trying again at the time said is never refused.
        let seconds = max(1, Int(retryAfter.components.seconds) + (retryAfter.components.attoseconds > 0 ? 1 : 0))
        var error = AdminError(
            .tooManyRequests, "too_many_failed_authentications", "too many tokens that match no site from this address; try again in \(seconds) s")
        error.headers[.retryAfter] = String(seconds)
        return error
    }
    /// A site's quota (`quotas.webhooks_per_site`, `quotas.custom_topics_per_site`) is used up.
    static func quotaExceeded(_ message: String) -> AdminError { AdminError(.conflict, "quota_exceeded", message) }
    static let replayInFlight = AdminError(
        .tooManyRequests, "replay_in_flight",
        "a replay of this webhook is still in flight (its catch-up has not handed every partition back to the live path); try again once it has")
    static let starting = AdminError(.serviceUnavailable, "starting", "the bridge is starting (reading the control topic); try again shortly")
    /// A change to an object the config file manages (DESIGN.md §8): `instead` says where.
    static func managedByConfig(_ what: String, instead: String) -> AdminError {
        AdminError(.conflict, "managed_by_config", "\(what) is managed by the config file: change \(instead) there and reload (SIGHUP) or restart")
    }
    static func notFound(_ what: String) -> AdminError { AdminError(.notFound, "not_found", "\(what) not found") }
    static func conflict(_ message: String) -> AdminError { AdminError(.conflict, "conflict", message) }
    static let gone = AdminError(.gone, "gone", "the webhook is dead (paused or disabled longer than message_retention); create a new one")

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try JSONSerialization.data(withJSONObject: ["error": ["code": code, "message": message]], options: [.sortedKeys])
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
