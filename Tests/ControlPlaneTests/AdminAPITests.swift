import Foundation
import Hummingbird
import HummingbirdTesting
import Kafka
import Logging
import Testing
import WebhookDomain
import Yams

@testable import ControlPlane
@testable import Delivery

@Suite("Admin API")
struct AdminAPITests {
    /// The sites' tokens: at least 16 characters and unique (the guide's bodies say `"token"`).
    static let token = "MySiteID-token-0123"
    static let underscoreToken = "My_Site_ID-token-0123"
    static let otherToken = "other-site-token-0123"
    static let sites = [Site(id: "MySiteID", token: token), Site(id: "My_Site_ID", token: underscoreToken), Site(id: "other", token: otherToken)]

    /// The API on its own control topic, tested through the router.
    static func withAPI(
        sourceTopics: [String] = [], quotas: Quotas = Quotas(), isReady: @escaping @Sendable () -> Bool = { true },
        _ body: @Sendable (TestClientProtocol, ControlCatalog) async throws -> Void
    ) async throws {
        let topic = try ControlTopicTests.topic()
        try await ControlTopicTests.withView(topic) { view in
            let catalog = ControlCatalog(view: view, configSites: Self.sites, routes: [], extraTopics: [])
            let backend = TestAdminBackend(catalog: catalog, sourceTopics: sourceTopics, quotas: quotas, readiness: isReady, metrics: "# metrics\n")
            let api = AdminAPI(backend: backend, logger: ControlTopicTests.logger)
            try await Application(router: api.router()).test(.router) { client in try await body(client, catalog) }
        }
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    static func error(_ response: TestResponse) throws -> (code: String, message: String) {
        let error = try #require(try json(response)["error"] as? [String: String])
        return (error["code"] ?? "", error["message"] ?? "")
    }

    static func send(_ client: TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, _ body: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }

    // The OMS guide's own request bodies, with their `//` comments removed.
    static let standardTopicsBody = """
        {
        "site_id": "MySiteID",
        "token":"\(token)",
        "webhook": {
        "hash_key": "personnal_hash_key",
        "http_method": "POST",
        "status": "enabled",
        "topics": [
        "order_state_changed",
        "parcel_state_changed",
        "line_item_group_state_changed"
        ],
        "url": "https://myWebhookURL"
        }
        }
        """
    static let customTopicBody = """
        {
        "site_id": "My_Site_ID",
        "token":"\(underscoreToken)",
        "webhook_topic": {
        "topic": "email_sent_to_client_topic",
        "ordered": true
        }
        }
        """
    static let customWebhookBody = """
        {
        "site_id": "MySiteID",
        "token":"\(token)",
        "webhook": {
        "hash_key": "personnal_hash_key",
        "http_method": "POST",
        "status": "enabled",
        "topics": [
        "email_sent_to_client_topic"
        ],
        "url": "https://myWebhookURL"
        }
        }
        """
    static let batchingBody = """
        {
        "options": {
        "batching": true
        }
        }
        """

    @Test("the guide's request bodies work as they are")
    func referenceBodies() async throws {
        try await Self.withAPI { client, catalog in
            let created = try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody)
            #expect(created.status == .created)
            let webhook = try #require(try Self.json(created)["webhook"] as? [String: Any])
            let id = try #require(webhook["id"] as? String)
            #expect(webhook["topics"] as? [String] == ["order_state_changed", "parcel_state_changed", "line_item_group_state_changed"])
            #expect(try Self.json(created)["hash_key"] == nil)
            #expect(catalog.webhook(id)?.hashKeys == [HashKey("personnal_hash_key")])

            #expect(try await Self.send(client, .post, "/webhook_topics", Self.customTopicBody).status == .created)
            // The guide creates the topic for My_Site_ID and the webhook for MySiteID: a topic
            // belongs to its site, so the second site cannot use it until it makes its own.
            let elsewhere = try await Self.send(client, .post, "/webhooks", Self.customWebhookBody)
            #expect(elsewhere.status == .badRequest)
            #expect(try Self.error(elsewhere).message.hasPrefix("webhook.topics[0]: unknown topic email_sent_to_client_topic"))
            let sameSite = Self.customTopicBody.replacingOccurrences(of: "My_Site_ID", with: "MySiteID").replacingOccurrences(of: Self.underscoreToken, with: Self.token)
            #expect(try await Self.send(client, .post, "/webhook_topics", sameSite).status == .created)
            #expect(try await Self.send(client, .post, "/webhooks", Self.customWebhookBody).status == .created)

            // Batching changes only while paused or disabled.
            let refused = try await Self.send(client, .patch, "/webhooks/\(id)", token: Self.token, Self.batchingBody)
            #expect(refused.status == .conflict)
            #expect(try await Self.send(client, .patch, "/webhooks/\(id)/status", token: Self.token, #"{"status":"paused"}"#).status == .ok)
            let patched = try await Self.send(client, .patch, "/webhooks/\(id)", token: Self.token, Self.batchingBody)
            #expect(patched.status == .ok)
            #expect(((try Self.json(patched)["webhook"] as? [String: Any])?["options"] as? [String: Any])?["batching"] as? Bool == true)
        }
    }

