/// What one reconcile of a key concluded.
public enum ReconcileResult: Sendable, Equatable {
    /// Converged: nothing to do until the next change of the key.
    case done
    /// Expected waiting (an external operation in progress, a periodic check): look again after
    /// `after`, without counting a failure.
    case requeue(after: Duration)
}

/// A failure that retrying cannot fix (a refused spec, a missing permission): the key is not
/// retried until it changes. The reconciler says so in the object's conditions.
public struct TerminalError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public let message: String

    public init(reason: String, message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason): \(message)" }
}

/// One attempt at a key.
public struct ReconcileAttempt: Sendable {
    /// Fresh for every attempt, for logs and status history.
    public let reconcileID: String
    /// Consecutive failed attempts before this one.
    public let retries: Int

    public init(reconcileID: String, retries: Int) {
        self.reconcileID = reconcileID
        self.retries = retries
    }
}

/// Converges one key (`namespace/name`) toward its desired state. Throwing means "retry with
/// backoff", `TerminalError` means "stop and say why", `.requeue(after:)` means expected waiting.
public protocol Reconciler: Sendable {
    func reconcile(_ key: String, attempt: ReconcileAttempt) async throws -> ReconcileResult
}
