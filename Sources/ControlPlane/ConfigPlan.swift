import WebhookDomain

/// What the config file defines (DESIGN.md §8): its sites (with their tokens, which never go to
/// the control topic), which of them have their configuration in the file, its custom topics
/// (in the sites), its webhooks, its routes and extra topics.
public struct FileDefinitions: Sendable {
    public var sites: [Site]
    /// Sites whose configuration the file sets (any setting besides id, token and topics); the
    /// others' configuration is the API's (`PUT /sites/{id}/configuration`).
    public var sitesWithConfiguration: Set<String>
    public var webhooks: [Webhook]
    /// File webhooks with no key in the file: they keep the key stored for them, if any.
    public var generatedKeys: Set<String>
    public var routes: [Route]
    public var extraTopics: [WebhookTopic]

    public init(
        sites: [Site], sitesWithConfiguration: Set<String>, webhooks: [Webhook], generatedKeys: Set<String> = [], routes: [Route],
        extraTopics: [WebhookTopic] = []
    ) {
        self.sites = sites
        self.sitesWithConfiguration = sitesWithConfiguration
        self.webhooks = webhooks
        self.generatedKeys = generatedKeys
        self.routes = routes
        self.extraTopics = extraTopics
    }
}

/// What applying the config file to the control topic would change: the records to write, in
/// order, and each change in words (`webhook-bridge config plan`, the start-up and reload logs).
/// Made by `ControlCatalog.plan(_:)` from the file and the view; it only writes when applied.
public struct ConfigPlan: Sendable, Equatable {
    public struct Change: Sendable, Equatable, CustomStringConvertible {
        public enum Action: String, Sendable {
            case create, change, delete
        }

        public enum Kind: String, Sendable {
            case siteConfiguration = "site configuration"
            case customTopic = "custom topic"
            case webhook
        }

        public var action: Action
        public var kind: Kind
        /// The site id, `site/topic`, or the webhook id.
        public var name: String
        /// What changes, in a few words (never a secret).
        public var detail: String

        public var description: String { "\(action.rawValue) \(kind.rawValue) \(name)\(detail.isEmpty ? "" : ": \(detail)")" }
    }

    public var changes: [Change] = []
    public var records: [ControlRecord] = []

    public var isEmpty: Bool { records.isEmpty }
}

/// The file and the control topic disagree in a way only the operator can settle: a config error
/// for the start-up or reload that met it.
public struct ConfigConflict: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let problem: String

    public var description: String { "\(path): \(problem)" }
}

extension ControlCatalog {
    /// What the config file `file` would change in the control topic as it stands (DESIGN.md
    /// §8). Objects managed by the file are created, changed to match it, or deleted when gone
    /// from it (a webhook with its status and cursors); objects managed by the API and every
    /// runtime state (status and retry episode, cursors, replays) are left alone, except that a
    /// new file webhook gets its initial status.
    public func plan(_ file: FileDefinitions, now: Int64 = WallClock.milliseconds()) throws(ConfigConflict) -> ConfigPlan {
        var plan = ConfigPlan()
        let fileSites = Set(file.sites.map(\.id))
        let storedWebhooks = view.records(prefix: ControlRecord.Prefix.webhooks).compactMap { record -> ControlRecord.StoredWebhook? in
            guard case .webhook(_, let stored?) = record else { return nil }
            return stored
        }

        // Sites gone from the file go with their topics and file webhooks; API webhooks would be
        // left without a site, so the operator decides.
        for case .site(let id, _?) in view.records(prefix: ControlRecord.Prefix.sites) where !fileSites.contains(id) {
            let orphans = storedWebhooks.filter { $0.webhook.siteID == id && $0.origin == .api }.map(\.webhook.id).sorted()
            if !orphans.isEmpty {
                throw ConfigConflict(
                    path: "sites",
                    problem: "site \(id) is gone from the file but has webhooks managed by the API: \(orphans.joined(separator: ", ")); delete them through the API first, or keep the site")
            }
            for stored in storedTopics(site: id) { plan.delete(.topic(site: id, name: stored.topic.name, nil), .customTopic, "\(id)/\(stored.topic.name)") }
            plan.delete(.site(id: id, nil), .siteConfiguration, id)
        }

        for site in file.sites {
            planSite(site, managedByFile: file.sitesWithConfiguration.contains(site.id), into: &plan)
        }

        let fileWebhookIDs = Set(file.webhooks.map(\.id))
        for stored in storedWebhooks where stored.origin == .config && !fileWebhookIDs.contains(stored.webhook.id) {
            plan.records += deletion(ofWebhook: stored.webhook.id)
            plan.changes.append(.init(action: .delete, kind: .webhook, name: stored.webhook.id, detail: "gone from the file (with its status and cursors)"))
        }
        for (index, var webhook) in file.webhooks.enumerated() {
            let existing = storedWebhook(webhook.id)
            if existing?.origin == .api {
                throw ConfigConflict(path: "webhooks[\(index)].id", problem: "\(webhook.id) is a webhook managed by the API; give the file's webhook another id")
            }
            if let existing, file.generatedKeys.contains(webhook.id) { webhook.hashKeys = existing.webhook.hashKeys }
            if store.state(webhook.id) == nil {
                // Its initial status, before the definition: no instance delivers before it is known.
                plan.records.append(.status(webhookID: webhook.id, WebhookState(status: webhook.status, since: now)))
            }
            let desired = ControlRecord.StoredWebhook(webhook.withStatus(.enabled), origin: .config)
            guard let existing else {
                plan.records.append(.webhook(id: webhook.id, desired))
                plan.changes.append(.init(action: .create, kind: .webhook, name: webhook.id, detail: "\(webhook.method.rawValue) to site \(webhook.siteID)'s \(webhook.topics.joined(separator: ", "))"))
                continue
            }
            let stored = ControlRecord.StoredWebhook(existing.webhook.withStatus(.enabled), origin: existing.origin)
            if stored != desired {
                plan.records.append(.webhook(id: webhook.id, desired))
                plan.changes.append(.init(action: .change, kind: .webhook, name: webhook.id, detail: Self.differences(stored.webhook, desired.webhook)))
            }
        }
        return plan
    }

