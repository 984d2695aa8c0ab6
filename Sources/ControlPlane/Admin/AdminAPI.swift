import Crypto
import Delivery
import Foundation
import Hummingbird
import Kafka
import Logging
import WebhookDomain

/// The admin API (DESIGN.md §9): the OMS guide's webhook routes on the control topic.
///
/// Every change is written to the control topic and answered once read back, so the answer shows
/// what every instance will apply. A site's token comes in the body's `token` (as in the guide's
/// examples) or as `Authorization: Bearer`; a site sees and changes only its own webhooks and
/// topics (another site's webhook answers 404), within its quotas (see `authorize` and
/// `Quotas`).
public struct AdminAPI: Sendable {
    let backend: any AdminBackend
    let logger: Logger
    let guards: AdminGuards

    /// `authFailuresPerMinute`: tokens that match no site a client address may give within a
    /// minute before it is refused (`http.auth_failures_per_minute`).
    public init(backend: any AdminBackend, logger: Logger, authFailuresPerMinute: Int = 10) {
        self.backend = backend
        self.logger = logger
        guards = AdminGuards(authFailures: AuthFailureLimit(maxFailures: authFailuresPerMinute, window: .seconds(60)))
    }

    /// The tenants' routes, with the operators' ones (`opsRouter()`) too unless they are served
    /// on a listener of their own (`http.ops_listen`, DESIGN.md §10); then these answer 404 here.
    public func router(includingOps: Bool = true) -> Hummingbird.Router<AdminRequestContext> {
        let router = Hummingbird.Router(context: AdminRequestContext.self)
        if includingOps { addOpsRoutes(to: router) }
        router.add(middleware: WhileStarting(backend: backend))
        router.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        router.post("webhooks") { request, context in try await createWebhook(request, context) }
        router.get("webhooks") { request, context in try await listWebhooks(request, context) }
        router.get("webhooks/{id}") { request, context in try await showWebhook(request, context, id: context.parameters.require("id")) }
        router.patch("webhooks/{id}") { request, context in try await updateWebhook(request, context, id: context.parameters.require("id")) }
        router.patch("webhooks/{id}/status") { request, context in try await changeStatus(request, context, id: context.parameters.require("id")) }
        router.delete("webhooks/{id}") { request, context in try await deleteWebhook(request, context, id: context.parameters.require("id")) }
        router.post("webhooks/{id}/replay") { request, context in try await replay(request, context, id: context.parameters.require("id")) }
        router.post("webhook_topics") { request, context in try await createTopic(request, context) }
        router.get("webhook_topics") { request, context in try await listTopics(request, context) }
        router.get("sites/{site_id}/configuration") { request, context in
            try await showConfiguration(request, context, site: context.parameters.require("site_id"))
        }
        router.put("sites/{site_id}/configuration") { request, context in
            try await replaceConfiguration(request, context, site: context.parameters.require("site_id"))
        }
        return router
    }

    /// The operators' routes alone: `/health`, `/ready`, `/metrics`, `/status`, `/explain` (for
    /// `http.ops_listen`).
    public func opsRouter() -> Hummingbird.Router<AdminRequestContext> {
        let router = Hummingbird.Router(context: AdminRequestContext.self)
        addOpsRoutes(to: router)
        return router
    }

    /// Until the instance has started, the tenants' routes answer 503 `starting` (the operators'
    /// routes, added before it, answer as they can: `/ready` says 503).
    struct WhileStarting: RouterMiddleware {
        let backend: any AdminBackend

        func handle(
            _ request: Request, context: AdminRequestContext, next: (Request, AdminRequestContext) async throws -> Response
        ) async throws -> Response {
            guard backend.isStarting else { return try await next(request, context) }
            throw AdminError.starting
        }
    }

