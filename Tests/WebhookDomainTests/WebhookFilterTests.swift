import Foundation
import Testing

@testable import WebhookDomain

@Suite("Webhook filters, headers and auth")
struct WebhookFilterTests {
    static func filter(_ json: String) throws -> WebhookFilter { try JSONDecoder().decode(WebhookFilter.self, from: Data(json.utf8)) }
    static let event = Array(#"{"new_state":"shipped","total":12,"ratio":0.5,"test":false,"order":{"site":"c404-eu"},"note":null}"#.utf8)

    @Test("each predicate, on strings, numbers, booleans and dotted paths; all, any and not", arguments: [
        (#"{"field":"new_state","eq":"shipped"}"#, true), (#"{"field":"new_state","eq":"packed"}"#, false),
        (#"{"field":"total","eq":12}"#, true), (#"{"field":"total","eq":"12"}"#, true), (#"{"field":"ratio","eq":0.5}"#, true),
        (#"{"field":"test","eq":false}"#, true), (#"{"field":"new_state","in":["packed","shipped"]}"#, true),
        (#"{"field":"order.site","prefix":"c404-"}"#, true), (#"{"field":"order.site","prefix":"c405"}"#, false),
        (#"{"field":"note","exists":true}"#, true), (#"{"field":"missing","exists":false}"#, true), (#"{"field":"note","eq":"null"}"#, false),
        (#"{"all":[{"field":"new_state","eq":"shipped"},{"field":"total","in":[1,12]}]}"#, true),
        (#"{"any":[{"field":"new_state","eq":"x"},{"not":{"field":"test","eq":true}}]}"#, true),
        (#"{"not":{"field":"new_state","eq":"shipped"}}"#, false),
    ])
    func predicates(json: String, matches: Bool) throws {
        #expect(try Self.filter(json).matches(Self.event) == matches)
        // The form written to the control topic reads back the same.
        let filter = try Self.filter(json)
        #expect(try JSONDecoder().decode(WebhookFilter.self, from: JSONEncoder().encode(filter)) == filter)
    }

    @Test("invalid filters are refused with the path and the problem", arguments: [
        (#"{"field":"a"}"#, "give exactly one of"), (#"{"field":"a","eq":1,"in":[1]}"#, "give exactly one of"),
        (#"{"eq":1}"#, "field"), (#"{"field":"a..b","eq":1}"#, "a dotted path"), (#"{"field":"a","in":[]}"#, "at least one value"),
        (#"{"all":[]}"#, "at least one filter"), (#"{"all":[{"field":"a","eq":{}}]}"#, "all"),
        (#"{"not":{"not":{"not":{"not":{"not":{"not":{"not":{"not":{"field":"a","eq":1}}}}}}}}}"#, "nested more than 8"),
    ])
    func invalid(json: String, expected: String) {
        do {
            _ = try Self.filter(json)
            Issue.record("accepted \(json)")
        } catch let error as DecodingError {
            let (path, problem) = DecodingErrorText.describe(error)
            #expect("\(path): \(problem)".contains(expected), "\(path): \(problem)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("headers: names are tokens, the bridge's own cannot be set, values have no control characters")
    func headers() {
        #expect(WebhookHeader(name: "X-Env", value: "prod").problem == nil)
        #expect(WebhookHeader(name: "X Env", value: "prod").problem?.contains("not a header name") == true)
        for reserved in ["Content-Type", "message_id", "X-Webhook-Signature", "webhook-signature", "Authorization", "Host", "traceparent"] {
            #expect(WebhookHeader(name: reserved, value: "x").problem?.contains("cannot be overridden") == true, "\(reserved)")
        }
        #expect(WebhookHeader(name: "X-A", value: "a\r\nX-Injected: 1").problem?.contains("control characters") == true)
        #expect(WebhookHeader(name: "X-A", value: String(repeating: "a", count: 4_097)).problem != nil)
    }

    @Test("auth: the header it sends; its description never holds the secret")
    func auth() {
        #expect(WebhookAuth.bearer(token: "abc").staticHeader == "Bearer abc")
        #expect(WebhookAuth.basic(username: "u", password: "p").staticHeader == "Basic dTpw")
        #expect("\(WebhookAuth.basic(username: "u", password: "secret-pw"))" == "auth(basic)")
        #expect(WebhookAuth.basic(username: "a:b", password: "p").problem != nil)
        #expect(WebhookAuth.bearer(token: "with space").problem != nil)
    }

    @Test("oauth2: its token request (HTTP Basic of the form-encoded id and secret, the grant and scope), its problems, no secret in words")
    func oauth2() {
        let client = OAuth2Client(tokenURL: "https://auth.example/token", clientID: "bridge id", clientSecret: "s3cr:t&", scope: "orders.write parcels")
        let auth = WebhookAuth.oauth2(client)
        #expect(auth.staticHeader == nil, "its token is asked for at delivery")
        #expect(auth.problem == nil)
        #expect(client.basicAuthorization == "Basic " + Data("bridge%20id:s3cr%3At%26".utf8).base64EncodedString())
        #expect(client.requestBody == "grant_type=client_credentials&scope=orders.write%20parcels")
        #expect(!"\(auth)".contains("s3cr") && !"\(client)".contains("s3cr"))
        var bad = client
        bad.tokenURL = "ftp://auth.example/token"
        #expect(WebhookAuth.oauth2(bad).problem?.hasPrefix("token_url") == true)
        bad = client
        bad.clientSecret = ""
        #expect(WebhookAuth.oauth2(bad).problem?.hasPrefix("client_secret") == true)
    }

    @Test("proxy: http://[user:password@]host:port, anything else refused with the reason; the password never in its description")
    func proxy() throws {
        let proxy = try HTTPProxy.parse("http://egress:p%40ss@proxy.internal:3128").get()
        #expect(proxy == HTTPProxy(host: "proxy.internal", port: 3128, username: "egress", password: "p@ss"))
        #expect("\(proxy)" == "http://proxy.internal:3128")
        #expect(try HTTPProxy.parse("http://10.0.0.1:8080/").get() == HTTPProxy(host: "10.0.0.1", port: 8080))
        for (text, problem) in [
            ("https://proxy:3128", "expected http://host:port"), ("http://proxy", "expected a port"), ("http://proxy:3128/path", "without a path"),
            ("proxy:3128", "expected http://host:port"),
        ] {
            #expect(throws: SettingsError.self, "\(text)") { try HTTPProxy.parse(text).get() }
            if case .failure(let error) = HTTPProxy.parse(text) { #expect(error.problem.contains(problem), "\(text): \(error.problem)") }
        }
    }

    @Test("tls: a client certificate needs its key and the key its certificate; an empty block says what to give")
    func tlsParts() {
        #expect(WebhookTLS(certificateAuthority: "pem").problem == nil)
        #expect(WebhookTLS(clientCertificate: "pem").problem?.contains("needs its key") == true)
        #expect(WebhookTLS(clientKey: "pem").problem?.contains("needs its key") == true)
        #expect(WebhookTLS().problem != nil)
        #expect(!"\(WebhookTLS(clientCertificate: "CERT", clientKey: "SECRET-KEY"))".contains("SECRET"))
    }

    @Test("CloudEvents: the attributes of a message, batches as an array, and the time in RFC 3339 UTC")
    func cloudEvents() throws {
        var message = RoutedMessage(
            siteID: "c404", topic: WebhookTopic(name: "order_state_changed", ordered: true), messageID: "m-1", sequence: "2-7",
            entity: Array("DV1".utf8), payload: Array(#"{"a":1}"#.utf8), sourcePartition: 2, sourceOffset: 7)
        message.timestampMilliseconds = 1_796_119_200_250
        var webhook = Webhook(id: "w", siteID: "c404", url: "https://a.example", topics: ["order_state_changed"], hashKeys: [HashKey("key-0123456789abcdef")])
        webhook.options.format = .cloudevents
        let request = WebhookRequest.single(message, to: webhook, timestamp: 1)
        let event = try #require(try JSONSerialization.jsonObject(with: Data(request.body ?? [])) as? [String: Any])
        #expect(event["specversion"] as? String == "1.0" && event["id"] as? String == "m-1" && event["type"] as? String == "order_state_changed")
        #expect(event["source"] as? String == "webhook-bridge/c404" && event["subject"] as? String == "DV1" && event["sequence"] as? String == "2-7")
        #expect(event["time"] as? String == "2026-12-01T10:00:00.250Z")
        #expect(request.headers.contains { $0 == ("Content-Type", "application/cloudevents+json") })
        let batch = WebhookRequest.batch([message, message], to: webhook, timestamp: 1)
        #expect((try JSONSerialization.jsonObject(with: Data(batch.body ?? [])) as? [Any])?.count == 2)
        #expect(batch.headers.contains { $0 == ("Content-Type", "application/cloudevents-batch+json") })
    }
}
