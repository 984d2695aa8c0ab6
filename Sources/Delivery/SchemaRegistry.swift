import AsyncHTTPClient
import Avro
import Foundation
import Logging
import NIOCore
import Synchronization
import WebhookDomain

/// The Schema Registry's one route the bridge calls (DESIGN.md §3): `GET /schemas/ids/{id}`,
/// answering `{"schema": "<the writer schema as JSON text>"}`, with optional basic auth. Each
/// schema is fetched once and kept, as a ready decoder.
public final class SchemaRegistry: Sendable {
    public struct Configuration: Sendable {
        public var url: String
        public var username: String?
        public var password: String?

        public init(url: String, username: String? = nil, password: String? = nil) {
            self.url = url
            self.username = username
            self.password = password
        }
    }

    /// Why a schema could not be had.
    public enum Failure: Error, Sendable, Equatable {
        /// The registry answered, and there is no usable schema with that id: the record is dead-lettered.
        case unusable(String)
        /// The registry could not be asked (down, 5xx, timeout): asked again later, nothing dead-lettered.
        case unavailable(String)
    }

    private let configuration: Configuration
    private let decoders = Mutex<[UInt32: AvroDecoder]>([:])

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// The decoder for a schema id, from the cache or the registry.
    public func decoder(for id: UInt32) async throws(Failure) -> AvroDecoder {
        if let known = decoders.withLock({ $0[id] }) { return known }
        let text = try await fetch(id)
        let decoder: AvroDecoder
        do { decoder = AvroDecoder(schema: try AvroSchema(parsing: text)) } catch {
            throw .unusable("schema id \(id) from the registry does not parse: \(error)")
        }
        decoders.withLock { $0[id] = decoder }
        return decoder
    }

    private func fetch(_ id: UInt32) async throws(Failure) -> String {
        var request = HTTPClientRequest(url: "\(configuration.url)/schemas/ids/\(id)")
        request.headers.add(name: "Accept", value: "application/vnd.schemaregistry.v1+json, application/json")
        if let username = configuration.username, let password = configuration.password {
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(username):\(password)".utf8).base64EncodedString())
        }
        let status: UInt
        let body: ByteBuffer
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            status = response.status.code
            body = try await response.body.collect(upTo: 4 << 20)
        } catch {
            throw .unavailable("schema registry unreachable: \(error)")
        }
        switch status {
        case 200:
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any], let schema = object["schema"] as? String else {
                throw .unusable("schema id \(id): the registry's answer has no schema")
            }
            return schema
        case 404: throw .unusable("schema id \(id) not found in the registry")
        case 401, 403: throw .unavailable("schema registry refused the credentials (HTTP \(status))")
        default: throw .unavailable("schema registry answered HTTP \(status)")
        }
    }
}

/// Turns the values of `format: avro` topics into JSON before routing, so routing sees every
/// event as JSON (DESIGN.md §3). A value that is not in the wire format, names a schema the
/// registry does not have, or does not decode is marked undecodable (the router dead-letters it
/// with the reason); while the registry cannot be reached, the record waits and is asked for again.
public struct SourceDecoding: Sendable {
    let registry: SchemaRegistry?
    let logger: Logger

    public init(registry: SchemaRegistry?, logger: Logger) {
        self.registry = registry
        self.logger = logger
    }

    /// The record as routing takes it, with `routes` the routes of its topic.
    func decoded(_ record: SourceRecord, routes: [Route]) async -> SourceRecord {
        guard let registry, routes.contains(where: { $0.format == .avro }), let value = record.value else { return record }
        var record = record
        do {
            let (id, payload) = try SchemaRegistryWireFormat.split(value)
            let decoder = try await decoderWaitingForTheRegistry(registry, id: id)
            record.value = try decoder.json(from: payload)
        } catch let error as AvroError {
            record.undecodable = "avro: \(error)"
        } catch let error as SchemaRegistry.Failure {
            if case .unusable(let reason) = error { record.undecodable = "avro: \(reason)" }
        } catch {
            record.undecodable = "avro: \(error)"
        }
        return record
    }

    /// Asks the registry until it answers (backing off to 30 s), or the task is cancelled.
    private func decoderWaitingForTheRegistry(_ registry: SchemaRegistry, id: UInt32) async throws -> AvroDecoder {
        var wait = Duration.milliseconds(500)
        while true {
            do { return try await registry.decoder(for: id) } catch {
                guard case .unavailable(let reason) = error, !Task.isCancelled else { throw error }
                logger.warning("schema registry unavailable: the record waits", metadata: ["schema_id": "\(id)", "error": "\(reason)"])
                try await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(30))
            }
        }
    }
}
