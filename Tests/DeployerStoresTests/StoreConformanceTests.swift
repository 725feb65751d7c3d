import DeployerCore
import DeployerModel
import DeployerStores
import DeployerTesting
import Foundation
import Testing

/// The two embedded store flavours the conformance suite runs against.
enum StoreFlavor: String, CaseIterable, CustomStringConvertible {
    case memory
    case sqlite

    var description: String { rawValue }

    func make(directory: URL) async throws -> ObjectStore {
        switch self {
        case .memory: try await ObjectStore()
        case .sqlite: try await ObjectStore(journal: SQLiteJournal(path: directory.appendingPathComponent("store.sqlite").path))
        }
    }
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("apideployer-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct StoreConformanceTests {
    static let cases: [(StoreFlavor, StoreConformance.Check)] = StoreFlavor.allCases.flatMap { flavor in
        StoreConformance.all.map { (flavor, $0) }
    }

    @Test(arguments: cases)
    func conformance(flavor: StoreFlavor, check: StoreConformance.Check) async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await flavor.make(directory: directory)
        do {
            try await check.run(store)
        } catch {
            try await store.close()
            throw error
        }
        try await store.close()
    }
}
