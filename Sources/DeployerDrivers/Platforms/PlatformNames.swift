import CloudHTTP
import Crypto
import DeployerCore
import DeployerModel
import Foundation

/// Names of what a driver creates on a managed platform. They are derived from the namespace,
/// the service and the version alone, so that a restarted controller finds what it created.
enum PlatformNames {
    /// `<service>-<8 hex of sha256(namespace/service)>`: unique per namespace, `[a-z0-9-]` (the
    /// service is a DNS label) and at most `length` characters (36 by default, so that a
    /// generation's name built on it stays within the 63 most platforms allow). It starts with a
    /// letter (`s` is prefixed to a service starting with a digit), as Azure and Vertex AI require.
    static func base(service: String, namespace: String, length: Int = 36) -> String {
        let lead = service.first?.isLetter == true ? "" : "s"
        let kept = String((lead + service).prefix(length - 9)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return kept + "-" + shortHash("\(namespace)/\(service)")
    }

    /// A version in `[a-z0-9-]`: lower case, `.` and `_` as `-`, at most 16 characters (the
    /// version itself travels in the resource's environment or labels, not in its name).
    static func slug(_ version: String) -> String {
        let mapped = version.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return String(String(mapped).prefix(16)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    /// The first 8 hex digits of the text's SHA-256.
    static func shortHash(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).prefix(4).hexString
    }

    /// A name for one version of a package: `<base>-<slug>-<8 hex of the package digest>`.
    static func generation(base: String, version: String, sha256: String) -> String {
        "\(base)-\(slug(version))-\(sha256.prefix(8))"
    }
}

/// How platform drivers answer the changes that concern API nodes only.
enum PlatformChanges {
    /// Nil when `change` needs nothing on `platform` (enabling, public caller access, no query
    /// logging); a refusal that stalls the rollout with a clear reason otherwise.
    static func refusal(_ change: TargetChange, platform: String) -> DriverError? {
        switch change {
        case .setTuning:
            DriverError("endpoint tuning applies to API nodes; \(platform) scales by the infrastructure's instance settings (remove spec.endpointTuning)", isPermanent: true)
        case .setQueryLogging(nil), .setEnabled(true):
            nil
        case .setQueryLogging(.some):
            DriverError("query logging to an event server is not available on \(platform) endpoints (remove the infrastructure's logging block)", isPermanent: true)
        case .setCallerAuth(let auth) where auth.mode == .public:
            nil
        case .setCallerAuth:
            DriverError("\(platform) authenticates callers itself; spec.auth (API keys, JWT) cannot be enforced there", isPermanent: true)
        case .setEnabled(false):
            DriverError("a \(platform) endpoint cannot be disabled and kept; delete the deployment instead", isPermanent: true)
        default:
            nil
        }
    }

    /// The refusal of a hash split on a platform that splits traffic at random.
    static func refusingHashSplit(_ mapping: ServingMapping, platform: String) -> DriverError? {
        guard mapping.entries.count > 1, mapping.strategy == .hash else { return nil }
        return DriverError("\(platform) splits traffic between versions at random; a hash split cannot be done there (use strategy Random)", isPermanent: true)
    }
}

extension DriverError {
    /// The failure of a platform's JSON answer: `{"error": {<codeKey>, "message"}}` (ARM's and
    /// Google's envelopes) named after `what`; permanent for a 4xx other than 401, 408, 409
    /// and 429 (those, and 5xx, may pass).
    static func platform(_ answer: RESTAnswer, _ what: String, codeKey: String) -> DriverError {
        let error = answer.body["error"]
        let detail = [error?[codeKey]?.stringValue, error?["message"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
        return DriverError("\(what): HTTP \(answer.status)\(detail.isEmpty ? "" : " \(detail)")", isPermanent: isPermanent(status: answer.status))
    }

    /// Whether an HTTP status means retrying cannot help: a 4xx other than 401, 408, 409 and 429.
    static func isPermanent(status: Int) -> Bool {
        (400..<500).contains(status) && ![401, 408, 409, 429].contains(status)
    }
}
