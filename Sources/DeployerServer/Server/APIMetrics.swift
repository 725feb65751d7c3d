import Prometheus

/// Request metrics of the API server, exposed at `/metrics` in the Prometheus text format.
/// Labels are bounded: verb, resource (our few kinds) and status code.
public struct APIMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    static var requests: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "apideployer", subsystem: "apiserver", metricName: "requests", unitName: "total",
        helpText: "API requests by verb, resource and code") }
    static var duration: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "apideployer", subsystem: "apiserver", metricName: "request_duration", unitName: "seconds",
        helpText: "API request latency (watches: time to start streaming)") }
    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)]

    func record(verb: String, resource: String, code: Int, duration: Duration) {
        let labels = [("verb", verb), ("resource", resource.isEmpty ? "none" : resource), ("code", String(code))]
        registry.makeCounter(descriptor: Self.requests, labels: labels).increment()
        registry.makeDurationHistogram(descriptor: Self.duration, labels: [("verb", verb)], buckets: Self.buckets).record(duration)
    }

    /// The exposition text.
    public func exposition() -> String { registry.emitToString() }
}
