import Foundation
import Testing

@testable import WebhookBridge

/// Secrets from files (issue 14 item 4): every `*_env` key has a `*_file` twin, read by the same
/// function (`ConfigNode.secret(_:environment:)`). `kafka.properties_file` is covered in
/// `ConfigTests` (`kafkaProperties`, `mistakes`).
@Suite("Configuration file: secrets from files")
struct SecretFileConfigTests {
    /// A secret of the file: where it sits and how the loaded configuration holds it.
    enum Secret: CaseIterable, Sendable, CustomTestStringConvertible {
        case token, hashKey, smtpPassword, registryPassword

        /// The secret's key: `name`, `name_env`, `name_file`.
        var name: String {
            switch self {
            case .token: "token"
            case .hashKey: "hash_key"
            case .smtpPassword, .registryPassword: "password"
            }
        }

        /// The key path of the mapping holding the secret's keys.
        var parent: String {
            switch self {
            case .token: "sites[0]"
            case .hashKey: "webhooks[0]"
            case .smtpPassword: "smtp"
            case .registryPassword: "schema_registry"
            }
        }

        /// A file with `keys` (such as `token_file: /run/secrets/t`) where the secret goes.
        func yaml(_ keys: String) -> String {
            switch self {
            case .token: "sites: [{id: c404, \(keys)}]"
            case .hashKey:
                "sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: erp, site: c404, url: 'https://a.example', topics: [order_state_changed], \(keys)}]"
            case .smtpPassword: "smtp: {username: alerts, \(keys)}"
            case .registryPassword: "schema_registry: {url: 'https://registry.example.com', username: bridge, \(keys)}"
            }
        }

        func value(in config: BridgeConfig) -> String? {
            switch self {
            case .token: config.sites.first?.token
            case .hashKey: config.webhooks.first?.hashKeys.first?.text
            case .smtpPassword: config.smtp?.password
            case .registryPassword: config.schemaRegistry?.password
            }
        }

        var testDescription: String { "\(parent).\(name)" }
    }

    static let value = "file-secret-0123456789"

