import AsyncHTTPClient
import Crypto
import DeployerCore
import DeployerModel
import Foundation
import NIOCore

/// Finds package archives: in the deployer's package store, or at the version's URL — then
/// downloaded, checked against its sha256 and kept in the store's download cache.
public struct PackageFetcher: PackageSource {
    let store: any PackageStore
    let cache: URL
    let http: HTTPClient

    public init(store: any PackageStore, cache: URL, http: HTTPClient) throws {
        self.store = store
        self.cache = cache
        self.http = http
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
    }

    public func archive(for reference: PackageReference) async throws -> URL {
        if let file = store.file(sha256: reference.sha256) { return file }
        let cached = cache.appendingPathComponent("\(reference.sha256).zip")
        if FileManager.default.fileExists(atPath: cached.path) { return cached }
        guard let url = reference.url else {
            throw DriverError("the package store has no archive \(reference.sha256) (push it with `apideployer package push`)", isPermanent: true)
        }
        return try await download(url, sha256: reference.sha256, to: cached)
    }

    private func download(_ url: String, sha256: String, to destination: URL) async throws -> URL {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(HTTPClientRequest(url: url), timeout: .minutes(10))
        } catch {
            throw DriverError("cannot fetch the package from \(url): \(error)")
        }
        guard response.status.code == 200 else {
            throw DriverError("fetching the package from \(url) answered HTTP \(response.status.code)", isPermanent: response.status.code == 404)
        }
        let partial = cache.appendingPathComponent(".\(sha256).\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: partial.path, contents: nil)
        let handle = try FileHandle(forWritingTo: partial)
        var hasher = SHA256()
        do {
            for try await chunk in response.body {
                let bytes = Array(chunk.readableBytesView)
                hasher.update(data: bytes)
                try handle.write(contentsOf: bytes)
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: partial)
            throw DriverError("fetching the package from \(url) failed: \(error)")
        }
        let digest = hasher.finalize().hexString
        guard digest == sha256 else {
            try? FileManager.default.removeItem(at: partial)
            throw DriverError("the package at \(url) has sha256 \(digest), not \(sha256)", isPermanent: true)
        }
        guard rename(partial.path, destination.path) == 0 else { throw DriverError("cannot keep the downloaded package") }
        return destination
    }
}
