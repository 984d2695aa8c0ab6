import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One request to the admin API, answered with JSON; an error answer becomes a failure with its message.
enum AdminCall {
    static func json(_ method: HTTPMethod, url: String, path: String, token: String? = nil, body: [String: Any]? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let data = try await response.body.collect(upTo: 16 * 1024 * 1024)
            try await client.shutdown()
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: data))) as? [String: Any] ?? [:]
            if response.status.code >= 400 {
                let message = (json["error"] as? [String: Any])?["message"] as? String ?? "HTTP \(response.status.code)"
                throw ValidationError("\(response.status.code): \(message)")
            }
            return json
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
