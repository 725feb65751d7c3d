import DeployerModel
import Foundation

/// A managed platform's serving contract, answered by the node for one endpoint of one package
/// so that one image serves everywhere (`node serve --platform`):
///
/// | platform | health | scoring | body |
/// |---|---|---|---|
/// | `sagemaker` | `GET /ping` | `POST /invocations` | the endpoint's native query and answer |
/// | `azureml` | `GET /health`, `GET /ready` | `POST /score` | native |
/// | `vertexai` | `GET $AIP_HEALTH_ROUTE` (`/health`) | `POST $AIP_PREDICT_ROUTE` (`/predict`) | `{"instances": [features…]}` → `{"predictions": [result…]}` |
/// | `snowpark` | `GET /health` | `POST /` | service-function rows `{"data": [[row, features]…]}` → `{"data": [[row, result]…]}` |
/// | `kubernetes` | — (`/isAlive/`) | — (the node's own API) | native |
///
/// Health is 200 once the package's generation serves, 503 before. The batch forms of Vertex AI
/// and Snowpark score prediction endpoints (one `predict-multi` per request).
public struct PlatformServing: Sendable {
    public enum Platform: String, Sendable, CaseIterable {
        case sagemaker, azureml, vertexai, snowpark, kubernetes
    }

    enum Route: Equatable {
        case health
        case score
    }

    public let platform: Platform
    public let service: String
    public let endpoint: String
    /// The endpoint's native verb for one query (`predict`, `run`, `query`, `lookup`).
    let verb: String
    let healthPaths: Set<String>
    /// Nil on Kubernetes, where callers use the node's own API.
    let scoringPath: String?

    /// The contract of `platform` for `endpoint` (of `type`) of `service`; the routes of Vertex AI
    /// come from its `AIP_*` variables. A batch platform refuses an endpoint that is not a prediction.
    public init(
        platform: Platform, service: String, endpoint: String, type: ServicePackageManifest.EndpointType, environment: [String: String]
    ) throws {
        let isPrediction = type == .prediction || type == .pythonPrediction
        if (platform == .vertexai || platform == .snowpark), !isPrediction {
            throw NodeError.invalid("--platform \(platform.rawValue) scores prediction endpoints; \(endpoint) is a \(type.rawValue) endpoint")
        }
        self.platform = platform
        self.service = service
        self.endpoint = endpoint
        verb = switch type {
        case .prediction, .pythonPrediction: "predict"
        case .function: "run"
        case .sqlQuery: "query"
        case .datasetLookup: "lookup"
        }
        switch platform {
        case .sagemaker: (healthPaths, scoringPath) = (["/ping"], "/invocations")
        case .azureml: (healthPaths, scoringPath) = (["/health", "/ready"], "/score")
        case .vertexai: (healthPaths, scoringPath) = ([environment["AIP_HEALTH_ROUTE"] ?? "/health"], environment["AIP_PREDICT_ROUTE"] ?? "/predict")
        case .snowpark: (healthPaths, scoringPath) = (["/health"], "/")
        case .kubernetes: (healthPaths, scoringPath) = ([], nil)
        }
    }

    /// The port the platform sends traffic to: `AIP_HTTP_PORT` on Vertex AI, else 8080.
    public static func port(for platform: Platform, environment: [String: String]) -> Int {
        platform == .vertexai ? environment["AIP_HTTP_PORT"].flatMap(Int.init) ?? 8080 : 8080
    }

    func route(method: String, path: String) -> Route? {
        if method == "GET", healthPaths.contains(path) { return .health }
        if method == "POST", let scoringPath, path == scoringPath { return .score }
        return nil
    }

    /// The native verb and body for a platform's scoring body; nil when the body is not the
    /// platform's shape.
    func nativeRequest(_ body: [UInt8]) -> (verb: String, body: [UInt8])? {
        switch platform {
        case .sagemaker, .azureml, .kubernetes:
            return (verb, body)
        case .vertexai:
            guard let instances = (try? JSONValue.parse(body))?["instances"]?.arrayValue else { return nil }
            return ("predict-multi", JSONValue.object(["items": .array(instances.map { ["features": $0] })]).serialized())
        case .snowpark:
            guard let rows = (try? JSONValue.parse(body))?["data"]?.arrayValue,
                rows.allSatisfy({ ($0.arrayValue?.count ?? 0) >= 2 })
            else { return nil }
            return ("predict-multi", JSONValue.object(["items": .array(rows.map { ["features": $0.arrayValue?[1] ?? .null] })]).serialized())
        }
    }

    /// The platform's answer to `request` from the node's native answer.
    func platformAnswer(_ native: JSONValue, request: [UInt8]) -> JSONValue {
        guard let results = native["results"]?.arrayValue else { return native }
        switch platform {
        case .sagemaker, .azureml, .kubernetes:
            return native
        case .vertexai:
            return ["predictions": .array(results)]
        case .snowpark:
            let rows = (try? JSONValue.parse(request))?["data"]?.arrayValue ?? []
            return ["data": .array(zip(rows, results).map { row, result in [row.arrayValue?.first ?? .null, result] })]
        }
    }

    /// The failure a malformed platform body gets.
    var shapeError: String {
        switch platform {
        case .vertexai: "the body must be {\"instances\": [...]}"
        case .snowpark: "the body must be {\"data\": [[row, features], ...]}"
        case .sagemaker, .azureml, .kubernetes: "the body is not valid"
        }
    }
}
