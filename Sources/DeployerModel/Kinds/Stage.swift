/// A lifecycle stage (Development, Test, Production).
public struct Stage: Codable, Sendable, Hashable {
    public struct Spec: Codable, Sendable, Hashable {
        public var displayName: String
        public var order: Int

        public init(displayName: String, order: Int) {
            self.displayName = displayName
            self.order = order
        }
    }

    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: CommonStatus?

    /// The stages that exist by default.
    public static let defaults: [Stage] = [
        Stage(metadata: ObjectMeta(name: "development"), spec: Spec(displayName: "Development", order: 10)),
        Stage(metadata: ObjectMeta(name: "test"), spec: Spec(displayName: "Test", order: 20)),
        Stage(metadata: ObjectMeta(name: "production"), spec: Spec(displayName: "Production", order: 30)),
    ]

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    static let specSchema: Schema = .object([
        .init("displayName", .nonEmptyString, required: true),
        .init("order", .integer(minimum: 0, maximum: 1_000_000), default: 0),
    ])
}
