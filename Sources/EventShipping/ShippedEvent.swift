/// One event waiting to be shipped: where it goes and its JSON text (one line, no newline).
public struct ShippedEvent: Sendable, Equatable {
    public var topic: String
    public var routingKey: String
    public var line: [UInt8]

    public init(topic: String, routingKey: String, line: [UInt8]) {
        self.topic = topic
        self.routingKey = routingKey
        self.line = line
    }
}

/// An event server events are shipped to, and the key it expects (never printed).
public struct EventTarget: Codable, Hashable, Sendable, CustomStringConvertible {
    public var url: String
    public var authKey: String?

    public init(url: String, authKey: String? = nil) {
        self.url = url
        self.authKey = authKey
    }

    public var description: String { url + (authKey == nil ? "" : " (with an auth key)") }

    /// A folder name for this target's spool: the URL with everything but letters, digits, '.'
    /// and '-' replaced by '_'.
    public var spoolFolderName: String {
        String(url.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") ? $0 : "_" })
    }
}

/// Bounds and pacing of a shipper.
public struct ShippingLimits: Sendable {
    /// Events held in memory before new ones are dropped (the queue a query never waits on).
    public var queuedEvents: Int
    /// Most events in one request to the event server.
    public var batchEvents: Int
    /// How long a batch waits for more events after its first one.
    public var linger: Duration
    /// Bytes the disk spool may hold; events beyond are dropped and counted.
    public var spoolBytes: Int
    /// First and longest wait between attempts while the event server cannot be reached.
    public var firstBackoff: Duration
    public var longestBackoff: Duration
    /// How long one request may take before the server counts as unreachable.
    public var requestTimeout: Duration

    public init(
        queuedEvents: Int = 100_000, batchEvents: Int = 1_000, linger: Duration = .milliseconds(100), spoolBytes: Int = 512 << 20,
        firstBackoff: Duration = .milliseconds(200), longestBackoff: Duration = .seconds(5), requestTimeout: Duration = .seconds(3)
    ) {
        self.queuedEvents = queuedEvents
        self.batchEvents = batchEvents
        self.linger = linger
        self.spoolBytes = spoolBytes
        self.firstBackoff = firstBackoff
        self.longestBackoff = longestBackoff
        self.requestTimeout = requestTimeout
    }
}
