import DeployerModel

/// Where a target ships the query events of one deployment, from its infrastructure's
/// `logging` block with the secret resolved; the description never shows the key.
public struct QueryLoggingSettings: Hashable, Sendable, CustomStringConvertible {
    public var eventServer: String
    public var authKey: String?
    public var routingKey: String
    public var logQueries: Bool

    public init(eventServer: String, authKey: String?, routingKey: String, logQueries: Bool) {
        self.eventServer = eventServer
        self.authKey = authKey
        self.routingKey = routingKey
        self.logQueries = logQueries
    }

    /// The routing key value that means "the deployment's name".
    public static let fromDeploymentName = "FromDeploymentName"

    /// The settings for `deployment` on `infrastructure`; nil when it sends no events anywhere.
    public static func desired(deployment: String, on infrastructure: ResolvedInfrastructure) -> QueryLoggingSettings? {
        guard let logging = infrastructure.spec.logging, let server = logging.eventServer else { return nil }
        return QueryLoggingSettings(
            eventServer: server.url, authKey: server.authKeySecretRef.flatMap(infrastructure.secret),
            routingKey: logging.routingKey == fromDeploymentName ? deployment : logging.routingKey, logQueries: logging.logQueries)
    }

    public var description: String {
        logQueries ? "log queries to \(eventServer) as \(routingKey)" + (authKey == nil ? "" : " (with an auth key)") : "do not log queries"
    }
}
