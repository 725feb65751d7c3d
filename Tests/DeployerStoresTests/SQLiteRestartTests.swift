import DeployerCore
import DeployerModel
import DeployerStores
import DeployerTesting
import Foundation
import Testing

@Suite struct SQLiteRestartTests {
    let kind = ResourceKind.serviceDeployment

    @Test func objectsAndResourceVersionsSurviveAReopen() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let first = try await ObjectStore(journal: SQLiteJournal(path: path))
        _ = try await first.create(SampleObjects.deployment("a"), kind: kind, dryRun: false)
        let b = try await first.create(SampleObjects.deployment("b"), kind: kind, dryRun: false)
        _ = try await first.delete(b.key, preconditions: DeletePreconditions(), dryRun: false)
        let before = await first.currentResourceVersion()

        let second = try await ObjectStore(journal: SQLiteJournal(path: path))
        #expect(await second.currentResourceVersion() == before)
        let names = try await second.list(kind, ListQuery()).items.map(\.key.name)
        #expect(names == ["a"])
        let next = try await second.create(SampleObjects.deployment("c"), kind: kind, dryRun: false)
        #expect(next.resourceVersion == before + 1)
        try await first.close()
        try await second.close()
    }

    @Test func aWatchResumesAcrossAReopenWhileTheVersionIsRetained() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let first = try await ObjectStore(journal: SQLiteJournal(path: path))
        let start = try await first.create(SampleObjects.deployment("a"), kind: kind, dryRun: false).resourceVersion
        for name in ["b", "c", "d"] { _ = try await first.create(SampleObjects.deployment(name), kind: kind, dryRun: false) }

        let second = try await ObjectStore(journal: SQLiteJournal(path: path))
        _ = try await second.create(SampleObjects.deployment("e"), kind: kind, dryRun: false)
        var seen: [String] = []
        for await item in try await second.watch(kind, ListQuery(), from: .after(start), bookmarks: false) {
            guard case .event(let event) = item else { break }
            seen.append(event.object.key.name)
            if seen.count == 4 { break }
        }
        #expect(seen == ["b", "c", "d", "e"])
        try await first.close()
        try await second.close()
    }

    @Test func anExpiredVersionIsReportedAndARelistRecovers() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await ObjectStore(
            journal: SQLiteJournal(path: directory.appendingPathComponent("s.sqlite").path, eventRetention: 5), historyLimit: 5)
        for index in 0..<12 { _ = try await store.create(SampleObjects.deployment("o\(index)"), kind: kind, dryRun: false) }
        var expired = false
        for await item in try await store.watch(kind, ListQuery(), from: .after(2), bookmarks: false) {
            if case .expired(let error) = item {
                expired = true
                #expect(error.code == 410)
                #expect(error.message.hasPrefix("too old resource version: 2"))
            }
        }
        #expect(expired)
        let relist = try await store.list(kind, ListQuery())
        #expect(relist.items.count == 12)
        let resumed = try await store.watch(kind, ListQuery(), from: .after(relist.resourceVersion), bookmarks: false)
        _ = try await store.create(SampleObjects.deployment("after"), kind: kind, dryRun: false)
        for await item in resumed {
            guard case .event(let event) = item else { Issue.record("expired again"); break }
            #expect(event.object.key.name == "after")
            break
        }
        try await store.close()
    }

    @Test func concurrentWritesAreGroupCommittedAndAllAcknowledged() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let store = try await ObjectStore(journal: SQLiteJournal(path: path))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask { _ = try await store.create(SampleObjects.deployment("c\(index)"), kind: kind, dryRun: false) }
            }
            try await group.waitForAll()
        }
        let reopened = try await ObjectStore(journal: SQLiteJournal(path: path))
        #expect(try await reopened.list(kind, ListQuery()).items.count == 200)
        #expect(await reopened.currentResourceVersion() == 200)
        try await store.close()
        try await reopened.close()
    }
}
