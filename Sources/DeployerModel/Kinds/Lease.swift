import Foundation

/// A leader-election lease (embedded mode), with the spec of `coordination.k8s.io/v1` Lease.
/// The controller holds one; `kubectl get leases` shows who leads and since when.
public struct Lease: Codable, Sendable, Hashable {
    public struct Spec: Codable, Sendable, Hashable {
        /// Empty when released.
        public var holderIdentity: String?
        public var leaseDurationSeconds: Int?
        /// RFC 3339 with fractional seconds (MicroTime).
        public var acquireTime: String?
        public var renewTime: String?
        public var leaseTransitions: Int?

        public init(holderIdentity: String?, leaseDurationSeconds: Int?, acquireTime: String?, renewTime: String?, leaseTransitions: Int?) {
            self.holderIdentity = holderIdentity
            self.leaseDurationSeconds = leaseDurationSeconds
            self.acquireTime = acquireTime
            self.renewTime = renewTime
            self.leaseTransitions = leaseTransitions
        }
    }

    public var metadata: ObjectMeta
    public var spec: Spec

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    /// The namespace and name of the controller's lease.
    public static let controllerNamespace = "default"
    public static let controllerName = "apideployer-controller"

    /// MicroTime as Kubernetes writes it: `2006-01-02T15:04:05.000000Z`.
    public static func microTime(_ date: Date) -> String {
        var seconds = date.timeIntervalSince1970.rounded(.down)
        var micros = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded())
        if micros == 1_000_000 {
            seconds += 1
            micros = 0
        }
        let whole = Date(timeIntervalSince1970: seconds).formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
        return whole.replacingOccurrences(of: "Z", with: "") + "." + String(format: "%06d", micros) + "Z"
    }

    /// Reads MicroTime (or a plain RFC 3339 time); nil if it is neither.
    public static func date(fromMicroTime text: String) -> Date? {
        let parts = text.split(separator: ".", maxSplits: 1)
        guard parts.count == 2 else { return try? Date(text, strategy: .iso8601) }
        guard let whole = try? Date(String(parts[0]) + "Z", strategy: .iso8601),
            parts[1].hasSuffix("Z"), let micros = Int(parts[1].dropLast()), parts[1].count == 7
        else { return nil }
        return whole.addingTimeInterval(Double(micros) / 1_000_000)
    }

    static let specSchema: Schema = .object([
        .init("holderIdentity", .string()),
        .init("leaseDurationSeconds", .integer(minimum: 1, maximum: 3600)),
        .init("acquireTime", .string(.init(format: "date-time"))),
        .init("renewTime", .string(.init(format: "date-time"))),
        .init("leaseTransitions", .integer(minimum: 0)),
    ])
}
