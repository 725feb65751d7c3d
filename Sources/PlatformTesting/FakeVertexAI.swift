import Crypto
import DeployerModel
import Foundation
import _CryptoExtras

/// Google's token endpoint, Vertex AI's v1 endpoints and models, and Cloud Storage uploads,
/// behind one URL (reference §6.3): the token endpoint checks the RS256 assertion against the
/// service account's public key, its audience and its lifetime; models are uploaded, deployed,
/// undeployed and deleted through operations that finish after `settlePolls` polls;
/// `trafficSplit` must add up to 100 over deployed models; deployed things cannot be deleted
/// (FAILED_PRECONDITION); a model of a version in `failingVersions` never becomes ready; 429
/// with `Retry-After` and token expiry are injected. `:predict` answers through `container`.
public final class FakeVertexAI: @unchecked Sendable {
    struct Operation {
        var pollsLeft: Int
        var complete: (FakeVertexAI) -> (response: JSONValue?, error: JSONValue?)
        var result: (response: JSONValue?, error: JSONValue?)?
    }

    public let project = "my-project"
    public let location = "europe-west4"
    public let projectNumber = "123456789"
    public let email = "deployer@my-project.iam.gserviceaccount.com"
    private let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    private let lock = NSLock()
    private var url = ""
    private var tokens: [String: Int] = [:]
    private var tokenRequests: Int?
    private var models: [String: JSONValue] = [:]
    private var endpoints: [String: JSONValue] = [:]
    private var objects: [String: Int] = [:]
    private var operations: [String: Operation] = [:]
    private var throttleNext = 0
    private var predictions = 0
    private var nextID = 5000
    public private(set) var tokensIssued = 0
    public private(set) var throttled = 0
    public private(set) var requests: [String] = []
    public var settlePolls = 2
    public var failingVersions: Set<String> = []
    /// Polls a deployModel operation takes (nil: `settlePolls`); more than a driver's patience
    /// leaves one running, as after a controller restart.
    public var deployPolls: Int?
    public var container: @Sendable (_ environment: [String: String], _ instance: JSONValue) -> JSONValue = { environment, _ in
        ["version": .string(environment["APIDEPLOYER_VERSION"] ?? "")]
    }

    public init() {}

    /// The service-account key file a user would download, pointing at this fake's token endpoint.
    public var serviceAccountJSON: String {
        let json: JSONValue = [
            "type": "service_account", "project_id": .string(project), "private_key_id": "fake-key-1", "private_key": .string(key.pemRepresentation),
            "client_email": .string(email), "token_uri": .string("\(lock.withLock { url })/token"),
        ]
        return String(decoding: json.serialized(), as: UTF8.self)
    }

    public func edit(_ body: (FakeVertexAI) -> Void) { lock.withLock { body(self) } }
    public func throttle(next count: Int) { lock.withLock { throttleNext = count } }
    public func expireTokens(after requests: Int?) {
        lock.withLock {
            tokenRequests = requests
            for token in tokens.keys { tokens[token] = requests ?? Int.max }
        }
    }
    public var issuedTokens: [String] { lock.withLock { Array(tokens.keys) } }
    public var endpointNames: [String] { lock.withLock { endpoints.keys.sorted() } }
    public var modelNames: [String] { lock.withLock { models.keys.sorted() } }
    public var objectNames: [String] { lock.withLock { objects.keys.sorted() } }
    public func trafficSplit(_ endpoint: String) -> [Int] {
        lock.withLock { (endpoints[endpoint]?["trafficSplit"]?.objectValue ?? [:]).values.compactMap(\.intValue).map(Int.init).sorted() }
    }
    public func deployedCount(_ endpoint: String) -> Int { lock.withLock { endpoints[endpoint]?["deployedModels"]?.arrayValue?.count ?? 0 } }

