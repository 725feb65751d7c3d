import Logging

/// swift-log's `StreamLogHandler` output, with the metadata kept as given and turned into text
/// only when a message is logged. `StreamLogHandler` formats its metadata on every change, and
/// Hummingbird sets a request id on each request's logger, so every request paid for sorting
/// and formatting metadata that was almost never logged.
public struct DeferredMetadataLogHandler: LogHandler {
    private let label: String
    /// The stock handler that writes a message, made for each message logged.
    private let writer: @Sendable (String, Logger.MetadataProvider?) -> StreamLogHandler
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// Writes to standard output, as swift-log's default handler does.
    public init(label: String) {
        self.init(label: label) { StreamLogHandler.standardOutput(label: $0, metadataProvider: $1) }
    }

    /// Writes to `stream`.
    public init(label: String, stream: any TextOutputStream & Sendable) {
        self.init(label: label) { StreamLogHandler(label: $0, stream: stream, metadataProvider: $1) }
    }

    private init(label: String, writer: @escaping @Sendable (String, Logger.MetadataProvider?) -> StreamLogHandler) {
        self.label = label
        self.writer = writer
        metadataProvider = LoggingSystem.metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // `Logger` checked the level before calling; the stock handler only writes.
        var handler = writer(label, metadataProvider)
        handler.metadata = metadata
        handler.log(event: event)
    }
}
