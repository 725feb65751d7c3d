/// A Secret (embedded mode): opaque key/value data, readable only by admins.
public struct Secret: Codable, Sendable, Hashable {
    public var metadata: ObjectMeta
    public var type: String?
    /// Base64-encoded values.
    public var data: [String: String]?
    /// Plain values; folded into `data` when written.
    public var stringData: [String: String]?
    public var immutable: Bool?

    static let properties: [Schema.Property] = [
        .init("type", .string(), default: "Opaque"),
        .init("data", .map(.string(.init(pattern: base64Pattern)))),
        .init("stringData", .map(.string())),
        .init("immutable", .boolean),
    ]

    static let base64Pattern = Schema.Pattern(
        regex: "^[A-Za-z0-9+/]*={0,2}$",
        explanation: "must be base64-encoded",
        matches: { Base64.decode($0) != nil }
    )
}
