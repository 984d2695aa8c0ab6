/// A setting outside its limits, or any mistake in the configuration file (`ConfigError` is this
/// type): the field's path within the value that was validated (`retry_intervals[2]`,
/// `options.max_batch_size`) and the problem. Each door (the config file, the admin API, the
/// control topic) puts its own path in front (`sites[0].retry_intervals[2]`,
/// `webhook.options.max_batch_size`) and reports it its own way.
public struct SettingsError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    /// The same error, its path under `prefix` (nothing is added for an empty prefix).
    public func prefixed(by prefix: String) -> SettingsError {
        guard !prefix.isEmpty else { return self }
        return SettingsError(path: path.hasPrefix("[") ? prefix + path : "\(prefix).\(path)", problem: problem)
    }

    public var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
}
