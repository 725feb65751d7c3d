/// Names the controller puts on objects.
public enum ControllerNames {
    /// The finalizer that keeps a deployment until its service is gone from the targets.
    public static let finalizer = "apideployer.dev/finalizer"
    /// Changing this annotation's value retries a stalled rollout at the same generation.
    public static let retryAnnotation = "apideployer.dev/retry"
    /// The identity that last changed the spec, recorded by the API server.
    public static let requesterAnnotation = "apideployer.dev/requester"
}

/// Why a deployment cannot progress without a change; written as `Stalled` and not retried.
struct Stall: Error, CustomStringConvertible {
    let reason: String
    let message: String

    var description: String { "\(reason): \(message)" }
}
