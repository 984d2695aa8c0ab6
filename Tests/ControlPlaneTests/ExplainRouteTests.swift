import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ControlPlane

/// `GET /explain` as the API takes it, before any record is read (the verdicts themselves are
/// tested against a running bridge in WebhookBridgeTests' `ExplainTests`).
@Suite("Admin API: /explain parameters")
struct ExplainRouteTests {
    static func withOpsRouter(starting: Bool = false, _ body: @Sendable (TestClientProtocol) async throws -> Void) async throws {
        let unused = ControlCatalog(
            view: try ControlTopicView(topic: "unused", kafka: ControlTopicTests.kafka, logger: ControlTopicTests.logger), configSites: [], routes: [], extraTopics: [])
        let api = AdminAPI(backend: TestAdminBackend(catalog: unused, starting: starting), logger: ControlTopicTests.logger)
        try await Application(router: api.opsRouter()).test(.router) { client in try await body(client) }
    }

    @Test("400 naming the parameter: missing, not a whole number, negative, out of range, unknown")
    func badParameters() async throws {
        try await Self.withOpsRouter { client in
            for (query, field) in [
                ("partition=0&offset=0", "topic"), ("topic=&partition=0&offset=0", "topic"), ("topic=t&offset=0", "partition"), ("topic=t&partition=one&offset=0", "partition"),
                ("topic=t&partition=2147483648&offset=0", "partition"), ("topic=t&partition=0", "offset"), ("topic=t&partition=0&offset=-3", "offset"),
                ("topic=t&partition=0&offset=1.5", "offset"), ("topic=t&partition=0&offset=0&token=x", "token"),
            ] {
                let response = try await client.execute(uri: "/explain?\(query)", method: .get)
                #expect(response.status == .badRequest, "\(query)")
                let (code, message) = try AdminAPITests.error(response)
                #expect(code == "invalid_request" && message.hasPrefix("\(field):"), "\(query): \(message)")
            }
            // Well-formed: the backend answers (this one finds nothing).
            #expect(try await client.execute(uri: "/explain?topic=t&partition=0&offset=0", method: .get).status == .notFound)
        }
    }

    @Test("503 starting while the bridge starts")
    func whileStarting() async throws {
        try await Self.withOpsRouter(starting: true) { client in
            let response = try await client.execute(uri: "/explain?topic=t&partition=0&offset=0", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(try AdminAPITests.error(response).code == "starting")
        }
    }
}
