import Delivery
import Foundation
import Hummingbird

extension AdminAPI {
    /// `GET /explain?topic=&partition=&offset=` (DESIGN.md §9): where one source record went, per
    /// webhook (`RecordExplanationResource`). An operators' route like `/status`: no token, served
    /// on `http.ops_listen` when it is set. 400 naming the parameter, 404 for an offset the
    /// partition does not hold, 503 while the bridge starts or when Kafka does not answer.
    func explain(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        if let unknown = query.map({ String($0.key) }).sorted().first(where: { !["topic", "partition", "offset"].contains($0) }) {
            throw AdminError.badRequest(unknown, "unknown parameter (allowed: topic, partition, offset)")
        }
        guard let topic = query.get("topic"), !topic.isEmpty else { throw AdminError.badRequest("topic", "required: the source topic") }
        let partition = try Self.integer(query.get("partition"), "partition", max: Int64(Int32.max))
        let offset = try Self.integer(query.get("offset"), "offset", max: Int64.max)
        if backend.isStarting { throw AdminError.starting }
        do throws(ExplainError) {
            let explanation = try await backend.explain(topic: topic, partition: Int32(partition), offset: offset)
            return Self.json(RecordExplanationResource.json(explanation))
        } catch {
            switch error.code {
            case .invalidRequest: throw AdminError.badRequest(error.field ?? "query", error.message)
            case .notFound: throw AdminError(.notFound, "not_found", error.message)
            case .unavailable: throw AdminError(.serviceUnavailable, "unavailable", error.message)
            }
        }
    }

    /// A required query parameter that must be a whole number from 0 to `max`.
    static func integer(_ text: String?, _ name: String, max: Int64) throws -> Int64 {
        guard let text, !text.isEmpty else { throw AdminError.badRequest(name, "required") }
        guard let value = Int64(text), value >= 0, value <= max else { throw AdminError.badRequest(name, "expected a whole number from 0 to \(max)") }
        return value
    }
}