    @Test("a generated hash key is returned once, at creation; GET never shows keys")
    func generatedKey() async throws {
        try await Self.withAPI { client, catalog in
            let body = #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"http_method":"PUT","topics":["order_state_changed"],"url":"https://erp.example.com/h"}}"#
            let created = try await Self.send(client, .post, "/webhooks", body)
            #expect(created.status == .created)
            let key = try #require(try Self.json(created)["hash_key"] as? String)
            #expect(key.hasPrefix("whsec_") && HashKey(key).bytes.count == 32)
            let id = try #require((try Self.json(created)["webhook"] as? [String: Any])?["id"] as? String)
            let shown = try await Self.send(client, .get, "/webhooks/\(id)", token: Self.token)
            #expect(shown.status == .ok)
            #expect(!String(buffer: shown.body).contains(key.dropFirst(6)))
            #expect(try Self.json(shown)["hash_key"] == nil)
            let listed = try await Self.send(client, .get, "/webhooks?site_id=MySiteID", token: Self.token)
            #expect(!String(buffer: listed.body).contains(key.dropFirst(6)))
            #expect((try Self.json(listed)["webhooks"] as? [[String: Any]])?.count == 1)
            #expect(catalog.webhook(id)?.hashKeys.first?.text == key)
        }
    }

