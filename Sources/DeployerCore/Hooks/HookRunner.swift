import DeployerModel

/// How one hook run ended.
public enum HookOutcome: Sendable, Equatable {
    case succeeded(String?)
    case failed(String)
}

/// Delivers `http` hooks: a POST of the transition, signed when a key is given.
public protocol WebhookSender: Sendable {
    /// Posts `body`; returns the HTTP status. With `signingKey`, the body's HMAC-SHA256 goes in
    /// the `X-APIDeployer-Signature: sha256=HEX` header.
    func deliver(url: String, body: [UInt8], signingKey: String?, timeout: Duration) async throws -> Int
}

/// What a hook is told about the transition it runs at (its standard input, or the webhook body).
public struct HookTransition: Sendable {
    public var phase: String
    public var deployment: String
    public var namespace: String
    public var service: String
    public var infrastructure: String
    public var generation: Int64
    public var rolloutID: Int64
    public var from: [String]
    public var to: [String]
    public var requester: String?

    var json: JSONValue {
        var value: JSONValue = [
            "phase": .string(phase), "deployment": .string(deployment), "namespace": .string(namespace),
            "service": .string(service), "infrastructure": .string(infrastructure), "generation": .int(generation),
            "rolloutID": .int(rolloutID), "from": .array(from.map { .string($0) }), "to": .array(to.map { .string($0) }),
        ]
        if let requester { value["requester"] = .string(requester) }
        return value
    }
}

/// Runs hooks of every kind within the controller-wide concurrency limit.
public struct HookRunner<C: Clock>: Sendable where C.Duration == Duration {
    let limiter: HookLimiter<C>
    let webhooks: any WebhookSender

    public init(limiter: HookLimiter<C>, webhooks: any WebhookSender) {
        self.limiter = limiter
        self.webhooks = webhooks
    }

    /// Runs one hook. `secret` resolves the webhook signing key; `testQueries` sends test
    /// queries and returns the first failure (throwing when a target could not tell). Throws
    /// `HookLimiter.Busy` when no slot freed.
    public func run(
        _ hook: Hook, transition: HookTransition, secret: @Sendable (SecretKeyRef) async throws -> String,
        testQueries: @Sendable ([TestQuery]) async throws -> String?
    ) async throws -> HookOutcome {
        try await limiter.withSlot {
            if let exec = hook.exec {
                return await ExecHook.run(exec, input: transition.json.serialized())
            }
            if let http = hook.http {
                do {
                    let key = try await http.secretRef.asyncMap(secret)
                    let status = try await webhooks.deliver(
                        url: http.url, body: transition.json.serialized(), signingKey: key, timeout: .seconds(http.timeoutSeconds))
                    return (200..<300).contains(status) ? .succeeded("HTTP \(status)") : .failed("HTTP \(status) from \(http.url)")
                } catch {
                    return .failed("\(http.url): \(error)")
                }
            }
            if let queries = hook.testQueries {
                if let failure = try await testQueries(queries) { return .failed(failure) }
                return .succeeded("\(queries.count) test queries passed")
            }
            return .failed("the hook has no exec, http or testQueries")
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
