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

    /// Which of a secret's keys was given (`key_env` when it was, else `key`), for errors about
    /// its value.
    func secretKey(inline key: String, env envKey: String) -> String {
        self[envKey].isMissing ? key : envKey
    }

    /// A secret read from the file this node names, its trailing newlines trimmed (secret files
    /// usually end with one).
    func secretFile() throws(ConfigError) -> String {
        let path = try string()
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw self.error("cannot read \(path): \(error.localizedDescription)")
        }
        var trimmed = Substring(text)
        while let last = trimmed.last, last.isNewline { trimmed = trimmed.dropLast() }
        guard !trimmed.isEmpty else { throw self.error("\(path) is empty") }
        return String(trimmed)
    }

    /// A secret given inline (`key`) or through an environment variable (`key_env`).
    func secret(inline key: String, env envKey: String, environment: [String: String]) throws(ConfigError) -> String? {
        let inline = try self[key].optionalString()
        let variable = try self[envKey].optionalString()
        if inline != nil, variable != nil { throw self[key].error("give \(key) or \(envKey), not both") }
        if let variable {
            guard let value = environment[variable], !value.isEmpty else {
                throw self[envKey].error("environment variable \(variable) is not set")
            }
            return value
        }
        return inline
    }
}
