/// What the node serves at one instant: an immutable snapshot, replaced as a whole when
/// generations or mappings change. A query reads the snapshot once, so it finishes on the
/// generation it started with even if a switch happens meanwhile.
public struct ServingTable: Sendable {
    /// One service: its loaded generations and how queries are split between them. A class, so
    /// that a query's lookup shares it instead of copying its nine members.
    public final class Service: Sendable {
        public let id: String
        public let enabled: Bool
        public let generations: [String: ValidatedPackage]
        public let mapping: GenerationMapping?
        /// Pool tuning per endpoint.
        public let tuning: [String: EndpointTuning]
        /// Where query events go; nil: the local query log.
        public let logging: QueryLogging?
        /// Checks callers; nil for a public service.
        let callerGate: CallerGate?
        /// Endpoints of any loaded generation (bounded metric labels).
        let endpoints: Set<String>
        /// Present without a mapping too, so a staged generation can be queried with `forcedGeneration`.
        let dispatcher: Dispatcher

        public init(
            id: String, enabled: Bool, generations: [String: ValidatedPackage], mapping: GenerationMapping?,
            tuning: [String: EndpointTuning] = [:], logging: QueryLogging? = nil, callerGate: CallerGate? = nil
        ) {
            self.callerGate = callerGate
            self.id = id
            self.enabled = enabled
            self.generations = generations
            self.mapping = mapping
            self.tuning = tuning
            self.logging = logging
            endpoints = Set(generations.values.flatMap(\.endpointIDs))
            dispatcher = Dispatcher(mapping: mapping ?? GenerationMapping(entries: []), available: Set(generations.keys))
        }
    }

    public let services: [String: Service]

    public init(services: [Service] = []) {
        self.services = Dictionary(services.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
    }
}