    public func serve(_ body: (String) async throws -> Void) async throws {
        try await FakeHTTPServer.with({ [self] request in lock.withLock { handle(request) } }, { url in
            lock.withLock { self.url = url }
            try await body(url)
        })
    }

    static func error(_ status: Int, _ code: String, _ message: String, headers: [String: String] = [:]) -> FakeResponse {
        .json(status, ["error": ["code": .int(Int64(status)), "message": .string(message), "status": .string(code)]], headers: headers)
    }

    func handle(_ request: FakeRequest) -> FakeResponse {
        if request.path == "/token" { return token(request) }
        requests.append("\(request.method) \(request.path)")
        guard let bearer = request.header("Authorization"), bearer.hasPrefix("Bearer "), let uses = tokens[String(bearer.dropFirst(7))], uses > 0 else {
            return Self.error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token.")
        }
        tokens[String(bearer.dropFirst(7))] = uses - 1
        if throttleNext > 0 {
            throttleNext -= 1
            throttled += 1
            return Self.error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests.", headers: ["Retry-After": "3"])
        }
        if request.path.hasPrefix("/upload/storage/v1/b/") || request.path.hasPrefix("/storage/v1/b/") { return storage(request) }
        let parent = "/v1/projects/\(project)/locations/\(location)"
        // Server names carry the project number; either form addresses the same resources.
        let path = (request.path.removingPercentEncoding ?? request.path).replacingOccurrences(of: "/projects/\(projectNumber)/", with: "/projects/\(project)/")
        if path.contains("/operations/"), request.method == "GET" {
            return poll(String(path.dropFirst(4)).replacingOccurrences(of: "projects/\(project)/", with: "projects/\(projectNumber)/"))
        }
        guard path.hasPrefix(parent) else { return Self.error(404, "NOT_FOUND", "\(path) not found.") }
        let rest = String(path.dropFirst(parent.count))
        switch (request.method, rest) {
        case ("POST", "/models:upload"): return upload(request.json ?? [:])
        case ("GET", "/models"):
            let filter = request.query["filter"].map { $0.removingPercentEncoding ?? $0 } ?? ""
            let listed = models.keys.sorted().map { models[$0]! }.filter { model in
                guard let match = filter.firstMatch(of: /labels\.([a-z0-9_-]+)=([a-z0-9_-]+)/) else { return true }
                return model["labels"]?[String(match.1)]?.stringValue == String(match.2)
            }
            return .json(200, ["models": .array(listed)])
        case ("GET", "/endpoints"): return .json(200, ["endpoints": .array(endpoints.keys.sorted().map { endpoints[$0]! })])
        case ("POST", "/endpoints"): return createEndpoint(request)
        default: break
        }
        let parts = rest.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return Self.error(404, "NOT_FOUND", "\(path) not found.") }
        let (collection, id) = (parts[0], parts[1])
        if collection == "models" { return model(request, id) }
        if collection == "endpoints" { return endpoint(request, id) }
        return Self.error(404, "NOT_FOUND", "\(path) not found.")
    }

    // MARK: - Token endpoint

    private func token(_ request: FakeRequest) -> FakeResponse {
        let form = request.form
        guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", let assertion = form["assertion"] else {
            return .json(400, ["error": "unsupported_grant_type", "error_description": "Invalid grant_type"])
        }
        let parts = assertion.split(separator: ".").map(String.init)
        guard parts.count == 3, let signature = Base64.decodeURLSafe(parts[2]), let claimsBytes = Base64.decodeURLSafe(parts[1]),
            let claims = try? JSONValue.parse(claimsBytes),
            key.publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: Array("\(parts[0]).\(parts[1])".utf8)), padding: .insecurePKCS1v1_5)
        else { return .json(400, ["error": "invalid_grant", "error_description": "Invalid JWT Signature."]) }
        let issued = claims["iat"]?.intValue ?? 0
        let expires = claims["exp"]?.intValue ?? 0
        guard claims["iss"]?.stringValue == email, claims["aud"]?.stringValue == "\(url)/token", expires > issued, expires - issued <= 3600,
            claims["scope"]?.stringValue?.split(separator: " ").contains("https://www.googleapis.com/auth/cloud-platform") == true
        else {
            return .json(400, ["error": "invalid_grant", "error_description": "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."])
        }
        let token = "ya29.fake-\(UUID().uuidString)"
        tokens[token] = tokenRequests ?? Int.max
        tokensIssued += 1
        return .json(200, ["access_token": .string(token), "expires_in": 3599, "token_type": "Bearer"])
    }

    // MARK: - Operations

    private func startOperation(
        under resource: String, polls: Int? = nil, _ complete: @escaping (FakeVertexAI) -> (response: JSONValue?, error: JSONValue?)
    ) -> FakeResponse {
        nextID += 1
        let name = "\(resource)/operations/\(nextID)"
        operations[name] = Operation(pollsLeft: polls ?? settlePolls, complete: complete)
        return .json(200, ["name": .string(name), "metadata": ["genericMetadata": ["createTime": "2026-11-29T12:00:00Z"]]])
    }

    private func poll(_ name: String) -> FakeResponse {
        guard var operation = operations[name] else { return Self.error(404, "NOT_FOUND", "Operation \(name) not found.") }
        if operation.result == nil {
            operation.pollsLeft -= 1
            if operation.pollsLeft <= 0 { operation.result = operation.complete(self) }
            operations[name] = operation
        }
        guard let result = operation.result else { return .json(200, ["name": .string(name)]) }
        var body: JSONValue = ["name": .string(name), "done": true]
        if let error = result.error { body["error"] = error } else { body["response"] = result.response ?? [:] }
        return .json(200, body)
    }

    private var parentName: String { "projects/\(projectNumber)/locations/\(location)" }

    // MARK: - Models

    private func upload(_ body: JSONValue) -> FakeResponse {
        guard let id = body["modelId"]?.stringValue, var model = body["model"], model["containerSpec"]?["imageUri"]?.stringValue != nil else {
            return Self.error(400, "INVALID_ARGUMENT", "model.containerSpec.imageUri is required.")
        }
        let name = "\(parentName)/models/\(id)"
        guard models[name] == nil else { return Self.error(409, "ALREADY_EXISTS", "Model \(name) already exists.") }
        return startOperation(under: name) { fake in
            model["name"] = .string(name)
            model["deployedModels"] = []
            fake.models[name] = model
            return (["@type": "type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse", "model": .string(name), "modelVersionId": "1"], nil)
        }
    }

    private func model(_ request: FakeRequest, _ id: String) -> FakeResponse {
        let name = "\(parentName)/models/\(id)"
        guard let model = models[name] else { return Self.error(404, "NOT_FOUND", "Model `\(name)` not found.") }
        switch request.method {
        case "GET":
            return .json(200, model)
        case "DELETE":
            if endpoints.values.contains(where: { ($0["deployedModels"]?.arrayValue ?? []).contains { $0["model"]?.stringValue == name } }) {
                return Self.error(400, "FAILED_PRECONDITION", "The model \(name) is deployed; undeploy it before deleting it.")
            }
            return startOperation(under: name) { fake in
                fake.models[name] = nil
                return (["@type": "type.googleapis.com/google.protobuf.Empty"], nil)
            }
        default:
            return Self.error(405, "METHOD_NOT_ALLOWED", request.method)
        }
    }

    // MARK: - Endpoints

    private func createEndpoint(_ request: FakeRequest) -> FakeResponse {
        guard let id = request.query["endpointId"], id.first?.isLetter == true else { return Self.error(400, "INVALID_ARGUMENT", "endpointId must start with a letter.") }
        let name = "\(parentName)/endpoints/\(id)"
        guard endpoints[name] == nil else { return Self.error(409, "ALREADY_EXISTS", "Endpoint \(name) already exists.") }
        var endpoint = request.json ?? [:]
        return startOperation(under: name) { fake in
            endpoint["name"] = .string(name)
            endpoint["deployedModels"] = []
            endpoint["trafficSplit"] = [:]
            fake.endpoints[name] = endpoint
            return (endpoint, nil)
        }
    }

    private func endpoint(_ request: FakeRequest, _ rest: String) -> FakeResponse {
        let (id, verb) = rest.contains(":") ? (String(rest.split(separator: ":")[0]), String(rest.split(separator: ":")[1])) : (rest, "")
        if request.method == "GET", rest.hasSuffix("/operations") {
            // The endpoint's operations; time passes for the running ones, as it does on Google's side.
            let prefix = "\(parentName)/endpoints/\(rest.dropLast("/operations".count))/operations/"
            let names = operations.keys.filter { $0.hasPrefix(prefix) }.sorted()
            let listed = names.compactMap { name -> JSONValue? in
                _ = poll(name)
                guard let operation = operations[name] else { return nil }
                return ["name": .string(name), "done": .bool(operation.result != nil)]
            }
            return .json(200, ["operations": .array(listed)])
        }
        let name = "\(parentName)/endpoints/\(id)"
        guard var endpoint = endpoints[name] else { return Self.error(404, "NOT_FOUND", "Endpoint `\(name)` not found.") }
        switch (request.method, verb) {
        case ("GET", ""):
            return .json(200, endpoint)
        case ("PATCH", ""):
            guard request.query["updateMask"] == "trafficSplit", let split = request.json?["trafficSplit"]?.objectValue else {
                return Self.error(400, "INVALID_ARGUMENT", "updateMask must be trafficSplit.")
            }
            if let problem = Self.invalid(split, deployed: endpoint) { return Self.error(400, "INVALID_ARGUMENT", problem) }
            endpoint["trafficSplit"] = .object(split)
            endpoints[name] = endpoint
            return .json(200, endpoint)
        case ("DELETE", ""):
            guard endpoint["deployedModels"]?.arrayValue?.isEmpty != false else {
                return Self.error(400, "FAILED_PRECONDITION", "Endpoint \(name) has deployed models; undeploy them first.")
            }
            return startOperation(under: name) { fake in
                fake.endpoints[name] = nil
                return (["@type": "type.googleapis.com/google.protobuf.Empty"], nil)
            }
        case ("POST", "deployModel"):
            guard let deployed = request.json?["deployedModel"], let model = deployed["model"]?.stringValue, let uploaded = models[model] else {
                return Self.error(400, "INVALID_ARGUMENT", "deployedModel.model must name an uploaded model.")
            }
            guard deployed["dedicatedResources"]?["machineSpec"]?["machineType"]?.stringValue != nil else {
                return Self.error(400, "INVALID_ARGUMENT", "dedicatedResources are required for custom-container models.")
            }
            let version = Self.environment(uploaded)["APIDEPLOYER_VERSION"] ?? ""
            return startOperation(under: name, polls: deployPolls) { fake in
                if fake.failingVersions.contains(version) {
                    return (nil, ["code": 3, "message": "Model server never became ready. Please validate that your model file or container configuration are valid.", "details": []])
                }
                fake.nextID += 1
                var entry = deployed
                entry["id"] = .string(String(fake.nextID))
                let existing = fake.endpoints[name]?["deployedModels"]?.arrayValue ?? []
                fake.endpoints[name]?["deployedModels"] = .array(existing + [entry])
                return (["@type": "type.googleapis.com/google.cloud.aiplatform.v1.DeployModelResponse", "deployedModel": entry], nil)
            }
        case ("POST", "undeployModel"):
            guard let id = request.json?["deployedModelId"]?.stringValue, endpoint["deployedModels"]?.arrayValue?.contains(where: { $0["id"]?.stringValue == id }) == true else {
                return Self.error(404, "NOT_FOUND", "Deployed model not found.")
            }
            var split = request.json?["trafficSplit"]?.objectValue ?? endpoint["trafficSplit"]?.objectValue ?? [:]
            if (split[id]?.intValue ?? 0) > 0 {
                return Self.error(400, "FAILED_PRECONDITION", "Deployed model \(id) has traffic; move its traffic before undeploying it.")
            }
            split[id] = nil
            return startOperation(under: name) { fake in
                let remaining = (fake.endpoints[name]?["deployedModels"]?.arrayValue ?? []).filter { $0["id"]?.stringValue != id }
                fake.endpoints[name]?["deployedModels"] = .array(remaining)
                fake.endpoints[name]?["trafficSplit"] = .object(split)
                return (["@type": "type.googleapis.com/google.cloud.aiplatform.v1.UndeployModelResponse"], nil)
            }
        case ("POST", "predict"):
            return predict(request, endpoint)
        default:
            return Self.error(404, "NOT_FOUND", "\(request.method) \(rest) not found.")
        }
    }

    static func invalid(_ split: [String: JSONValue], deployed endpoint: JSONValue) -> String? {
        let ids = Set((endpoint["deployedModels"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
        if let unknown = split.keys.first(where: { !ids.contains($0) }) { return "trafficSplit names \(unknown), which is not deployed to the endpoint." }
        let total = split.values.compactMap(\.intValue).reduce(0, +)
        return split.isEmpty || total == 100 ? nil : "trafficSplit must add up to 100 (got \(total))."
    }

    static func environment(_ model: JSONValue) -> [String: String] {
        var environment: [String: String] = [:]
        for entry in model["containerSpec"]?["env"]?.arrayValue ?? [] { environment[entry["name"]?.stringValue ?? ""] = entry["value"]?.stringValue }
        return environment
    }

    private func predict(_ request: FakeRequest, _ endpoint: JSONValue) -> FakeResponse {
        guard let instances = request.json?["instances"]?.arrayValue else { return Self.error(400, "INVALID_ARGUMENT", "instances is required.") }
        let split = (endpoint["trafficSplit"]?.objectValue ?? [:]).sorted { $0.key < $1.key }
        predictions += 1
        guard let chosen = WeightedRotation.pick(split.map { ($0.key, Double($0.value.intValue ?? 0)) }, count: predictions), let deployed = endpoint["deployedModels"]?.arrayValue?.first(where: { $0["id"]?.stringValue == chosen }),
            let model = models[deployed["model"]?.stringValue ?? ""]
        else { return Self.error(400, "FAILED_PRECONDITION", "The endpoint has no deployed model with traffic.") }
        let environment = Self.environment(model)
        return .json(200, ["predictions": .array(instances.map { container(environment, $0) }), "deployedModelId": .string(chosen), "model": deployed["model"] ?? .null])
    }

    // MARK: - Cloud Storage

    private func storage(_ request: FakeRequest) -> FakeResponse {
        if request.method == "POST", request.query["uploadType"] == "media", let object = request.query["name"].map({ $0.removingPercentEncoding ?? $0 }) {
            let bucket = request.path.split(separator: "/")[4]
            objects["\(bucket)/\(object)"] = request.body.count
            return .json(200, ["bucket": .string(String(bucket)), "name": .string(object), "size": .string(String(request.body.count))])
        }
        if request.method == "DELETE" {
            let parts = request.path.split(separator: "/").map(String.init)
            guard parts.count >= 6 else { return Self.error(400, "INVALID_ARGUMENT", "object name missing") }
            let key = "\(parts[3])/\(parts[5...].joined(separator: "/").removingPercentEncoding ?? "")"
            return objects.removeValue(forKey: key) == nil ? Self.error(404, "NOT_FOUND", "No such object: \(key)") : FakeResponse(status: 204)
        }
        return Self.error(400, "INVALID_ARGUMENT", "unsupported storage call")
    }
}
