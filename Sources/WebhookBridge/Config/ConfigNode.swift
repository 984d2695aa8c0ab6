import Foundation
import WebhookDomain
import Yams

/// A position in the YAML tree with its key path, and typed readers whose errors name the path.
struct ConfigNode {
    let node: Node?
    let path: String

    init(node: Node?, path: String) {
        // YAML null (`~`, `null`, empty) reads as missing.
        if case .scalar(let scalar)? = node, scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
            self.node = nil
        } else {
            self.node = node
        }
        self.path = path
    }

    var isMissing: Bool { node == nil }

    func error(_ problem: String) -> ConfigError { ConfigError(path: path, problem: problem) }

    subscript(key: String) -> ConfigNode {
        ConfigNode(node: node?.mapping?[key], path: path.isEmpty ? key : "\(path).\(key)")
    }

    /// Refuses keys this mapping does not know (typos would otherwise be silently ignored).
    func requireMapping(allowedKeys: Set<String>) throws(ConfigError) {
        guard let node else { return }
        guard let mapping = node.mapping else { throw error("expected a mapping") }
        for key in mapping.keys {
            guard let name = key.string else { throw error("keys must be strings") }
            if !allowedKeys.contains(name) {
                throw ConfigError(path: path.isEmpty ? name : "\(path).\(name)", problem: "unknown key (allowed: \(allowedKeys.sorted().joined(separator: ", ")))")
            }
        }
    }

    func items() throws(ConfigError) -> [ConfigNode] {
        guard let node else { return [] }
        guard let sequence = node.sequence else { throw error("expected a list") }
        return sequence.enumerated().map { ConfigNode(node: $0.element, path: "\(path)[\($0.offset)]") }
    }

    /// Key/value pairs of a mapping, in file order.
    func entries() throws(ConfigError) -> [(key: String, value: ConfigNode)] {
        guard let node else { return [] }
        guard let mapping = node.mapping else { throw error("expected a mapping") }
        var result: [(String, ConfigNode)] = []
        for (key, value) in mapping {
            guard let name = key.string else { throw error("keys must be strings") }
            result.append((name, ConfigNode(node: value, path: path.isEmpty ? name : "\(path).\(name)")))
        }
        return result
    }

    func optionalString() throws(ConfigError) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else { throw error("expected a string") }
        return scalar.string
    }

    /// An absolute http(s) URL with a host, or nil when the key is not given.
    func optionalHTTPURL() throws(ConfigError) -> String? {
        guard let url = try optionalString() else { return nil }
        guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme ?? ""), components.host?.isEmpty == false else {
            throw error("not an absolute http(s) URL")
        }
        return url
    }

    func string(default value: String? = nil) throws(ConfigError) -> String {
        if let string = try optionalString() {
            guard !string.isEmpty else { throw error("must not be empty") }
            return string
        }
        if let value { return value }
        throw error("required")
    }

    func int(default value: Int) throws(ConfigError) -> Int {
        guard let text = try optionalString() else { return value }
        guard let number = Int(text) else { throw error("expected a whole number, got \"\(text)\"") }
        return number
    }

    /// For settings outside a site's or a webhook's (those are checked by their validator).
    func int(default value: Int, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let number = try int(default: value)
        guard range.contains(number) else { throw error("must be between \(range.lowerBound) and \(range.upperBound), got \(number)") }
        return number
    }

    /// A number (fractions allowed), or nil when the key is missing or null.
    func number() throws(ConfigError) -> Double? {
        guard let text = try optionalString() else { return nil }
        guard let number = Double(text), number.isFinite else { throw error("expected a number, got \"\(text)\"") }
        return number
    }

    func bool(default value: Bool) throws(ConfigError) -> Bool {
        guard let text = try optionalString() else { return value }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, got \"\(text)\"")
        }
    }

    func duration(default value: Duration) throws(ConfigError) -> Duration {
        guard let text = try optionalString() else { return value }
        guard let duration = DurationText.parse(text) else {
            throw error("expected a duration: seconds (fractions allowed) or a number with ms, s, m, h or d, got \"\(text)\"")
        }
        return duration
    }

    func stringList(default value: [String] = []) throws(ConfigError) -> [String] {
        guard !isMissing else { return value }
        return try items().map { item throws(ConfigError) in try item.string() }
    }

    func oneOf<T: RawRepresentable & CaseIterable>(_ type: T.Type, default value: T) throws(ConfigError) -> T where T.RawValue == String {
        guard let text = try optionalString() else { return value }
        guard let parsed = T(rawValue: text) ?? T(rawValue: text.lowercased()) ?? T(rawValue: text.uppercased()) else {
            throw error("expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
        }
        return parsed
    }

    /// The forms a secret takes in the file: the value itself (`token`), the name of an
    /// environment variable holding it (`token_env`), or the path of a file holding it
    /// (`token_file`, the form Kubernetes and Docker secrets take).
    enum SecretForm: CaseIterable {
        case inline, environment, file

        /// The key of this form for a secret named `name`.
        func key(_ name: String) -> String {
            switch self {
            case .inline: name
            case .environment: "\(name)_env"
            case .file: "\(name)_file"
            }
        }
    }

    /// A secret given as at most one of `name`, `name_env` and `name_file` (nil when none is),
    /// read by `secretValue(_:environment:)`.
    func secret(_ name: String, environment: [String: String]) throws(ConfigError) -> String? {
        let given = SecretForm.allCases.filter { !self[$0.key(name)].isMissing }
        if given.count > 1 {
            let keys = given.map { $0.key(name) }
            throw self[keys[0]].error(keys.count == 2 ? "give \(keys[0]) or \(keys[1]), not both" : "give only one of \(keys.joined(separator: ", "))")
        }
        guard let form = given.first else { return nil }
        return try self[form.key(name)].secretValue(form, environment: environment)
    }

    /// Which of a secret's keys was given (`name` when none was), for errors about its value.
    func secretKey(_ name: String) -> String {
        SecretForm.allCases.map { $0.key(name) }.first { !self[$0].isMissing } ?? name
    }

    /// The secret this node gives in `form`: the node's text itself, the value of the environment
    /// variable it names, or the contents of the file it names with trailing newlines (`\n`,
    /// `\r\n`) trimmed, as secret files usually end with one. Errors name this node's key path and
    /// the variable or the file, never the secret.
    func secretValue(_ form: SecretForm, environment: [String: String]) throws(ConfigError) -> String {
        let text = try string()
        switch form {
        case .inline:
            return text
        case .environment:
            guard let value = environment[text], !value.isEmpty else { throw error("environment variable \(text) is not set") }
            return value
        case .file:
            let contents: String
            do { contents = try String(contentsOfFile: text, encoding: .utf8) } catch {
                throw self.error("cannot read \(text): \(error.localizedDescription)")
            }
            var trimmed = Substring(contents)
            // "\r\n" is one Character, and a newline.
            while let last = trimmed.last, last.isNewline { trimmed = trimmed.dropLast() }
            guard !trimmed.isEmpty else { throw self.error("\(text) is empty") }
            return String(trimmed)
        }
    }
}
