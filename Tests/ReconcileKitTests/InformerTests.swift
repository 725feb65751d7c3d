import DeployerTesting
import Foundation
import Testing

@testable import ReconcileKit

/// An in-memory list/watch source whose watches the test drives.
final class FakeSource: ListWatchSource, @unchecked Sendable {
    struct Item: Sendable, Equatable {
        let name: String
        let infrastructure: String
        var value: Int
    }

    private let lock = NSLock()
    private var items: [String: Item] = [:]
    private var version = 0
    private var watchers: [AsyncThrowingStream<SourceEvent<Item>, any Error>.Continuation] = []
    private(set) var lists = 0
    private(set) var watchStarts: [String] = []

    func list() async throws -> (objects: [Item], version: String) {
        lock.withLock {
            lists += 1
            return (Array(items.values), String(version))
        }
    }

    func watch(from version: String) async throws -> AsyncThrowingStream<SourceEvent<Item>, any Error> {
        let (stream, continuation) = AsyncThrowingStream<SourceEvent<Item>, any Error>.makeStream()
        lock.withLock {
            watchStarts.append(version)
            watchers.append(continuation)
        }
        return stream
    }

    func key(of object: Item) -> String { "default/\(object.name)" }

    /// Stores a change and sends it to open watches.
    func put(_ item: Item, deleted: Bool = false, silently: Bool = false) {
        let (event, watching): (SourceEvent<Item>, [AsyncThrowingStream<SourceEvent<Item>, any Error>.Continuation]) = lock.withLock {
            version += 1
            let existed = items[item.name] != nil
            items[item.name] = deleted ? nil : item
            let seen = String(version)
            let event: SourceEvent<Item> = deleted ? .deleted(item, version: seen) : existed ? .modified(item, version: seen) : .added(item, version: seen)
            return (event, silently ? [] : watchers)
        }
        for watcher in watching { watcher.yield(event) }
    }

    /// Ends open watches with an expiry (410), or simply closes them.
    func endWatches(expired: Bool) {
        let watching = lock.withLock {
            defer { watchers = [] }
            return watchers
        }
        for watcher in watching {
            if expired { watcher.yield(.expired) }
            watcher.finish()
        }
    }

    var watchCount: Int { lock.withLock { watchStarts.count } }
}

/// What the informer's handler saw.
final class ChangeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var changes: [CacheChange<FakeSource.Item>] = []

    func append(_ change: CacheChange<FakeSource.Item>) { lock.withLock { changes.append(change) } }
    var all: [CacheChange<FakeSource.Item>] { lock.withLock { changes } }

    /// Waits (yielding, bounded) until `count` changes arrived.
    func wait(for count: Int) async {
        for _ in 0..<1_000_000 where all.count < count { await Task.yield() }
    }
}

@Suite struct InformerTests {
    func start(_ source: FakeSource, clock: ManualClock, resync: Duration? = nil) async -> (Informer<FakeSource, ManualClock>, ChangeLog, Task<Void, any Error>) {
        let informer = Informer(source: source, clock: clock, resyncPeriod: resync, indexers: ["infrastructure": { [$0.infrastructure] }])
        let log = ChangeLog()
        informer.onChange { log.append($0) }
        let running = Task { try await informer.run() }
        await informer.waitUntilSynced()
        return (informer, log, running)
    }

    @Test func listsThenWatchesAndKeepsItsIndexesCurrent() async throws {
        let source = FakeSource()
        source.put(.init(name: "a", infrastructure: "dev", value: 1))
        source.put(.init(name: "b", infrastructure: "prod", value: 1))
        let (informer, log, running) = await start(source, clock: ManualClock())
        #expect(informer.hasSynced && log.all.count == 2 && log.all.allSatisfy { $0.old == nil })
        while source.watchCount == 0 { await Task.yield() }
        source.put(.init(name: "a", infrastructure: "prod", value: 2))
        source.put(.init(name: "b", infrastructure: "prod", value: 1), deleted: true)
        await log.wait(for: 4)
        #expect(log.all[2].old?.value == 1 && log.all[2].new?.value == 2)
        #expect(log.all[3].key == "default/b" && log.all[3].new == nil)
        #expect(informer.objects(index: "infrastructure", value: "prod").map(\.name) == ["a"])
        #expect(informer.objects(index: "infrastructure", value: "dev").isEmpty, "a moved away from dev")
        #expect(source.watchStarts == ["2"], "the watch starts at the list's version")
        running.cancel()
        source.endWatches(expired: false)
        _ = try? await running.value
    }

    @Test func anExpiredWatchRelistsAndReportsWhatChangedMeanwhile() async throws {
        let source = FakeSource()
        source.put(.init(name: "a", infrastructure: "dev", value: 1))
        source.put(.init(name: "b", infrastructure: "dev", value: 1))
        let (informer, log, running) = await start(source, clock: ManualClock())
        while source.watchCount == 0 { await Task.yield() }
        // Changes the watch never delivered, then a 410.
        source.put(.init(name: "b", infrastructure: "dev", value: 1), deleted: true, silently: true)
        source.put(.init(name: "c", infrastructure: "dev", value: 1), silently: true)
        source.endWatches(expired: true)
        await log.wait(for: 5)
        #expect(source.lists == 2)
        let afterRelist = log.all.dropFirst(2)
        #expect(afterRelist.contains { $0.key == "default/b" && $0.new == nil }, "the deletion is reported")
        #expect(afterRelist.contains { $0.key == "default/c" && $0.old == nil })
        #expect(Set(informer.list().map(\.name)) == ["a", "c"])
        // A watch that just ends resumes from the newest version, without a list.
        while source.watchCount < 2 { await Task.yield() }
        source.put(.init(name: "a", infrastructure: "dev", value: 5))
        await log.wait(for: 6)
        source.endWatches(expired: false)
        while source.watchCount < 3 { await Task.yield() }
        #expect(source.lists == 2 && source.watchStarts.last == "5")
        running.cancel()
        source.endWatches(expired: false)
        _ = try? await running.value
    }

    @Test func resyncReplaysTheCacheWithoutCallingTheSource() async throws {
        let source = FakeSource()
        source.put(.init(name: "a", infrastructure: "dev", value: 1))
        let clock = ManualClock()
        let (_, log, running) = await start(source, clock: clock, resync: .seconds(600))
        await clock.advance(by: .seconds(600))
        await log.wait(for: 2)
        #expect(log.all[1].old == log.all[1].new && log.all[1].key == "default/a")
        #expect(source.lists == 1)
        running.cancel()
        source.endWatches(expired: false)
        _ = try? await running.value
    }
}
