import Prometheus

/// The event server's Prometheus metrics: events and bytes stored, commit (write + fsync)
/// latency, and rejected requests by reason.
public struct EventServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let events: Counter
    private let bytes: Counter
    private let commits: DurationHistogram

    public init() {
        events = registry.makeCounter(descriptor: Self.name("events_stored", "total", "Events durably stored"), labels: [])
        bytes = registry.makeCounter(descriptor: Self.name("bytes_stored", "total", "Bytes durably stored"), labels: [])
        commits = registry.makeDurationHistogram(descriptor: Self.name("commit", "seconds", "Time to write and fsync one group commit"), buckets: Self.commitBuckets)
    }

    /// `eventserver_<metric>_<unit>`.
    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "eventserver", metricName: metric, unitName: unit, helpText: help)
    }

    static let commitBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
    ]

    func stored(events: Int, bytes: Int, commit: Duration) {
        self.events.increment(by: Int64(events))
        self.bytes.increment(by: Int64(bytes))
        commits.record(commit)
    }

    func rejected(_ reason: String) {
        registry.makeCounter(descriptor: Self.name("rejected_requests", "total", "Ingest requests refused"), labels: [("reason", reason)]).increment()
    }

    public func exposition() -> String { registry.emitToString() }
}