    @Test("tokens and sites: 401 without a token or with one that matches no site, 403 with another site's, 404 for another site's webhook")
    func authorization() async throws {
        try await Self.withAPI { client, _ in
            let created = try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody)
            let id = try #require((try Self.json(created)["webhook"] as? [String: Any])?["id"] as? String)
            #expect(try await Self.send(client, .get, "/webhooks/\(id)").status == .unauthorized)
            #expect(try await Self.send(client, .get, "/webhooks?site_id=MySiteID", token: Self.otherToken).status == .forbidden)
            #expect(try await Self.send(client, .get, "/webhooks?site_id=MySiteID", token: "wrong-token-0123456789").status == .unauthorized)
            #expect(try await Self.send(client, .get, "/webhooks/\(id)", token: Self.otherToken).status == .notFound)
            #expect(try await Self.send(client, .patch, "/webhooks/\(id)/status", token: Self.otherToken, #"{"status":"paused"}"#).status == .notFound)
            #expect(try await Self.send(client, .delete, "/webhooks/\(id)", token: Self.otherToken).status == .notFound)
            let theirs = try await Self.send(client, .get, "/webhooks?site_id=other", token: Self.otherToken)
            #expect((try Self.json(theirs)["webhooks"] as? [Any])?.isEmpty == true)
            let unknown = try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody.replacingOccurrences(of: Self.token, with: "nope"))
            #expect(unknown.status == .unauthorized)
            #expect(try Self.error(unknown).message == "the token matches no site")
            // A valid token, another site named: 403, in the body as in the query.
            let claimed = try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody.replacingOccurrences(of: Self.token, with: Self.otherToken))
            #expect(claimed.status == .forbidden)
            #expect(try await Self.send(client, .put, "/sites/MySiteID/configuration", token: Self.otherToken, "{}").status == .forbidden)
            #expect(try await Self.send(client, .get, "/webhooks/\(id)", token: Self.token).status == .ok)
        }
    }

    @Test("status changes, rotation, deletion; a dead webhook answers 410")
    func lifecycle() async throws {
        try await Self.withAPI { client, catalog in
            let created = try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody)
            let id = try #require((try Self.json(created)["webhook"] as? [String: Any])?["id"] as? String)
            for status in ["paused", "disabled", "enabled"] {
                let response = try await Self.send(client, .patch, "/webhooks/\(id)/status", token: Self.token, #"{"status":"\#(status)"}"#)
                #expect((try Self.json(response)["webhook"] as? [String: Any])?["status"] as? String == status)
                #expect(catalog.state(id).status.rawValue == status)
            }
            let rotated = try await Self.send(client, .patch, "/webhooks/\(id)", token: Self.token, #"{"hash_key":"second-key-0123456789"}"#)
            #expect((try Self.json(rotated)["webhook"] as? [String: Any])?["hash_key_count"] as? Int == 2)
            #expect(catalog.webhook(id)?.hashKeys.map(\.text) == ["second-key-0123456789", "personnal_hash_key"])
            #expect(try await Self.send(client, .patch, "/webhooks/\(id)", token: Self.token, #"{"url":"http://127.0.0.1/x"}"#).status == .badRequest)
            let moved = try await Self.send(client, .patch, "/webhooks/\(id)", token: Self.token, #"{"webhook":{"url":"https://new.example.com/h","topics":["parcel_state_changed"],"http_method":"XGET"}}"#)
            #expect(moved.status == .ok)
            #expect(catalog.webhook(id)?.url == "https://new.example.com/h" && catalog.webhook(id)?.method == .xget)

            var dead = catalog.state(id)
            dead.status = .dead
            try await catalog.save(state: dead, webhookID: id)
            let gone = try await Self.send(client, .patch, "/webhooks/\(id)/status", token: Self.token, #"{"status":"enabled"}"#)
            #expect(gone.status == .gone)
            #expect(try Self.error(gone).code == "gone")
            #expect(try await Self.send(client, .delete, "/webhooks/\(id)", token: Self.token).status == .noContent)
            #expect(try await Self.send(client, .get, "/webhooks/\(id)", token: Self.token).status == .notFound)
            #expect(catalog.webhook(id) == nil)
        }
    }

    @Test(
        "bad requests get a 4xx naming the field, never a 500",
        arguments: [
            ("/webhooks", "{not json", HTTPResponse.Status.badRequest, "the body is not valid JSON"),
            ("/webhooks", "[1,2]", .badRequest, "the body must be a JSON object"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)"}"#, .badRequest, "webhook: required"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":5}}"#, .badRequest, "webhook.url: expected a string"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"https://a.example","http_method":"FETCH","topics":["order_state_changed"]}}"#, .badRequest, "webhook.http_method: expected one of"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"https://a.example","http_method":"POST","topics":[]}}"#, .badRequest, "webhook.topics: at least one topic"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"https://a.example","http_method":"POST","topics":["order_state_changed"],"options":{"max_batch_size":31}}}"#, .badRequest, "webhook.options.max_batch_size: must be between 1 and 30, not 31"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"https://a.example","http_method":"POST","topics":["order_state_changed"],"options":{"batch_linger":61}}}"#, .badRequest, "webhook.options.batch_linger: must be from 0 to 60 seconds"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"https://a.example","http_method":"POST","topics":["order_state_changed"],"options":{"max_pending":1.5}}}"#, .badRequest, "webhook.options.max_pending: expected a whole number"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"https://a.example","http_method":"POST","topics":["order_state_changed"],"options":{"batching":"yes"}}}"#, .badRequest, "webhook.options.batching: expected true or false"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"https://a.example","http_method":"POST","topics":["order_state_changed"],"options":{"rate_limit":0}}}"#, .badRequest, "webhook.options.rate_limit: must be more than 0 and at most 10000 requests a second, not 0.0"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"https://a.example","http_method":"POST","topics":["order_state_changed"],"options":{"rate_limit":"10/s"}}}"#, .badRequest, "webhook.options.rate_limit: expected a number"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"https://a.example","http_method":"POST","topics":["order_state_changed"],"options":{"adaptive":1}}}"#, .badRequest, "webhook.options.adaptive: expected true or false"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"http://169.254.169.254/","http_method":"POST","topics":["order_state_changed"]}}"#, .badRequest, "webhook.url: destination 169.254.169.254"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","surprise":1}"#, .badRequest, "surprise: unknown field"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"https://a.example","http_method":"POST","topics":["order_state_changed"],"hash_key":"fifteen-chars.."}}"#, .badRequest, "webhook.hash_key: must be at least 16 characters"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"https://a.example","http_method":"POST","topics":["order_state_changed"],"hash_key":"whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}}"#, .badRequest, "webhook.hash_key: a whsec_ key must decode to at least 24 bytes"),
            ("/webhooks", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook":{"url":"https://a.example","http_method":"POST","topics":["order_state_changed"],"hash_key":"whsec_not base64 at all!"}}"#, .badRequest, "webhook.hash_key: a whsec_ key must be whsec_ followed by base64"),
            ("/webhook_topics", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook_topic":{"topic":"order_state_changed"}}"#, .conflict, "order_state_changed is a standard topic"),
            ("/webhook_topics", #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","webhook_topic":{"topic":"bad topic"}}"#, .badRequest, "webhook_topic.topic: letters"),
        ])
    func badRequests(uri: String, body: String, status: HTTPResponse.Status, message: String) async throws {
        try await Self.withAPI { client, _ in
            let response = try await Self.send(client, .post, uri, body)
            #expect(response.status == status)
            #expect(try Self.error(response).message.hasPrefix(message), "\(String(buffer: response.body))")
        }
    }

    @Test("a huge body is refused with 413")
    func hugeBody() async throws {
        try await Self.withAPI { client, _ in
            let huge = #"{"site_id":"MySiteID","token":"\#(AdminAPITests.token)","x":""# + String(repeating: "a", count: 200_000) + #""}"#
            let response = try await Self.send(client, .post, "/webhooks", huge)
            #expect(response.status == .contentTooLarge)
        }
    }

    @Test("custom topics and site configuration")
    func topicsAndConfiguration() async throws {
        try await Self.withAPI { client, catalog in
            #expect(try await Self.send(client, .post, "/webhook_topics", Self.customTopicBody).status == .created)
            let topics = try await Self.send(client, .get, "/webhook_topics?site_id=My_Site_ID", token: Self.underscoreToken)
            let list = try #require(try Self.json(topics)["webhook_topics"] as? [[String: Any]])
            #expect(list.count == WebhookTopic.standard.count + 1)
            #expect(list.contains { $0["topic"] as? String == "email_sent_to_client_topic" && $0["custom"] as? Bool == true })
            #expect(catalog.site("MySiteID")?.customTopics.isEmpty == true)

            let shown = try await Self.send(client, .get, "/sites/MySiteID/configuration", token: Self.token)
            #expect((try Self.json(shown)["configuration"] as? [String: Any])?["retry_intervals"] as? [Double] == [30, 60, 120, 240, 480, 840])
            let changed = try await Self.send(client, .put, "/sites/MySiteID/configuration", token: Self.token,
                #"{"retry_intervals":[1,2,3],"retries_until_failure":2,"test_mobiles":["+33 6 12 34 56 78"],"on_failure":{"contact_emails":["ops@example.com"]},"notifications":{"email_sent_to_client":{"media":{"webhook_topic":["email_sent_to_client_topic"]},"time_type":"duration","time_value":"0s"}}}"#)
            #expect(changed.status == .ok)
            #expect(catalog.site("MySiteID")?.retryIntervals == [1, 2, 3].map { .seconds($0) })
            #expect(catalog.site("MySiteID")?.onFailure.contactEmails == ["ops@example.com"])
            #expect(catalog.site("MySiteID")?.testMobiles == ["+33 6 12 34 56 78"])
            #expect(catalog.site("MySiteID")?.onFailure.emailNotificationName == "webhook_failure")
            #expect(catalog.site("MySiteID")?.notifications["email_sent_to_client"]?.webhookTopics == ["email_sent_to_client_topic"])
            #expect(catalog.site("MySiteID")?.token == Self.token)

            let wrongType = try await Self.send(client, .put, "/sites/MySiteID/configuration", token: Self.token, #"{"retry_intervals":[1,"two"]}"#)
            #expect(wrongType.status == .badRequest)
            #expect(try Self.error(wrongType).message.hasPrefix("retry_intervals[1]: expected a number"))
            let unknown = try await Self.send(client, .put, "/sites/MySiteID/configuration", token: Self.token, #"{"retry_interval":[1]}"#)
            #expect(try Self.error(unknown).message.hasPrefix("retry_interval: unknown field"))
            let tooMany = try await Self.send(client, .put, "/sites/MySiteID/configuration", token: Self.token, #"{"retries_until_failure":9}"#)
            #expect(try Self.error(tooMany).message.hasPrefix("retries_until_failure: must be between 1"))
            #expect(try await Self.send(client, .get, "/sites/other/configuration", token: Self.token).status == .forbidden)
        }
    }

    @Test("PUT /sites/{id}/configuration is validated merged with the stored settings")
    func configurationValidatedAfterMerge() async throws {
        try await Self.withAPI { client, catalog in
            // Stored: six intervals, retries_until_failure 3. One interval alone would leave 3 retries for 1 interval.
            let alone = try await Self.send(client, .put, "/sites/MySiteID/configuration", token: Self.token, #"{"retry_intervals":[30]}"#)
            #expect(alone.status == .badRequest)
            let message = try Self.error(alone).message
            #expect(message.hasPrefix("retries_until_failure: ") && message.contains("retry_intervals (1), not 3"), "\(message)")
            #expect(catalog.site("MySiteID")?.retryIntervals.count == 6)

            let both = try await Self.send(client, .put, "/sites/MySiteID/configuration", token: Self.token, #"{"retry_intervals":[30],"retries_until_failure":1}"#)
            #expect(both.status == .ok)
            #expect(catalog.site("MySiteID")?.retryIntervals == [.seconds(30)])

            // A count checked against the stored intervals (eight), not against the default six.
            let eight = #"{"retry_intervals":[1,2,3,4,5,6,7,8],"retries_until_failure":1}"#
            #expect(try await Self.send(client, .put, "/sites/MySiteID/configuration", token: Self.token, eight).status == .ok)
            let seven = try await Self.send(client, .put, "/sites/MySiteID/configuration", token: Self.token, #"{"retries_until_failure":7}"#)
            #expect(seven.status == .ok)
            #expect(catalog.site("MySiteID")?.retriesUntilFailure == 7)
            let nine = try await Self.send(client, .put, "/sites/MySiteID/configuration", token: Self.token, #"{"retries_until_failure":9}"#)
            #expect(try Self.error(nine).message == "retries_until_failure: must be between 1 and the number of retry_intervals (8), not 9")
        }
    }

    @Test(
        "PUT /sites/{id}/configuration and PATCH /webhooks/{id}: a setting out of its limits is a 400 naming the field",
        arguments: [
            (#"{"retry_intervals":[1,2,0],"retries_until_failure":1}"#, "retry_intervals[2]: must be from 0.001 to 3153600000 seconds (100 years)"),
            (#"{"retry_intervals":[1e12],"retries_until_failure":1}"#, "retry_intervals[0]: must be from 0.001"),
            (#"{"ack_timeout":61}"#, "ack_timeout: must be from 0.001 to 60 seconds"),
            (#"{"message_retention":-1}"#, "message_retention: must be from 0.001"),
            (#"{"max_in_flight":65}"#, "max_in_flight: must be between 1 and 64, not 65"),
            (#"{"ack_statuses":[]}"#, "ack_statuses: must be HTTP statuses (100-599), at least one"),
            (#"{"notifications":{"n":{"media":{"webhook_topic":[]}}}}"#, "notifications.n.media.webhook_topic: must name at least one topic"),
            (#"{"notifications":{"n":{"media":{"webhook_topic":["t"]},"time_type":"cron"}}}"#, "notifications.n.time_type: only duration is supported"),
            (#"{"notifications":{"n":{"media":{"webhook_topic":["t"]},"time_value":"soon"}}}"#, "notifications.n.time_value: expected a duration"),
            (#"{"on_failure":{"contact_emails":["ops@example.com\r\nRCPT TO:<spy@evil.example>"]}}"#, "on_failure.contact_emails[0]: not an email address"),
            (#"{"test_emails":["a@b>"]}"#, "test_emails[0]: not an email address"),
            (#"{"test_mobiles":["+33 6 12","call me"]}"#, "test_mobiles[1]: not a mobile number"),
            (#"{"on_deactivation":{"contact_mobiles":["+1\n555"]}}"#, "on_deactivation.contact_mobiles[0]: not a mobile number"),
        ])
    func configurationLimits(body: String, message: String) async throws {
        try await Self.withAPI { client, catalog in
            let response = try await Self.send(client, .put, "/sites/MySiteID/configuration", token: Self.token, body)
            #expect(response.status == .badRequest)
            #expect(try Self.error(response).message.hasPrefix(message), "\(String(buffer: response.body))")
            #expect(catalog.site("MySiteID") == Self.sites[0])
        }
    }

    @Test("PATCH /webhooks/{id} with options out of their limits is a 400 naming the field, bare or inside `webhook`")
    func patchOptionsLimits() async throws {
        try await Self.withAPI { client, catalog in
            let created = try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody)
            let id = try #require((try Self.json(created)["webhook"] as? [String: Any])?["id"] as? String)
            let bare = try await Self.send(client, .patch, "/webhooks/\(id)", token: Self.token, #"{"options":{"max_pending":0}}"#)
            #expect(try Self.error(bare).message == "options.max_pending: must be between 1 and 10000, not 0")
            let wrapped = try await Self.send(client, .patch, "/webhooks/\(id)", token: Self.token, #"{"webhook":{"options":{"max_batch_size":40}}}"#)
            #expect(try Self.error(wrapped).message == "webhook.options.max_batch_size: must be between 1 and 30, not 40")
            #expect(catalog.webhook(id)?.options == WebhookOptions())
        }
    }

    @Test("options.rate_limit and options.adaptive: set at creation, shown, changed by PATCH; rate_limit null takes it away")
    func paceOptions() async throws {
        try await Self.withAPI { client, catalog in
            let body = Self.standardTopicsBody.replacingOccurrences(of: #""topics": ["#, with: #""options": {"rate_limit": 2.5, "adaptive": true}, "topics": ["#)
            let created = try await Self.send(client, .post, "/webhooks", body)
            let webhook = try #require(try Self.json(created)["webhook"] as? [String: Any])
            let id = try #require(webhook["id"] as? String)
            let shown = try #require(webhook["options"] as? [String: Any])
            #expect(shown["rate_limit"] as? Double == 2.5 && shown["adaptive"] as? Bool == true)
            #expect(catalog.webhook(id)?.options.rateLimit == 2.5 && catalog.webhook(id)?.options.adaptive == true)
            // A PATCH without the key keeps it; null takes it away.
            #expect(try await Self.send(client, .patch, "/webhooks/\(id)", token: Self.token, #"{"options":{"adaptive":false}}"#).status == .ok)
            #expect(catalog.webhook(id)?.options.rateLimit == 2.5 && catalog.webhook(id)?.options.adaptive == false)
            #expect(try await Self.send(client, .patch, "/webhooks/\(id)", token: Self.token, #"{"options":{"rate_limit":null}}"#).status == .ok)
            #expect(catalog.webhook(id)?.options.rateLimit == nil)
            let fetched = try await Self.send(client, .get, "/webhooks/\(id)", token: Self.token)
            let options = try #require((try Self.json(fetched)["webhook"] as? [String: Any])?["options"] as? [String: Any])
            #expect(options["rate_limit"] is NSNull && options["adaptive"] as? Bool == false)
        }
    }

    @Test("replay sets the cursors at the first record at or after `since` (by bisection on the embedded broker)")
    func replay() async throws {
        let source = "replay-\(UUID().uuidString.prefix(8))"
        try ControlTopicTests.cluster.createTopic(source, partitions: 1)
        let producer = try KafkaProducer(configuration: .init(kafka: ControlTopicTests.kafka), logger: ControlTopicTests.logger)
        let base: Int64 = 1_700_000_000_000
        for i in 0..<10 {
            try await producer.send(KafkaOutgoingRecord(topic: source, key: nil, value: Array("{}".utf8), timestampMilliseconds: base + Int64(i) * 1_000))
        }
        await producer.close()
        try await Self.withAPI(sourceTopics: [source]) { client, catalog in
            let created = try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody)
            let id = try #require((try Self.json(created)["webhook"] as? [String: Any])?["id"] as? String)
            let response = try await Self.send(client, .post, "/webhooks/\(id)/replay", token: Self.token, #"{"since": \#(Double(base) / 1000 + 6.5)}"#)
            #expect(response.status == .accepted)
            #expect((try Self.json(response)["cursors"] as? [String: Int])?["\(source)/0"] == 7)
            #expect(catalog.store.cursors(webhookID: id) == [SourcePartition(source, 0): 7])
            let partition = SourcePartition(source, 0)
            #expect(catalog.view.record(.cursor(webhookID: id, partition, nil)) == .cursor(webhookID: id, partition, .init(offset: 7, replay: true)))
            #expect(try await Self.send(client, .post, "/webhooks/\(id)/replay", token: Self.token, #"{"since":"yesterday"}"#).status == .badRequest)

            // One replay in flight: the webhook is enabled and its cursor is still stored (no
            // lane has caught up and deleted it here).
            let second = try await Self.send(client, .post, "/webhooks/\(id)/replay", token: Self.token, #"{"since":0}"#)
            #expect(second.status == .tooManyRequests)
            #expect(try Self.error(second).code == "replay_in_flight")
            #expect(catalog.store.cursors(webhookID: id) == [partition: 7])
            // The catch-up joined the live path and dropped the cursor: the next replay is taken.
            try await catalog.store.save(cursors: [partition: nil], webhookID: id)
            #expect(try await Self.send(client, .post, "/webhooks/\(id)/replay", token: Self.token, #"{"since":0}"#).status == .accepted)
            #expect(catalog.store.cursors(webhookID: id) == [partition: 0])
            // A paused webhook's cursors wait for it: a replay then only moves them.
            #expect(try await Self.send(client, .patch, "/webhooks/\(id)/status", token: Self.token, #"{"status":"paused"}"#).status == .ok)
            #expect(try await Self.send(client, .post, "/webhooks/\(id)/replay", token: Self.token, #"{"since":\#(Double(base) / 1000 + 3)}"#).status == .accepted)
            #expect(catalog.store.cursors(webhookID: id) == [partition: 3])
        }
    }

    @Test("a rotation's hash_key below the minimum is a 400 naming the field, bare or inside `webhook`; the keys stay")
    func shortRotation() async throws {
        try await Self.withAPI { client, catalog in
            let created = try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody)
            let id = try #require((try Self.json(created)["webhook"] as? [String: Any])?["id"] as? String)
            let bare = try await Self.send(client, .patch, "/webhooks/\(id)", token: Self.token, #"{"hash_key":"short"}"#)
            #expect(bare.status == .badRequest)
            #expect(try Self.error(bare).message.hasPrefix("hash_key: must be at least 16 characters"))
            let wrapped = try await Self.send(client, .patch, "/webhooks/\(id)", token: Self.token, #"{"webhook":{"hash_key":"whsec_c2hvcnQ="}}"#)
            #expect(try Self.error(wrapped).message == "webhook.hash_key: a whsec_ key must decode to at least 24 bytes")
            #expect(catalog.webhook(id)?.hashKeys == [HashKey("personnal_hash_key")])
            // 24 bytes in the whsec_ form are enough.
            let whsec = "whsec_" + Data(repeating: 7, count: 24).base64EncodedString()
            #expect(try await Self.send(client, .patch, "/webhooks/\(id)", token: Self.token, #"{"hash_key":"\#(whsec)"}"#).status == .ok)
            #expect(catalog.webhook(id)?.hashKeys.first == HashKey(whsec))
        }
    }

    @Test("tokens that match no site are limited per client: 10 answer 401, then every request needing a token answers 429 with Retry-After")
    func failedAuthenticationsLimited() async throws {
        try await Self.withAPI { client, _ in
            for attempt in 1...10 {
                let response = try await Self.send(client, .get, "/webhooks?site_id=MySiteID", token: "guess-\(attempt)-0123456789")
                #expect(response.status == .unauthorized, "attempt \(attempt)")
            }
            let refused = try await Self.send(client, .get, "/webhooks?site_id=MySiteID", token: "guess-11-0123456789")
            #expect(refused.status == .tooManyRequests)
            #expect(try Self.error(refused).code == "too_many_failed_authentications")
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...60).contains(retryAfter))
            // Not even the right token passes from this client until the window has passed...
            #expect(try await Self.send(client, .get, "/webhooks?site_id=MySiteID", token: Self.token).status == .tooManyRequests)
            #expect(try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody).status == .tooManyRequests)
            // ...while what needs no token still answers.
            #expect(try await Self.send(client, .get, "/health").status == .ok)
        }
    }

    @Test("a missing token and another site's token are not counted as failed authentications")
    func notGuesses() async throws {
        try await Self.withAPI { client, _ in
            for _ in 1...12 {
                let missing = try await Self.send(client, .get, "/webhooks?site_id=MySiteID")
                #expect(missing.status == .unauthorized)
                let theirs = try await Self.send(client, .get, "/webhooks?site_id=MySiteID", token: Self.otherToken)
                #expect(theirs.status == .forbidden)
            }
            let mine = try await Self.send(client, .get, "/webhooks?site_id=MySiteID", token: Self.token)
            #expect(mine.status == .ok)
        }
    }

    @Test("webhooks per site: past quotas.webhooks_per_site a creation answers 409 quota_exceeded; a deletion makes room; other sites are not counted")
    func webhookQuota() async throws {
        var quotas = Quotas()
        quotas.webhooksPerSite = 2
        try await Self.withAPI(quotas: quotas) { client, catalog in
            let first = try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody)
            let id = try #require((try Self.json(first)["webhook"] as? [String: Any])?["id"] as? String)
            #expect(try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody).status == .created)
            let third = try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody)
            #expect(third.status == .conflict)
            #expect(try Self.error(third).code == "quota_exceeded")
            #expect(try Self.error(third).message == "site MySiteID is at its quota of webhooks (quotas.webhooks_per_site: 2)")
            #expect(catalog.webhooks.count == 2)
            let elsewhere = Self.standardTopicsBody.replacingOccurrences(of: Self.token, with: Self.otherToken).replacingOccurrences(of: "MySiteID", with: "other")
            #expect(try await Self.send(client, .post, "/webhooks", elsewhere).status == .created)
            #expect(try await Self.send(client, .delete, "/webhooks/\(id)", token: Self.token).status == .noContent)
            #expect(try await Self.send(client, .post, "/webhooks", Self.standardTopicsBody).status == .created)
        }
    }

    @Test("custom topics per site: past quotas.custom_topics_per_site a new topic answers 409 quota_exceeded; posting an existing one again changes it")
    func topicQuota() async throws {
        var quotas = Quotas()
        quotas.customTopicsPerSite = 1
        try await Self.withAPI(quotas: quotas) { client, catalog in
            #expect(try await Self.send(client, .post, "/webhook_topics", Self.customTopicBody).status == .created)
            let second = try await Self.send(client, .post, "/webhook_topics", Self.customTopicBody.replacingOccurrences(of: "email_sent_to_client_topic", with: "another_topic"))
            #expect(second.status == .conflict)
            #expect(try Self.error(second).code == "quota_exceeded")
            #expect(try Self.error(second).message == "site My_Site_ID is at its quota of custom topics (quotas.custom_topics_per_site: 1)")
            let again = try await Self.send(client, .post, "/webhook_topics", Self.customTopicBody.replacingOccurrences(of: #""ordered": true"#, with: #""ordered": false"#))
            #expect(again.status == .created)
            #expect(catalog.customTopics(site: "My_Site_ID") == [WebhookTopic(name: "email_sent_to_client_topic", ordered: false)])
        }
    }

    /// The probes with the delivery engine's own `Readiness`; a running bridge's are tested in
    /// `AdminThroughBridgeTests.probes`.
    @Test("health, readiness as the engine says, metrics, and an OpenAPI document that lists exactly the router's routes")
    func documentAndProbes() async throws {
        let readiness = Readiness(grace: .seconds(6), onChange: { _ in })
        try await Self.withAPI(isReady: { readiness.isReady }) { client, _ in
            #expect(try await Self.send(client, .get, "/health").status == .ok)
            let notReady = try await Self.send(client, .get, "/ready")
            #expect(notReady.status == .serviceUnavailable)
            #expect(try Self.json(notReady)["ready"] as? Bool == false)
            readiness.update { $0.assignmentSettled() }
            let ready = try await Self.send(client, .get, "/ready")
            #expect(ready.status == .ok)
            #expect(try Self.json(ready)["ready"] as? Bool == true)
            readiness.update { $0.stop() }
            #expect(try await Self.send(client, .get, "/ready").status == .serviceUnavailable)
            #expect(try await Self.send(client, .get, "/health").status == .ok, "health does not depend on readiness")
            #expect(String(buffer: try await Self.send(client, .get, "/metrics").body) == "# metrics\n")
            let document = try await Self.send(client, .get, "/openapi.yaml")
            let yaml = try #require(try Yams.load(yaml: String(buffer: document.body)) as? [String: Any])
            #expect(yaml["openapi"] as? String == "3.0.3")
            let paths = try #require(yaml["paths"] as? [String: Any])
            var documented: Set<String> = []
            for (path, item) in paths {
                for method in ((item as? [String: Any]) ?? [:]).keys where method != "parameters" { documented.insert("\(method.uppercased()) \(path)") }
            }
            let unused = ControlCatalog(view: try ControlTopicView(topic: "unused", kafka: ControlTopicTests.kafka, logger: ControlTopicTests.logger), configSites: [], routes: [], extraTopics: [])
            let api = AdminAPI(backend: TestAdminBackend(catalog: unused), logger: ControlTopicTests.logger)
            let routed = Set(api.router().routes.map { "\($0.method) \($0.path.description.hasPrefix("/") ? "" : "/")\($0.path)" })
            #expect(routed.count == 17)
            #expect(documented == routed)
        }
    }
}

/// The admin API's backend in these tests: a catalog on the test's own control topic, private
/// destinations refused, readiness and metrics as the test says, no runtime.
struct TestAdminBackend: ControlCatalogAdminBackend {
    let catalog: ControlCatalog
    var sourceTopics: [String] = []
    var quotas = Quotas()
    var readiness: @Sendable () -> Bool = { true }
    var metrics = ""
    var starting = false
    var isStarting: Bool { starting }
    var kafka: KafkaConfig { ControlTopicTests.kafka }
    var logger: Logger { ControlTopicTests.logger }
    var destinationPolicy: DestinationPolicy { DestinationPolicy(allowPrivateDestinations: false) }
    var isReady: Bool { readiness() }
    func metricsText() -> String { metrics }
    func runtime() -> (webhooks: [WebhookRuntime], partitions: [PartitionLag]) { ([], []) }
    func explain(topic: String, partition: Int32, offset: Int64) async throws(ExplainError) -> RecordExplanation {
        throw .notFound("no delivery engine in these tests")
    }
}
