import Synchronization
import WebhookDomain

/// The current routing, replaced when sites or custom topics change in the control topic.
public final class SharedRouter: Sendable {
    private let current: Mutex<Router>

    public init(_ router: Router) { current = Mutex(router) }

    public var router: Router {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}