    /// No token: they show ids, states and counts, never a URL, key, token or host; `/explain` also
    /// shows a record's key, message ids and routing, never its value.
    private func addOpsRoutes(to router: Hummingbird.Router<AdminRequestContext>) {
        router.get("health") { _, _ in Self.json(["status": "ok"]) }
        router.get("ready") { _, _ in
            backend.isReady ? Self.json(["ready": true]) : Self.json(["ready": false], status: .serviceUnavailable)
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: backend.metricsText())))
        }
        router.get("status") { _, _ in status() }
        router.get("explain") { request, _ in try await explain(request) }
    }

    /// What this instance is doing: every webhook's status with its in-flight, queued and lag
    /// counts here, and the consumer lag of the partitions it holds. For operators, like
    /// `/metrics`: it shows ids and states, never a url or a key.
    func status() -> Response {
        let (webhooks, partitions) = backend.runtime()
        let ready = backend.isReady
        // Written straight to bytes, keys in order, and sent in pieces of 500 webhooks: with
        // 10,000, a dictionary of `Any` per webhook through JSONSerialization took about 26 MB for
        // each answer, and the whole answer as one buffer still 3 MB (docs/benchmarks.md).
        let body = ResponseBody { writer in
            var json = JSONWriter()
            json.addObjects("partitions", partitions) { item, lag in
                item.add("lag", lag.lag)
                item.add("partition", Int64(lag.partition.partition))
                item.add("topic", lag.partition.topic)
            }
            json.add("ready", ready)
            json.openArray("webhooks")
            for (index, runtime) in webhooks.enumerated() {
                json.addObject { item in
                    item.add("acknowledged", Int64(runtime.acknowledgedMessages))
                    item.add("concurrency_limit", Int64(runtime.concurrencyLimit))
                    item.add("cursor_lag", runtime.cursorLag)
                    if runtime.filters { item.add("filtered", Int64(runtime.filteredMessages)) }
                    item.add("id", runtime.id)
                    item.add("in_flight", Int64(runtime.inFlightRequests))
                    if let error = runtime.state.lastError { item.add("last_error", error) }
                    if let next = runtime.state.nextRetryAtMilliseconds { item.add("next_retry_at", Double(next) / 1000) }
                    item.add("parked_partitions", Int64(runtime.parkedPartitions))
                    if let pause = runtime.state.pause { item.add("pause", pause.rawValue) }
                    item.add("queued", Int64(runtime.queuedMessages))
                    item.add("retries", Int64(runtime.state.retries))
                    item.add("site_id", runtime.siteID)
                    item.add("status", runtime.state.status.rawValue)
                }
                if index % 500 == 499 { try await writer.write(ByteBuffer(bytes: json.drain())) }
            }
            json.closeArray()
            try await writer.write(ByteBuffer(bytes: json.finish()))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    // MARK: - Ownership

    /// A webhook of the authorised site, or 404.
    func ownedWebhook(_ id: String, site: Site) throws -> Webhook {
        guard let webhook = backend.webhook(id), webhook.siteID == site.id else { throw AdminError.notFound("webhook \(id)") }
        return webhook
    }

    /// A file webhook's definition changes in the file (its status and replays through the API).
    func refuseIfManagedByFile(webhookID id: String) throws {
        if backend.isManagedByFile(.webhook(id)) {
            throw AdminError.managedByConfig("webhook \(id)", instead: "its entry under webhooks (id: \(id)), keys through hash_keys,")
        }
    }

    static func siteQuery(_ request: Request) -> String? { request.uri.queryParameters.get("site_id") }

    // MARK: - Webhooks

    func createWebhook(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let body = try await JSONBody.read(request)
        try body.allow(["site_id", "token", "webhook"])
        let site = try authorize(request, context: context, body: body, claimed: try body.string("site_id"))
        let fields = try body.require("webhook", body.object)
        try fields.allow(["hash_key", "http_method", "status", "topics", "url", "options", "headers", "auth", "tls", "filter"])
        let url = try fields.require("url", fields.string)
        if let problem = backend.destinationPolicy.problem(with: url) { throw AdminError.badRequest("webhook.url", problem) }
        let method = try fields.require("http_method", { try fields.oneOf($0, HTTPMethod.self) })
        let topics = try validTopics(fields, site: site, required: true)!
        let status = try fields.oneOf("status", WebhookStatus.self) ?? .enabled
        if status == .dead { throw AdminError.badRequest("webhook.status", "expected one of enabled, paused, disabled") }
        let options = try Self.validated(Self.options(fields).applied(to: WebhookOptions()), fields: fields)
        let given = try fields.string("hash_key").map(HashKey.init)
        if let given { try Self.validate(given, fields: fields) }
        if let refusal = backend.quotas.refusal(adding: .webhooks, to: backend.webhooks.count(where: { $0.siteID == site.id }), site: site.id) {
            throw AdminError.quotaExceeded(refusal)
        }
        let key = given ?? HashKey.generate()
        let id = "wh_" + (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let webhook = Webhook(
            id: id, siteID: site.id, url: url, method: method, topics: topics, hashKeys: [key], options: options, headers: try Self.headers(fields) ?? [],
            auth: try Self.auth(fields), tls: try Self.tls(fields), filter: try Self.filter(fields))
        try await backend.create(webhook, status: status)
        logger.info("webhook created", metadata: ["webhook": "\(id)", "site": "\(site.id)"])
        var json: [String: Any] = ["webhook": WebhookResource.json(webhook, state: backend.state(id))]
        // A generated key is shown once, now, and never again.
        if given == nil { json["hash_key"] = key.text }
        return Self.json(json, status: .created)
    }

    func listWebhooks(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let site = try authorize(request, context: context, body: nil, claimed: Self.siteQuery(request))
        let webhooks = backend.webhooks.filter { $0.siteID == site.id }
        return Self.json(["webhooks": webhooks.map { WebhookResource.json($0, state: backend.state($0.id)) }])
    }

    func showWebhook(_ request: Request, _ context: AdminRequestContext, id: String) async throws -> Response {
        let site = try authorize(request, context: context, body: nil, claimed: Self.siteQuery(request))
        let webhook = try ownedWebhook(id, site: site)
        return Self.json(["webhook": WebhookResource.json(webhook, state: backend.state(id))])
    }

    func updateWebhook(_ request: Request, _ context: AdminRequestContext, id: String) async throws -> Response {
        let envelope = try await JSONBody.read(request)
        try envelope.allow(["site_id", "token", "webhook", "url", "topics", "http_method", "options", "hash_key", "headers", "auth", "tls", "filter"])
        let site = try authorize(request, context: context, body: envelope, claimed: try envelope.string("site_id"))
        var webhook = try ownedWebhook(id, site: site)
        try refuseIfManagedByFile(webhookID: id)
        // The guide's example sends the fields bare; `webhook: {…}` is accepted too.
        let fields = try envelope.object("webhook") ?? envelope
        if fields.path == "webhook" { try fields.allow(["url", "topics", "http_method", "options", "hash_key", "headers", "auth", "tls", "filter"]) }
        if let url = try fields.string("url") {
            if let problem = backend.destinationPolicy.problem(with: url) { throw AdminError.badRequest(fields.name("url"), problem) }
            webhook.url = url
        }
        if let topics = try validTopics(fields, site: site, required: false) { webhook.topics = topics }
        if let method = try fields.oneOf("http_method", HTTPMethod.self) { webhook.method = method }
        // Given: replaced; given as null: removed; absent: kept.
        if let headers = try Self.headers(fields) { webhook.headers = headers }
        if fields.fields["auth"] != nil { webhook.auth = try Self.auth(fields) }
        if fields.fields["tls"] != nil { webhook.tls = try Self.tls(fields) }
        if fields.fields["filter"] != nil { webhook.filter = try Self.filter(fields) }
        let options = try Self.options(fields)
        let changedOptions = try Self.validated(options.applied(to: webhook.options), fields: fields)
        let newKey = try fields.string("hash_key").map(HashKey.init)
        if let newKey { try Self.validate(newKey, fields: fields) }
        let state = backend.state(id)
        if state.status == .dead { throw AdminError.gone }
        if let batching = options.batching, batching != webhook.options.batching, state.status == .enabled {
            throw AdminError.conflict("options.batching can change only while the webhook is paused or disabled")
        }
        webhook.options = changedOptions
        if let newKey { webhook.rotate(to: newKey) }
        try await backend.save(webhook)
        return Self.json(["webhook": WebhookResource.json(webhook, state: backend.state(id))])
    }

    func changeStatus(_ request: Request, _ context: AdminRequestContext, id: String) async throws -> Response {
        let body = try await JSONBody.read(request)
        try body.allow(["site_id", "token", "status"])
        let site = try authorize(request, context: context, body: body, claimed: try body.string("site_id"))
        let webhook = try ownedWebhook(id, site: site)
        let target = try body.require("status", { try body.oneOf($0, WebhookStatus.self) })
        var state = backend.state(id)
        if state.status == .dead { throw AdminError.gone }
        let event: WebhookState.Event
        switch target {
        case .enabled: event = .enableRequested
        case .paused: event = .pauseRequested
        case .disabled: event = .disableRequested
        case .dead: throw AdminError.badRequest("status", "expected one of enabled, paused, disabled")
        }
        _ = state.apply(event, policy: .init(site: site), now: WallClock.milliseconds())
        try await backend.save(state: state, webhookID: id)
        return Self.json(["webhook": WebhookResource.json(webhook, state: backend.state(id))])
    }

    func deleteWebhook(_ request: Request, _ context: AdminRequestContext, id: String) async throws -> Response {
        let body = try await JSONBody.read(request)
        try body.allow(["site_id", "token"])
        let site = try authorize(request, context: context, body: body, claimed: try body.string("site_id") ?? Self.siteQuery(request))
        _ = try ownedWebhook(id, site: site)
        try refuseIfManagedByFile(webhookID: id)
        try await backend.delete(webhookID: id)
        return Response(status: .noContent)
    }

    /// Sets the webhook's cursors to the first records at or after `since` (unix seconds) in
    /// every source partition; the instances owning them replay from there. One replay at a time
    /// per webhook (DESIGN.md §10): 429 while the last one is in flight
    /// (`AdminBackend.replayInFlight(webhookID:)`) or being set up by this instance.
    func replay(_ request: Request, _ context: AdminRequestContext, id: String) async throws -> Response {
        let body = try await JSONBody.read(request)
        try body.allow(["site_id", "token", "since"])
        let site = try authorize(request, context: context, body: body, claimed: try body.string("site_id"))
        _ = try ownedWebhook(id, site: site)
        let since = try body.require("since", body.number)
        guard since >= 0, since <= 253_402_300_799 else { throw AdminError.badRequest("since", "must be a unix time in seconds") }
        if backend.state(id).status == .dead { throw AdminError.gone }
        guard guards.beginReplay(id) else { throw AdminError.replayInFlight }
        defer { guards.endReplay(id) }
        if backend.replayInFlight(webhookID: id) { throw AdminError.replayInFlight }
        let offsets = try await backend.replay(webhookID: id, atOrAfter: Int64(since * 1000))
        logger.info("webhook replay", metadata: ["webhook": "\(id)", "since": "\(since)"])
        let cursors = Dictionary(uniqueKeysWithValues: offsets.map { ("\($0.key.topic)/\($0.key.partition)", $0.value) })
        return Self.json(["webhook_id": id, "cursors": cursors], status: .accepted)
    }

    func validTopics(_ fields: JSONBody, site: Site, required: Bool) throws -> [String]? {
        guard let topics = required ? try fields.require("topics", fields.strings) : try fields.strings("topics") else { return nil }
        if topics.isEmpty { throw AdminError.badRequest(fields.name("topics"), "at least one topic") }
        let router = backend.router
        for (index, topic) in topics.enumerated() where router.topic(named: topic, site: site.id) == nil {
            throw AdminError.badRequest("\(fields.name("topics"))[\(index)]", "unknown topic \(topic) (create it with POST /webhook_topics)")
        }
        return topics
    }

    /// `headers: {"X-Env": "prod"}`, each judged by `WebhookHeader.problem`; nil when not given.
    static func headers(_ fields: JSONBody) throws -> [WebhookHeader]? {
        guard fields.has("headers") else { return fields.fields["headers"] is NSNull ? [] : nil }
        guard let given = fields.fields["headers"] as? [String: Any] else { throw AdminError.badRequest(fields.name("headers"), "expected an object") }
        guard given.count <= WebhookHeader.maxCount else { throw AdminError.badRequest(fields.name("headers"), "at most \(WebhookHeader.maxCount) headers") }
        return try given.keys.sorted().map { name in
            guard let value = given[name] as? String else { throw AdminError.badRequest("\(fields.name("headers")).\(name)", "expected a string") }
            let header = WebhookHeader(name: name, value: value)
            if let problem = header.problem { throw AdminError.badRequest("\(fields.name("headers")).\(name)", problem) }
            return header
        }
    }

    /// `auth: {"type": "bearer", "token": …}`, `{"type": "basic", "username": …, "password": …}` or
    /// `{"type": "oauth2", "token_url": …, "client_id": …, "client_secret": …, "scope": …}`.
    static func auth(_ fields: JSONBody) throws -> WebhookAuth? {
        guard let auth = try fields.object("auth") else { return nil }
        try auth.allow(["type", "token", "username", "password", "token_url", "client_id", "client_secret", "scope"])
        var record = AuthRecord(type: try auth.require("type", auth.string))
        (record.token, record.username, record.password) = (try auth.string("token"), try auth.string("username"), try auth.string("password"))
        (record.tokenURL, record.clientID, record.clientSecret, record.scope) = (
            try auth.string("token_url"), try auth.string("client_id"), try auth.string("client_secret"), try auth.string("scope")
        )
        switch record.validated() {
        case .success(let valid): return valid
        case .failure(let error): throw AdminError.invalid(error, under: auth.path)
        }
    }

    /// `tls: {"ca": PEM, "client_certificate": PEM, "client_key": PEM}`: the PEM texts themselves
    /// (a tenant cannot name files on the bridge's host).
    static func tls(_ fields: JSONBody) throws -> WebhookTLS? {
        guard let given = try fields.object("tls") else { return nil }
        try given.allow(["ca", "client_certificate", "client_key"])
        let tls = TLSRecord(ca: try given.string("ca"), clientCertificate: try given.string("client_certificate"), clientKey: try given.string("client_key")).tls
        if let problem = tls.configurationProblem { throw AdminError.invalid(problem, under: given.path) }
        return tls
    }

    /// `filter`, as `WebhookFilter` reads it; a 400 names the path within it.
    static func filter(_ fields: JSONBody) throws -> WebhookFilter? {
        guard fields.has("filter") else { return nil }
        guard let object = fields.fields["filter"] as? [String: Any], let data = try? JSONSerialization.data(withJSONObject: object) else {
            throw AdminError.badRequest(fields.name("filter"), "expected an object")
        }
        do { return try JSONDecoder().decode(WebhookFilter.self, from: data) } catch let error as DecodingError {
            let (path, problem) = DecodingErrorText.describe(error)
            throw AdminError.badRequest(path.isEmpty ? fields.name("filter") : "\(fields.name("filter")).\(path)", problem)
        }
    }

    /// The options given, read as they are: their limits are `WebhookOptions.validate()`'s.
    static func options(_ fields: JSONBody) throws -> OptionsRecord {
        guard let options = try fields.object("options") else { return OptionsRecord() }
        try options.allow(["batching", "signature", "max_batch_size", "batch_linger", "max_pending", "format", "rate_limit", "adaptive"])
        var record = OptionsRecord()
        record.batching = try options.bool("batching")
        record.format = try options.oneOf("format", BodyFormat.self)
        record.signature = try options.oneOf("signature", SignatureScheme.self)
        record.maxBatchSize = try options.int("max_batch_size")
        record.batchLinger = try options.number("batch_linger")
        record.maxPending = try options.int("max_pending")
        record.rateLimit = try options.number("rate_limit")
        // `"rate_limit": null` takes a webhook's rate limit away (a missing key keeps it).
        record.removesRateLimit = options.fields["rate_limit"] is NSNull
        record.adaptive = try options.bool("adaptive")
        return record
    }

    /// A hash key given to the API, or a 400 naming the field (`webhook.hash_key`).
    static func validate(_ key: HashKey, fields: JSONBody) throws {
        do throws(SettingsError) { try key.validate() } catch { throw AdminError.invalid(error, under: fields.path) }
    }

    /// Webhook options as they would be stored, or a 400 naming the field (`webhook.options.max_batch_size`).
    static func validated(_ options: WebhookOptions, fields: JSONBody) throws -> WebhookOptions {
        do throws(SettingsError) { try options.validate() } catch { throw AdminError.invalid(error, under: fields.path) }
        return options
    }

    // MARK: - Topics and site configuration

    func createTopic(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let body = try await JSONBody.read(request)
        try body.allow(["site_id", "token", "webhook_topic"])
        let site = try authorize(request, context: context, body: body, claimed: try body.string("site_id"))
        let fields = try body.require("webhook_topic", body.object)
        try fields.allow(["topic", "ordered"])
        let name = try fields.require("topic", fields.string)
        guard name.count <= 200, name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
            throw AdminError.badRequest("webhook_topic.topic", "letters, digits, '_', '-' and '.' only, at most 200")
        }
        if WebhookTopic.standard.contains(where: { $0.name == name }) { throw AdminError.conflict("\(name) is a standard topic") }
        let topic = WebhookTopic(name: name, ordered: try fields.bool("ordered") ?? true)
        if backend.isManagedByFile(.topic(site: site.id, name: name)) {
            throw AdminError.managedByConfig("topic \(name)", instead: "custom_topics of site \(site.id)")
        }
        // Posting an existing topic again changes it; only a new one counts against the quota.
        let existing = backend.customTopics(site: site.id)
        if !existing.contains(where: { $0.name == name }),
            let refusal = backend.quotas.refusal(adding: .customTopics, to: existing.count, site: site.id)
        {
            throw AdminError.quotaExceeded(refusal)
        }
        try await backend.save(topic: topic, site: site.id)
        return Self.json(["webhook_topic": ["topic": topic.name, "ordered": topic.ordered, "custom": true]], status: .created)
    }

    func listTopics(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let site = try authorize(request, context: context, body: nil, claimed: Self.siteQuery(request))
        let standard = WebhookTopic.standard.map { ["topic": $0.name, "ordered": $0.ordered, "custom": false] as [String: Any] }
        let custom = backend.customTopics(site: site.id).map { ["topic": $0.name, "ordered": $0.ordered, "custom": true] as [String: Any] }
        return Self.json(["webhook_topics": standard + custom])
    }

    func showConfiguration(_ request: Request, _ context: AdminRequestContext, site id: String) async throws -> Response {
        let site = try authorize(request, context: context, body: nil, claimed: id)
        return try Self.json(["configuration": Self.jsonObject(SiteConfiguration(site))])
    }

    func replaceConfiguration(_ request: Request, _ context: AdminRequestContext, site id: String) async throws -> Response {
        let body = try await JSONBody.read(request)
        let site = try authorize(request, context: context, body: body, claimed: id)
        if backend.isManagedByFile(.siteConfiguration(site.id)) {
            throw AdminError.managedByConfig("the configuration of site \(site.id)", instead: "its entry under sites (id: \(site.id))")
        }
        var fields = body.fields
        fields["site_id"] = nil
        fields["token"] = nil
        let configurationFields = (fields["configuration"] as? [String: Any]) ?? fields
        let allowed = Set(SiteConfiguration.CodingKeys.allCases.map(\.rawValue))
        if let unknown = configurationFields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw AdminError.badRequest(unknown, "unknown field (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        let configuration: SiteConfiguration
        do {
            configuration = try JSONDecoder().decode(SiteConfiguration.self, from: JSONSerialization.data(withJSONObject: configurationFields))
        } catch let error as DecodingError {
            throw AdminError.badRequest(DecodingErrorText.describe(error).path, DecodingErrorText.describe(error).problem)
        }
        // Validated once merged with the stored settings: `retry_intervals` given alone must still
        // cover the stored `retries_until_failure`.
        let candidate = configuration.applied(to: site)
        do throws(SettingsError) { try candidate.validate() } catch { throw AdminError.invalid(error, under: "") }
        let merged = SiteConfiguration(candidate)
        try await backend.save(configuration: merged, site: site.id)
        return try Self.json(["configuration": Self.jsonObject(merged)])
    }

    // MARK: - Responses

    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func jsonObject<T: Encodable>(_ value: T) throws -> Any {
        try JSONSerialization.jsonObject(with: ControlRecord.encoder.encode(value))
    }
}
