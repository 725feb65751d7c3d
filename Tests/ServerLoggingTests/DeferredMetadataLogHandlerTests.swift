import Logging
import ServerLogging
import Synchronization
import Testing

/// Collects what a handler writes.
final class CollectedLines: TextOutputStream, @unchecked Sendable {
    private let text = Mutex("")
    func write(_ string: String) { text.withLock { $0 += string } }
    var lines: [Substring] { text.withLock { $0 }.split(separator: "\n") }
}

@Suite struct DeferredMetadataLogHandlerTests {
    @Test func messagesCarryTheMetadataSetBeforeThemLikeTheStockHandler() {
        let ours = CollectedLines()
        let stock = CollectedLines()
        var loggers = [
            Logger(label: "node") { DeferredMetadataLogHandler(label: $0, stream: ours) },
            Logger(label: "node") { StreamLogHandler(label: $0, stream: stock, metadataProvider: nil) },
        ]
        for index in loggers.indices {
            loggers[index][metadataKey: "b"] = "2"
            loggers[index][metadataKey: "a"] = "1"
            loggers[index][metadataKey: "b"] = "3"
            loggers[index].debug("below the level")
            loggers[index].info("served", metadata: ["c": "4"])
            loggers[index][metadataKey: "a"] = nil
            loggers[index].warning("again")
        }
        // Each line starts with a timestamp to the second; the rest must match.
        func withoutTime(_ lines: [Substring]) -> [Substring] { lines.map { $0.drop(while: { $0 != " " }) } }
        #expect(withoutTime(ours.lines) == [" info node: a=1 b=3 c=4 [ServerLoggingTests] served", " warning node: b=3 [ServerLoggingTests] again"])
        #expect(withoutTime(ours.lines) == withoutTime(stock.lines))
    }

    @Test func theLevelAndMetadataBelongToEachCopy() {
        let lines = CollectedLines()
        var first = Logger(label: "node") { DeferredMetadataLogHandler(label: $0, stream: lines) }
        first.logLevel = .error
        var second = first
        second[metadataKey: "request"] = "42"
        second.logLevel = .info
        first.info("dropped")
        second.info("kept")
        #expect(first[metadataKey: "request"] == nil)
        #expect(lines.lines.count == 1)
        #expect(lines.lines.first?.hasSuffix("node: request=42 [ServerLoggingTests] kept") == true)
    }
}