    /// A temporary file holding `contents`, removed after `body`.
    static func withSecretFile<T>(_ contents: String, _ body: (String) throws -> T) throws -> T {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
        try Data(contents.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try body(file.path)
    }

    /// The error loading `yaml` gives; nil (and an issue recorded) when it loads.
    static func error(loading yaml: String, environment: [String: String] = [:]) -> ConfigError? {
        do {
            _ = try BridgeConfig.parse(yaml: yaml, environment: environment)
            Issue.record("accepted: \(yaml)")
            return nil
        } catch {
            return error
        }
    }

    @Test("a *_file secret is read with its trailing newlines trimmed", arguments: Secret.allCases, ["", "\n", "\r\n", "\n\n", "\r\n\r\n"])
    func fromFile(secret: Secret, ending: String) throws {
        let config = try Self.withSecretFile(Self.value + ending) { path in
            try BridgeConfig.parse(yaml: secret.yaml("\(secret.name)_file: \(path)"))
        }
        #expect(secret.value(in: config) == Self.value)
    }

    @Test("only trailing newlines are trimmed: inner newlines and spaces stay", arguments: Secret.allCases)
    func innerTextKept(secret: Secret) throws {
        let text = " file-secret\n0123456789 "
        let config = try Self.withSecretFile(text + "\n") { path in try BridgeConfig.parse(yaml: secret.yaml("\(secret.name)_file: \(path)")) }
        #expect(secret.value(in: config) == text)
    }

    @Test("a missing file is an error naming the key path and the file", arguments: Secret.allCases)
    func missingFile(secret: Secret) {
        let path = "/nonexistent/\(UUID().uuidString)"
        let error = Self.error(loading: secret.yaml("\(secret.name)_file: \(path)"))
        #expect(error?.description.hasPrefix("\(secret.parent).\(secret.name)_file: cannot read \(path)") == true, "\(String(describing: error))")
    }

    @Test("an empty file, or one of newlines only, is an error naming the key path and the file", arguments: Secret.allCases, ["", "\n", "\r\n"])
    func emptyFile(secret: Secret, contents: String) throws {
        try Self.withSecretFile(contents) { path in
            let error = Self.error(loading: secret.yaml("\(secret.name)_file: \(path)"))
            #expect(error?.description == "\(secret.parent).\(secret.name)_file: \(path) is empty", "\(String(describing: error))")
        }
    }

    @Test("two or three forms of one secret are an error naming the keys given", arguments: Secret.allCases)
    func moreThanOneForm(secret: Secret) {
        let name = secret.name
        let file = "\(name)_file: /run/secrets/x"
        let environment = ["SECRET": Self.value]
        for (keys, expected) in [
            ("\(name): \(Self.value), \(file)", "\(secret.parent).\(name): give \(name) or \(name)_file, not both"),
            ("\(name)_env: SECRET, \(file)", "\(secret.parent).\(name)_env: give \(name)_env or \(name)_file, not both"),
            ("\(name): \(Self.value), \(name)_env: SECRET, \(file)", "\(secret.parent).\(name): give only one of \(name), \(name)_env, \(name)_file"),
        ] {
            let error = Self.error(loading: secret.yaml(keys), environment: environment)
            #expect(error?.description == expected)
        }
    }

    @Test("a secret from a file is held to the same rules, the error naming the _file key and never quoting the secret")
    func sameRules() throws {
        try Self.withSecretFile("fifteen-chars..\n") { path in
            for (yaml, expected) in [
                (Secret.token.yaml("token_file: \(path)"), "sites[0].token_file: must be at least 16 characters"),
                (Secret.hashKey.yaml("hash_key_file: \(path)"), "webhooks[0].hash_key_file: must be at least 16 characters"),
            ] {
                let error = Self.error(loading: yaml)
                #expect(error?.description.hasPrefix(expected) == true, "\(String(describing: error))")
                #expect(error?.description.contains("fifteen-chars") == false)
            }
        }
        try Self.withSecretFile(Self.value) { path in
            let error = Self.error(loading: "sites: [{id: c404, token_file: \(path)}, {id: c405, token_file: \(path)}]")
            #expect(error?.description.hasPrefix("sites[1].token_file: the same token as sites[0] (c404): tokens must be unique") == true)
            #expect(error?.description.contains(Self.value) == false)
        }
    }

    @Test("hash_keys items take hash_key_file too: read and trimmed in order, a missing file or two forms named by the item's key path")
    func rotationFromFiles() throws {
        let head = "sites: [{id: c404, token: c404-test-token-0001}]\nwebhooks: [{id: erp, site: c404, url: 'https://a.example', topics: [order_state_changed], "
        try Self.withSecretFile("new-key-0123456789\r\n") { path in
            let config = try BridgeConfig.parse(
                yaml: head + "hash_keys: [{hash_key_file: \(path)}, {hash_key_env: OLD}, oldest-key-0123456789]}]", environment: ["OLD": "old-key-0123456789"])
            #expect(config.webhooks.first?.hashKeys.map(\.text) == ["new-key-0123456789", "old-key-0123456789", "oldest-key-0123456789"])
            let twoForms = Self.error(loading: head + "hash_keys: [{hash_key: new-key-0123456789, hash_key_file: \(path)}]}]")
            #expect(twoForms?.description == "webhooks[0].hash_keys[0].hash_key: give hash_key or hash_key_file, not both")
        }
        let missing = Self.error(loading: head + "hash_keys: [new-key-0123456789, {hash_key_file: /nonexistent/old-key}]}]")
        #expect(missing?.description.hasPrefix("webhooks[0].hash_keys[1].hash_key_file: cannot read /nonexistent/old-key") == true, "\(String(describing: missing))")
        #expect(Self.error(loading: head + "hash_keys: [{}]}]")?.description == "webhooks[0].hash_keys[0]: give hash_key, hash_key_env or hash_key_file")
    }

    @Test("no secret at all: the site's token and an smtp password with a username are required, a webhook's key is generated")
    func noSecret() throws {
        #expect(Self.error(loading: "sites: [{id: c404}]")?.description == "sites[0].token: required: give token, token_env or token_file")
        #expect(Self.error(loading: "smtp: {username: alerts}")?.description.hasPrefix("smtp.password_env: required when username is set") == true)
        #expect(try BridgeConfig.parse(yaml: Secret.hashKey.yaml("status: enabled")).generatedKeys.count == 1)
    }
}
