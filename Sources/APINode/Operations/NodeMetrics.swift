import Prometheus

/// Query metrics of the node in the Prometheus text format (`GET /metrics`). Labels come from
/// the node's own services, endpoints and generations (unknown names are folded into
/// `unknown`), so their number stays bounded whatever callers send.
public struct NodeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    public init() {}

    static var queries: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "apinode", metricName: "queries", unitName: "total", helpText: "Queries by service, endpoint, generation and status code")
    }

    static var latency: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "apinode", metricName: "query_duration", unitName: "seconds", helpText: "Query latency")
    }

    static let buckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2),
    ]

    func record(service: String, endpoint: String, generation: String, status: Int, duration: Duration) {
        let labels = [("service", service), ("endpoint", endpoint), ("generation", generation)]
        registry.makeCounter(descriptor: Self.queries, labels: labels + [("code", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: Self.latency, labels: labels, buckets: Self.buckets).record(duration)
    }

    /// The exposition text.
    public func exposition() -> String { registry.emitToString() }
}
