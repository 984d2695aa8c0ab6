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
