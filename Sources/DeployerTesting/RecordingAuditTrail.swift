import DeployerCore
import DeployerModel
import Foundation

/// An `AuditTrail` that keeps every event in memory, in order.
public final class RecordingAuditTrail: AuditTrail, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [JSONValue] = []

    public init() {}

    public func record(_ event: JSONValue) { lock.withLock { recorded.append(event) } }

    /// The events so far, oldest first.
    public var events: [JSONValue] { lock.withLock { recorded } }
}
