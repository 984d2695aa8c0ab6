import Foundation
import Hummingbird
import WebhookDomain

/// An admin API error: `{"error":{"code":…,"message":…}}` with its status (DESIGN.md §9).
public struct AdminError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

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
    static let forbidden = AdminError(.forbidden, "forbidden", "the token is not valid for this site")
    static func notFound(_ what: String) -> AdminError { AdminError(.notFound, "not_found", "\(what) not found") }
    static func conflict(_ message: String) -> AdminError { AdminError(.conflict, "conflict", message) }
    static let gone = AdminError(.gone, "gone", "the webhook is dead (paused or disabled longer than message_retention); create a new one")

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try JSONSerialization.data(withJSONObject: ["error": ["code": code, "message": message]], options: [.sortedKeys])
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
