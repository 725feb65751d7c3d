import Foundation

/// One archive in the package store.
public struct PackageEntry: Sendable, Hashable, Codable {
    public var sha256: String
    public var size: Int64
    /// The service and version its `service.yaml` names.
    public var service: String
    public var version: String
    public var added: String

    public init(sha256: String, size: Int64, service: String, version: String, added: String) {
        self.sha256 = sha256
        self.size = size
        self.service = service
        self.version = version
        self.added = added
    }
}

/// Why a package was refused.
public struct PackageRefused: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The deployer's content-addressed package store: archives kept by their sha256.
public protocol PackageStore: Sendable {
    /// The local file of an archive, if the store holds it.
    func file(sha256: String) -> URL?
    /// Adds a validated archive (moved from `file`); returns its entry. Adding twice is harmless.
    func add(_ file: URL, service: String, version: String) throws -> PackageEntry
    /// Every archive, newest first.
    func list() throws -> [PackageEntry]
}
