import WebhookDomain

/// A configuration mistake: the key path and the problem, as in
/// `webhooks[1].url: not an absolute http(s) URL`. The same error as the settings validators'
/// (`Site.validate()`, `WebhookOptions.validate()`): the loader puts their paths under the file's
/// key path of the validated value (`sites[0]`) with `prefixed(by:)`.
public typealias ConfigError = SettingsError