    /// Writes a plan's records; each is applied here (and on every instance) as it is read back.
    public func apply(_ plan: ConfigPlan) async throws {
        try await view.write(plan.records)
    }

    private func planSite(_ site: Site, managedByFile: Bool, into plan: inout ConfigPlan) {
        let stored = storedSite(site.id)
        if managedByFile {
            let desired = ControlRecord.StoredSite(SiteConfiguration(site), origin: .config)
            if stored != desired {
                plan.records.append(.site(id: site.id, desired))
                plan.changes.append(.init(action: stored == nil ? .create : .change, kind: .siteConfiguration, name: site.id, detail: "as the file sets it"))
            }
        } else if stored == nil {
            plan.records.append(.site(id: site.id, .init(SiteConfiguration(site), origin: .api)))
            plan.changes.append(.init(action: .create, kind: .siteConfiguration, name: site.id, detail: "the defaults; managed by the API"))
        } else if let stored, stored.origin == .config {
            // The file no longer sets it: the API takes it over as it stands.
            plan.records.append(.site(id: site.id, .init(stored.configuration, origin: .api)))
            plan.changes.append(.init(action: .change, kind: .siteConfiguration, name: site.id, detail: "now managed by the API (the file no longer sets it)"))
        }
        let topics = storedTopics(site: site.id)
        for topic in site.customTopics {
            let existing = topics.first { $0.topic.name == topic.name }
            let desired = ControlRecord.StoredTopic(topic, origin: .config)
            if existing != desired {
                plan.records.append(.topic(site: site.id, name: topic.name, desired))
                plan.changes.append(.init(action: existing == nil ? .create : .change, kind: .customTopic, name: "\(site.id)/\(topic.name)", detail: topic.ordered ? "ordered" : "unordered"))
            }
        }
        for stored in topics where stored.origin == .config && !site.customTopics.contains(where: { $0.name == stored.topic.name }) {
            plan.delete(.topic(site: site.id, name: stored.topic.name, nil), .customTopic, "\(site.id)/\(stored.topic.name)")
        }
    }

    /// The records that delete a webhook: its cursors, statuses and definition.
    func deletion(ofWebhook id: String) -> [ControlRecord] {
        store.cursors(webhookID: id).keys.map { .cursor(webhookID: id, $0, nil) }
            + [.status(webhookID: id, nil), .requestedStatus(webhookID: id, nil), .webhook(id: id, nil)]
    }

    /// Which fields differ, by name (keys are named, never shown).
    static func differences(_ old: Webhook, _ new: Webhook) -> String {
        var fields: [String] = []
        if old.siteID != new.siteID { fields.append("site") }
        if old.url != new.url { fields.append("url") }
        if old.method != new.method { fields.append("http_method") }
        if old.topics != new.topics { fields.append("topics") }
        if old.hashKeys != new.hashKeys { fields.append("hash keys") }
        if old.options != new.options { fields.append("options") }
        return fields.isEmpty ? "now managed by the file" : fields.joined(separator: ", ")
    }
}

extension ConfigPlan {
    fileprivate mutating func delete(_ record: ControlRecord, _ kind: Change.Kind, _ name: String) {
        records.append(record)
        changes.append(.init(action: .delete, kind: kind, name: name, detail: "gone from the file"))
    }
}
