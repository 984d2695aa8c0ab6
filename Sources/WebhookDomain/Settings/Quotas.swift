/// What one site may own (DESIGN.md §10), the config file's `quotas`: webhooks and custom topics
/// per site. The config file and the admin API refuse one more past a quota; the control topic's
/// reader keeps whatever is stored (a quota lowered later refuses new ones, removes none).
public struct Quotas: Sendable, Equatable {
    /// Webhooks of one site, from the file and the API together (`webhooks_per_site`).
    public var webhooksPerSite = 100
    /// Custom topics of one site (`custom_topics_per_site`).
    public var customTopicsPerSite = 100

    public init() {}

    /// The range each quota may be set to.
    public static let limits = 1...100_000

    public enum Kind: Sendable {
        case webhooks, customTopics

        /// The quota's key in the file's `quotas`.
        public var key: String {
            switch self {
            case .webhooks: "webhooks_per_site"
            case .customTopics: "custom_topics_per_site"
            }
        }

        var noun: String {
            switch self {
            case .webhooks: "webhooks"
            case .customTopics: "custom topics"
            }
        }
    }

    public func quota(_ kind: Kind) -> Int {
        switch kind {
        case .webhooks: webhooksPerSite
        case .customTopics: customTopicsPerSite
        }
    }

    /// Throws the first quota outside `limits`, naming its key.
    public func validate() throws(SettingsError) {
        for kind in [Kind.webhooks, .customTopics] where !Self.limits.contains(quota(kind)) {
            throw SettingsError(path: kind.key, problem: "must be between \(Self.limits.lowerBound) and \(Self.limits.upperBound), not \(quota(kind))")
        }
    }

    /// Why a site that has `count` of `kind` may not have one more, or nil when it may: the one
    /// rule for the config file and the admin API.
    public func refusal(adding kind: Kind, to count: Int, site: String) -> String? {
        guard count >= quota(kind) else { return nil }
        return "site \(site) is at its quota of \(kind.noun) (quotas.\(kind.key): \(quota(kind)))"
    }
}
