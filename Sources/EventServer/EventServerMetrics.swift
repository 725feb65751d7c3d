import Prometheus

/// The event server's Prometheus metrics: events and bytes stored, commit (write + fsync)
/// latency, and rejected requests by reason.
public struct EventServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let events: Counter
    private let bytes: Counter
    private let commits: DurationHistogram

    public init() {
        events = registry.makeCounter(name: "eventserver_events_stored_total", labels: [], help: "Events durably stored")
        bytes = registry.makeCounter(name: "eventserver_bytes_stored_total", labels: [], help: "Bytes durably stored")
        commits = registry.makeDurationHistogram(name: "eventserver_commit_seconds", buckets: Self.commitBuckets, help: "Time to write and fsync one group commit")
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
        registry.makeCounter(name: "eventserver_rejected_requests_total", labels: [("reason", reason)], help: "Ingest requests refused").increment()
    }

    public func exposition() -> String { registry.emitToString() }
}
