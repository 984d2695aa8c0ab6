import WebhookDomain

/// A configuration mistake: the key path and the problem, as in
/// `webhooks[1].url: not an absolute http(s) URL`.
public struct ConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
}

extension ConfigError {
    /// A setting refused by its validator (`Site.validate()`, `WebhookOptions.validate()`), its
    /// path put under the file's key path of the validated value (`sites[0]`).
    init(_ error: SettingsError, under path: String) {
        self.init(path: error.prefixed(by: path).path, problem: error.problem)
    }
}
