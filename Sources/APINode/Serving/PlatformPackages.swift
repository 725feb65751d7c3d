import AsyncHTTPClient
import Crypto
import DeployerModel
import Foundation
import NIOCore

/// One package a platform container serves, and its share of the traffic.
public struct PlatformPackage: Sendable, Equatable {
    public enum Location: Sendable, Equatable {
        case file(String)
        case url(String)
        /// `gs://bucket/object`, read with the instance's service-account token.
        case cloudStorage(bucket: String, object: String)
    }

    /// The version the package must hold (nil: whatever it holds).
    public var version: String?
    public var location: Location
    /// The digest the archive must have (nil: not checked).
    public var sha256: String?
    public var weight: Int
}

/// What a `node serve --platform` container serves: `--package`, or what the deployer's driver
/// put in its environment —
///
/// | variable | platform | meaning |
/// |---|---|---|
/// | `APIDEPLOYER_GENERATIONS` | snowpark, kubernetes | JSON list of `{version, packageUrl, sha256, weight}` |
/// | `APIDEPLOYER_STRATEGY` | kubernetes | `HASH_BASED` splits by the query's hash key (default `RANDOM`) |
/// | `APIDEPLOYER_PACKAGE_URL` | azureml | the package's URL (with `APIDEPLOYER_PACKAGE_SHA256`) |
/// | `SM_MODEL_DIR` (`/opt/ml/model`) | sagemaker | the extracted `model.tar.gz`, holding `package.zip` |
/// | `AIP_STORAGE_URI` | vertexai | `gs://…/` holding `package.zip` |
///
/// `APIDEPLOYER_VERSION` and `APIDEPLOYER_PACKAGE_SHA256` are checked when present.
public enum PlatformPackages {
    public static func described(platform: PlatformServing.Platform, package: String?, environment: [String: String]) throws -> [PlatformPackage] {
        let version = environment["APIDEPLOYER_VERSION"]
        let sha256 = environment["APIDEPLOYER_PACKAGE_SHA256"]
        if let package { return [PlatformPackage(version: version, location: .file(package), sha256: sha256, weight: 100)] }
        if let list = environment["APIDEPLOYER_GENERATIONS"] {
            guard let entries = (try? JSONValue.parse(Array(list.utf8)))?.arrayValue, !entries.isEmpty else {
                throw NodeError.invalid("APIDEPLOYER_GENERATIONS is not a JSON list of {version, packageUrl, sha256, weight}")
            }
            return try entries.map { entry in
                guard let version = entry["version"]?.stringValue, let url = entry["packageUrl"]?.stringValue, let digest = entry["sha256"]?.stringValue else {
                    throw NodeError.invalid("APIDEPLOYER_GENERATIONS: every entry needs version, packageUrl and sha256")
                }
                return PlatformPackage(version: version, location: .url(url), sha256: digest, weight: Int(entry["weight"]?.intValue ?? 0))
            }
        }
        if let url = environment["APIDEPLOYER_PACKAGE_URL"] { return [PlatformPackage(version: version, location: .url(url), sha256: sha256, weight: 100)] }
        switch platform {
        case .sagemaker:
            let directory = environment["SM_MODEL_DIR"] ?? "/opt/ml/model"
            return [PlatformPackage(version: version, location: .file(directory + "/package.zip"), sha256: sha256, weight: 100)]
        case .vertexai:
            guard let uri = environment["AIP_STORAGE_URI"], uri.hasPrefix("gs://") else { break }
            let path = uri.dropFirst(5)
            let bucket = String(path.prefix { $0 != "/" })
            var directory = String(path.dropFirst(bucket.count + 1))
            if !directory.isEmpty, !directory.hasSuffix("/") { directory += "/" }
            return [PlatformPackage(version: version, location: .cloudStorage(bucket: bucket, object: directory + "package.zip"), sha256: sha256, weight: 100)]
        default:
            break
        }
        throw NodeError.invalid(
            "--platform \(platform.rawValue) needs --package, or the environment the deployer sets: APIDEPLOYER_GENERATIONS or APIDEPLOYER_PACKAGE_URL"
                + (platform == .vertexai ? " or AIP_STORAGE_URI" : ""))
    }

    /// The package as a local file in `directory`, its digest checked when one is given.
    public static func fetch(_ package: PlatformPackage, into directory: URL, http: HTTPClient, environment: [String: String]) async throws -> URL {
        let file: URL
        switch package.location {
        case .file(let path):
            file = URL(fileURLWithPath: path)
        case .url(let url):
            file = try await download(url, headers: [], into: directory, http: http)
        case .cloudStorage(let bucket, let object):
            let token = try await metadataToken(http: http, environment: environment)
            let storage = environment["STORAGE_EMULATOR_HOST"] ?? "https://storage.googleapis.com"
            let url = "\(storage)/storage/v1/b/\(bucket)/o/\(object.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? object)?alt=media"
            file = try await download(url, headers: [("Authorization", "Bearer \(token)")], into: directory, http: http)
        }
        if let expected = package.sha256 {
            let digest = SHA256.hash(data: try Data(contentsOf: file)).hexString
            guard digest == expected.lowercased() else {
                throw NodeError.invalid("the package of \(package.version ?? "the service") has sha256 \(digest), not \(expected)")
            }
        }
        return file
    }

    private static func download(_ url: String, headers: [(String, String)], into directory: URL, http: HTTPClient) async throws -> URL {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await http.execute(request, timeout: .seconds(300))
        let bytes = try await response.body.collect(upTo: 2 * 1024 * 1024 * 1024)
        let shown = String(url.split(separator: "?", maxSplits: 1).first ?? "")
        guard response.status.code == 200 else { throw NodeError.invalid("downloading \(shown) answered HTTP \(response.status.code)") }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("\(UUID().uuidString).zip")
        try Data(buffer: bytes).write(to: file)
        return file
    }

    /// The instance's access token from the Google metadata server (`GCE_METADATA_HOST` overrides it).
    private static func metadataToken(http: HTTPClient, environment: [String: String]) async throws -> String {
        let host = environment["GCE_METADATA_HOST"] ?? "metadata.google.internal"
        var request = HTTPClientRequest(url: "http://\(host)/computeMetadata/v1/instance/service-accounts/default/token")
        request.headers.add(name: "Metadata-Flavor", value: "Google")
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try JSONValue.parse(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView))
        guard response.status.code == 200, let token = body["access_token"]?.stringValue else {
            throw NodeError.invalid("the metadata server gave no access token (HTTP \(response.status.code))")
        }
        return token
    }
}
