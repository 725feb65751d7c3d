import Logging

/// swift-log's `StreamLogHandler` output, with the metadata kept as given and turned into text
/// only when a message is logged. `StreamLogHandler` formats its metadata on every change, and
/// Hummingbird sets a request id on each request's logger, so every request paid for sorting
/// and formatting metadata that was almost never logged.
public struct DeferredMetadataLogHandler: LogHandler {
    private let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// Writes to standard output, as swift-log's default handler does.
    public init(label: String) {
        self.label = label
        metadataProvider = LoggingSystem.metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var handler = StreamLogHandler.standardOutput(label: label, metadataProvider: metadataProvider)
        handler.logLevel = logLevel
        handler.metadata = metadata
        handler.log(event: event)
    }
}
