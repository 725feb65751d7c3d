import DeployerCore
import DeployerModel
import Foundation

/// The package store's HTTP API: `POST /packages/v1` with a package archive as the body
/// (validated completely before it is stored; answers its entry with the sha256),
/// `GET /packages/v1` (every entry) and `GET /packages/v1/SHA256`. Bearer tokens as for the
/// rest of the API; any authenticated caller may push and read (a package deploys nothing by
/// itself: deployments are checked against the service's and infrastructure's permissions).
public struct PackageAPI: Sendable {
    public static let pathPrefix = "/packages/v1"
    /// Largest archive accepted.
    public static let maximumArchiveBytes = 2 * 1024 * 1024 * 1024

    /// Checks an archive completely; returns the service and version its manifest names.
    public typealias Validator = @Sendable (URL) throws -> (service: String, version: String)

    let store: any PackageStore
    let authenticator: RequestAuthenticator
    let validate: Validator
    let uploads: URL

    public init(store: any PackageStore, authenticator: RequestAuthenticator, uploads: URL, validate: @escaping Validator) {
        self.store = store
        self.authenticator = authenticator
        self.uploads = uploads
        self.validate = validate
    }

    /// Whether `path` belongs to this API.
    public static func handles(_ path: String) -> Bool { path == pathPrefix || path.hasPrefix(pathPrefix + "/") }

    /// Answers a read (`GET`).
    public func read(path: String, authorization: String?) async -> APIResponse {
        do {
            _ = try await authenticator.authenticate(authorization)
            let digest = path.dropFirst(Self.pathPrefix.count).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            let entries = try store.list()
            if digest.isEmpty { return .json(["kind": "PackageList", "items": .array(try entries.map { try JSONValue(encoding: $0) })]) }
            guard let entry = entries.first(where: { $0.sha256 == digest }) else {
                throw APIError(code: 404, reason: "NotFound", message: "no package \(digest) in the store")
            }
            return .json(try JSONValue(encoding: entry))
        } catch let error as APIError {
            return .error(error)
        } catch {
            return .error(.internalError("\(error)"))
        }
    }

    /// The 401 for an upload without valid credentials, checked before its body is read.
    public func refusal(authorization: String?) async -> APIResponse? {
        do {
            _ = try await authenticator.authenticate(authorization)
            return nil
        } catch {
            return .error(.unauthorized())
        }
    }

    /// Stores an uploaded archive, already written to `file` by the adapter (and removed after)
    /// once `refusal` let it in.
    public func upload(file: URL) -> APIResponse {
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            let manifest: (service: String, version: String)
            do {
                manifest = try validate(file)
            } catch {
                throw APIError(code: 422, reason: "Invalid", message: "the package was refused: \(error)")
            }
            let entry = try store.add(file, service: manifest.service, version: manifest.version)
            return .json(try JSONValue(encoding: entry), status: 201)
        } catch let error as APIError {
            return .error(error)
        } catch {
            return .error(.internalError("\(error)"))
        }
    }

    /// A fresh file name for an upload in progress.
    public func temporaryFile() -> URL { uploads.appendingPathComponent(".upload-\(UUID().uuidString).zip") }
}
