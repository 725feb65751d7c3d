import EventShipping
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

    /// The exposition text, with the query log's counts: events dropped by its queue, and per
    /// event server what was shipped, spooled, dropped and refused.
    public func exposition(queryLog: QueryLog, table: ServingTable) -> String {
        var text = registry.emitToString()
        text += "# HELP apinode_query_log_dropped_total Query events dropped because the query log queue was full\n"
        text += "# TYPE apinode_query_log_dropped_total counter\napinode_query_log_dropped_total \(queryLog.dropped)\n"
        let shipping = queryLog.shipping
        let series: [(name: String, type: String, help: String, value: (ShippingCounts) -> Int)] = [
            ("apinode_query_events_shipped_total", "counter", "Query events the event server acknowledged", \.shipped),
            ("apinode_query_events_spooled_total", "counter", "Query events written to the disk spool while the event server was unreachable", \.spooled),
            ("apinode_query_events_dropped_total", "counter", "Query events dropped because the shipping queue or the spool was full", \.dropped),
            ("apinode_query_events_refused_total", "counter", "Query events the event server refused (not retried)", \.refused),
            ("apinode_query_events_spool_bytes", "gauge", "Bytes waiting in the disk spool", \.spooledBytes),
        ]
        for metric in series {
            text += "# HELP \(metric.name) \(metric.help)\n# TYPE \(metric.name) \(metric.type)\n"
            for (url, counts) in shipping { text += "\(metric.name){event_server=\"\(url)\"} \(metric.value(counts))\n" }
        }
        text += "# HELP apinode_python_workers Python worker processes running, by endpoint and generation\n# TYPE apinode_python_workers gauge\n"
        for service in table.services.values.sorted(by: { $0.id < $1.id }) {
            for (generation, package) in service.generations.sorted(by: { $0.key < $1.key }) {
                for (endpoint, pool) in package.python.sorted(by: { $0.key < $1.key }) {
                    text += "apinode_python_workers{service=\"\(service.id)\",endpoint=\"\(endpoint)\",generation=\"\(generation)\"} \(pool.workerCount)\n"
                }
            }
        }
        return text
    }
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
