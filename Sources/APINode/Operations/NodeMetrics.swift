import Foundation
import Prometheus

/// Query metrics of the node in the Prometheus text format (`GET /metrics`). Labels come from
/// the node's own services, endpoints and generations (unknown names are folded into
/// `unknown`), so their number stays bounded whatever callers send.
public struct NodeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let cache = MetricCache()

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
        let key = MetricCache.Key(service: service, endpoint: endpoint, generation: generation, status: status)
        let (counter, histogram) = cache.metrics(for: key) {
            let labels = [("service", service), ("endpoint", endpoint), ("generation", generation)]
            return (
                registry.makeCounter(descriptor: Self.queries, labels: labels + [("code", String(status))]),
                registry.makeDurationHistogram(descriptor: Self.latency, labels: labels, buckets: Self.buckets)
            )
        }
        counter.increment()
        histogram.record(duration)
    }

    static var adminRequests: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "apinode", metricName: "admin_requests", unitName: "total", helpText: "Admin API requests by method and status code")
    }

    /// Counts one admin API request (few label values: methods and status codes).
    func recordAdmin(method: String, status: Int) {
        registry.makeCounter(descriptor: Self.adminRequests, labels: [("method", method), ("code", String(status))]).increment()
    }

    /// The exposition text.
    public func exposition() -> String { registry.emitToString() }
}

/// The counter and histogram of each label set, so a query does not rebuild label arrays and
/// names for the registry's lookup.
final class MetricCache: @unchecked Sendable {
    struct Key: Hashable {
        let service: String
        let endpoint: String
        let generation: String
        let status: Int
    }

    private let lock = NSLock()
    private var metrics: [Key: (Counter, DurationHistogram)] = [:]

    func metrics(for key: Key, make: () -> (Counter, DurationHistogram)) -> (Counter, DurationHistogram) {
        lock.withLock {
            if let existing = metrics[key] { return existing }
            let made = make()
            metrics[key] = made
            return made
        }
    }
}
