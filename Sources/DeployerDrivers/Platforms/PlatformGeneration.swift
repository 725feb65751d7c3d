import DeployerModel

/// One version a platform container serves (Snowpark's specification, a Kubernetes pod
/// template): what the node reads from `APIDEPLOYER_GENERATIONS`.
struct PlatformGeneration: Sendable, Equatable {
    var version: String
    var packageURL: String
    var sha256: String
    var weight: Int

    var json: JSONValue {
        ["version": .string(version), "packageUrl": .string(packageURL), "sha256": .string(sha256), "weight": .int(Int64(weight))]
    }

    init(version: String, packageURL: String, sha256: String, weight: Int) {
        self.version = version
        self.packageURL = packageURL
        self.sha256 = sha256
        self.weight = weight
    }

    init?(_ json: JSONValue) {
        guard let version = json["version"]?.stringValue, let url = json["packageUrl"]?.stringValue, let sha256 = json["sha256"]?.stringValue else { return nil }
        self.init(version: version, packageURL: url, sha256: sha256, weight: Int(json["weight"]?.intValue ?? 0))
    }
}
