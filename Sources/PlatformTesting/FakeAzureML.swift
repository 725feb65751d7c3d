import DeployerModel
import Foundation

/// An Entra ID token endpoint, the ARM paths of one Azure ML workspace and the scoring hosts
/// of its online endpoints, behind one URL (reference §6.3): `api-version` and a bearer token
/// are required; PUT answers 201/200 with `Azure-AsyncOperation`, DELETE 202 with `Location`
/// and `Retry-After`; operations stay `InProgress` for `settlePolls` polls; a deployment of a
/// version in `failingVersions` ends `Failed`; traffic maps are checked (existing deployments,
/// adding up to 100) and a deployment with traffic cannot be deleted; 429 with `Retry-After: 3`
/// and token expiry are injected.
public final class FakeAzureML: @unchecked Sendable {
    struct Operation {
        var pollsLeft: Int
        var complete: (FakeAzureML) -> JSONValue?
        var error: JSONValue?
        var done = false
    }

    public let tenant = "00000000-0000-0000-0000-0000000000aa"
    public let subscription = "00000000-0000-0000-0000-0000000000bb"
    public let resourceGroup = "ml-prod"
    public let workspace = "ml-prod-ws"
    public let clientID = "deployer-app"
    public let clientSecret = "fake-azure-secret-\(UUID().uuidString)"
    public let location = "westeurope"
    private let lock = NSLock()
    private var url = ""
    private var tokens: [String: Int] = [:]
    private var endpoints: [String: JSONValue] = [:]
    private var deployments: [String: [String: JSONValue]] = [:]
    private var environments: [String: [String: JSONValue]] = [:]
    private var operations: [String: Operation] = [:]
    private var throttleNext = 0
    private var scored = 0
    public private(set) var tokensIssued = 0
    public private(set) var throttled = 0
    public private(set) var requests: [String] = []
    public var settlePolls = 2
    private var tokenRequests: Int?
    public var failingVersions: Set<String> = []
    public var container: @Sendable (_ environment: [String: String], _ body: [UInt8]) -> (Int, JSONValue) = { environment, _ in
        (200, ["result": ["version": .string(environment["APIDEPLOYER_VERSION"] ?? "")]])
    }

    public init() {}

    public func edit(_ body: (FakeAzureML) -> Void) { lock.withLock { body(self) } }
    /// Tokens, those already issued included, are good for `requests` more ARM requests each
    /// (nil: for ever); then they answer 401 ExpiredAuthenticationToken.
    public func expireTokens(after requests: Int?) {
        lock.withLock {
            tokenRequests = requests
            for token in tokens.keys { tokens[token] = requests ?? Int.max }
        }
    }

    /// The next `count` ARM requests answer 429 with `Retry-After: 3`.
    public func throttle(next count: Int) { lock.withLock { throttleNext = count } }
    /// Every token issued and every scoring key handed out (credentials the tests search for).
    public var credentialsHandedOut: [String] { lock.withLock { Array(tokens.keys) + endpoints.keys.map(Self.key) } }
    public var endpointNames: [String] { lock.withLock { endpoints.keys.sorted() } }
    public func deploymentNames(_ endpoint: String) -> [String] { lock.withLock { (deployments[endpoint] ?? [:]).keys.sorted() } }
    public func traffic(_ endpoint: String) -> JSONValue? { lock.withLock { endpoints[endpoint]?["properties"]?["traffic"] } }
    public var environmentCount: Int { lock.withLock { environments.values.reduce(0) { $0 + $1.count } } }

    public func serve(_ body: (String) async throws -> Void) async throws {
        try await FakeHTTPServer.with({ [self] request in lock.withLock { handle(request) } }, { url in
            lock.withLock { self.url = url }
            try await body(url)
        })
    }

    private var workspacePath: String {
        "/subscriptions/\(subscription)/resourceGroups/\(resourceGroup)/providers/Microsoft.MachineLearningServices/workspaces/\(workspace)"
    }

    private static func armError(_ status: Int, _ code: String, _ message: String, headers: [String: String] = [:]) -> FakeResponse {
        .json(status, ["error": ["code": .string(code), "message": .string(message), "details": []]], headers: headers)
    }

    func handle(_ request: FakeRequest) -> FakeResponse {
        if request.path == "/\(tenant)/oauth2/v2.0/token" { return token(request) }
        if request.path.hasPrefix("/inference/") { return score(request) }
        requests.append("\(request.method) \(request.path)")
        guard request.query["api-version"] != nil else {
            return Self.armError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
        }
        guard let bearer = request.header("Authorization"), bearer.hasPrefix("Bearer "), let uses = tokens[String(bearer.dropFirst(7))] else {
            return Self.armError(401, "InvalidAuthenticationToken", "The access token is invalid.")
        }
        let token = String(bearer.dropFirst(7))
        if uses == 0 { return Self.armError(401, "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current UTC time.") }
        tokens[token] = uses - 1
        if throttleNext > 0 {
            throttleNext -= 1
            throttled += 1
            return Self.armError(429, "TooManyRequests", "The request is being throttled.", headers: ["Retry-After": "3"])
        }
        if let id = request.path.split(separator: "/").last.map(String.init), request.path.contains("/mfeOperation") {
            return poll(id: id, statusResource: request.path.contains("mfeOperationsStatus"))
        }
        guard request.path.hasPrefix(workspacePath) else { return Self.armError(404, "ResourceNotFound", "no such resource \(request.path)") }
        let parts = request.path.dropFirst(workspacePath.count).split(separator: "/").map(String.init)
        switch (request.method, parts.count) {
        case ("GET", 0):
            return .json(200, ["id": .string(workspacePath), "name": .string(workspace), "location": .string(location)])
        case (_, 2) where parts[0] == "onlineEndpoints":
            return endpoint(request, parts[1])
        case ("POST", 3) where parts[0] == "onlineEndpoints" && parts[2] == "listKeys":
            guard endpoints[parts[1]] != nil else { return Self.armError(404, "ResourceNotFound", "endpoint \(parts[1]) not found") }
            return .json(200, ["primaryKey": .string(Self.key(parts[1])), "secondaryKey": .string(Self.key(parts[1]) + "-2")])
        case ("GET", 3) where parts[0] == "onlineEndpoints" && parts[2] == "deployments":
            return .json(200, ["value": .array((deployments[parts[1]] ?? [:]).keys.sorted().map { deployments[parts[1]]![$0]! })])
        case (_, 4) where parts[0] == "onlineEndpoints" && parts[2] == "deployments":
            return deployment(request, endpoint: parts[1], name: parts[3])
        case ("GET", 3) where parts[0] == "environments" && parts[2] == "versions":
            return .json(200, ["value": .array((environments[parts[1]] ?? [:]).keys.sorted().map { environments[parts[1]]![$0]! })])
        case ("PUT", 4) where parts[0] == "environments":
            var body = request.json ?? [:]
            body["name"] = .string(parts[3])
            let created = environments[parts[1]]?[parts[3]] == nil
            environments[parts[1], default: [:]][parts[3]] = body
            return .json(created ? 201 : 200, body)
        case ("DELETE", 4) where parts[0] == "environments":
            return environments[parts[1]]?.removeValue(forKey: parts[3]) == nil ? FakeResponse(status: 204) : FakeResponse(status: 200)
        default:
            return Self.armError(404, "ResourceNotFound", "no such resource \(request.path)")
        }
    }

    private func token(_ request: FakeRequest) -> FakeResponse {
        let form = request.form
        guard form["grant_type"] == "client_credentials", form["scope"] == "https://management.azure.com/.default" else {
            return .json(400, ["error": "invalid_request", "error_description": "AADSTS900144: The request body must contain grant_type and scope."])
        }
        guard form["client_id"] == clientID, form["client_secret"] == clientSecret else {
            return .json(401, ["error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."])
        }
        let token = "eyFake.\(UUID().uuidString)"
        tokens[token] = tokenRequests ?? Int.max
        tokensIssued += 1
        return .json(200, ["token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": .string(token)])
    }

    static func key(_ endpoint: String) -> String { "key-of-\(endpoint)" }

    // MARK: - Operations

    private func startOperation(_ complete: @escaping (FakeAzureML) -> JSONValue?) -> String {
        let id = "oe:\(UUID().uuidString)"
        operations[id] = Operation(pollsLeft: settlePolls, complete: complete)
        return id
    }

    private func asyncHeaders(_ id: String) -> [String: String] {
        let base = "\(url)/subscriptions/\(subscription)/providers/Microsoft.MachineLearningServices/locations/\(location)"
        return ["Azure-AsyncOperation": "\(base)/mfeOperationsStatus/\(id)?api-version=2024-04-01", "x-ms-async-operation-timeout": "PT1H"]
    }

    private func locationHeaders(_ id: String) -> [String: String] {
        let base = "\(url)/subscriptions/\(subscription)/providers/Microsoft.MachineLearningServices/locations/\(location)"
        return ["Location": "\(base)/mfeOperationResults/\(id)?api-version=2024-04-01", "Retry-After": "1"]
    }

    private func poll(id: String, statusResource: Bool) -> FakeResponse {
        guard var operation = operations[id] else { return Self.armError(404, "ResourceNotFound", "operation \(id) not found") }
        if !operation.done {
            operation.pollsLeft -= 1
            if operation.pollsLeft <= 0 {
                operation.done = true
                operation.error = operation.complete(self)
            }
            operations[id] = operation
        }
        if statusResource {
            var body: JSONValue = ["id": .string(id), "name": .string(id), "status": .string(operation.done ? (operation.error == nil ? "Succeeded" : "Failed") : "InProgress")]
            if let error = operation.error { body["error"] = error }
            return .json(200, body)
        }
        if !operation.done { return FakeResponse(status: 202, headers: ["Retry-After": "1"]) }
        if let error = operation.error { return .json(400, ["error": error]) }
        return FakeResponse(status: 200)
    }

    // MARK: - Resources

    private func endpoint(_ request: FakeRequest, _ name: String) -> FakeResponse {
        switch request.method {
        case "GET":
            guard let endpoint = endpoints[name] else { return Self.armError(404, "ResourceNotFound", "endpoint \(name) not found") }
            return .json(200, endpoint)
        case "PUT":
            guard let body = request.json, body["location"]?.stringValue == location else {
                return Self.armError(400, "BadRequest", "location is required and must be the workspace's (\(location))")
            }
            let traffic = body["properties"]?["traffic"]?.objectValue ?? [:]
            let total = traffic.values.compactMap(\.intValue).reduce(0, +)
            if !traffic.isEmpty, total != 100 { return Self.armError(400, "BadRequest", "Traffic values must add up to 100 (got \(total)).") }
            for key in traffic.keys where deployments[name]?[key] == nil {
                return Self.armError(400, "BadRequest", "Traffic refers to deployment \(key), which does not exist.")
            }
            let created = endpoints[name] == nil
            var endpoint = body
            endpoint["id"] = .string("\(workspacePath)/onlineEndpoints/\(name)")
            endpoint["name"] = .string(name)
            endpoint["properties"]?["provisioningState"] = .string(created ? "Creating" : "Updating")
            endpoint["properties"]?["scoringUri"] = .string("\(url)/inference/\(name)/score")
            endpoint["properties"]?["traffic"] = .object(traffic)
            endpoints[name] = endpoint
            let id = startOperation { fake in
                fake.endpoints[name]?["properties"]?["provisioningState"] = "Succeeded"
                return nil
            }
            return .json(created ? 201 : 200, endpoint, headers: asyncHeaders(id))
        case "DELETE":
            guard endpoints[name] != nil else { return FakeResponse(status: 204) }
            endpoints[name]?["properties"]?["provisioningState"] = "Deleting"
            let id = startOperation { fake in
                fake.endpoints[name] = nil
                fake.deployments[name] = nil
                return nil
            }
            return FakeResponse(status: 202, headers: locationHeaders(id))
        default:
            return Self.armError(405, "MethodNotAllowed", request.method)
        }
    }

    private func deployment(_ request: FakeRequest, endpoint: String, name: String) -> FakeResponse {
        guard endpoints[endpoint] != nil else { return Self.armError(404, "ResourceNotFound", "endpoint \(endpoint) not found") }
        switch request.method {
        case "GET":
            guard let deployment = deployments[endpoint]?[name] else { return Self.armError(404, "ResourceNotFound", "deployment \(name) not found") }
            return .json(200, deployment)
        case "PUT":
            guard let body = request.json, body["properties"]?["environmentId"]?.stringValue != nil, body["sku"]?["capacity"]?.intValue != nil else {
                return Self.armError(400, "BadRequest", "environmentId and sku.capacity are required")
            }
            let environmentID = body["properties"]?["environmentId"]?.stringValue ?? ""
            let parts = environmentID.split(separator: "/").map(String.init)
            guard parts.count >= 4, environments[parts[parts.count - 3]]?[parts[parts.count - 1]] != nil else {
                return Self.armError(400, "UserError", "Could not find asset with ID: \(environmentID)")
            }
            let created = deployments[endpoint]?[name] == nil
            var deployment = body
            deployment["name"] = .string(name)
            deployment["properties"]?["provisioningState"] = .string(created ? "Creating" : "Updating")
            deployments[endpoint, default: [:]][name] = deployment
            let version = body["properties"]?["environmentVariables"]?["APIDEPLOYER_VERSION"]?.stringValue ?? ""
            let id = startOperation { fake in
                if fake.failingVersions.contains(version) {
                    fake.deployments[endpoint]?[name]?["properties"]?["provisioningState"] = "Failed"
                    return ["code": "ResourceNotReady", "message": "User container has crashed or terminated: Liveness probe failed: HTTP probe failed with statuscode: 503"]
                }
                fake.deployments[endpoint]?[name]?["properties"]?["provisioningState"] = "Succeeded"
                return nil
            }
            return .json(created ? 201 : 200, deployment, headers: asyncHeaders(id))
        case "DELETE":
            guard deployments[endpoint]?[name] != nil else { return FakeResponse(status: 204) }
            if let percent = endpoints[endpoint]?["properties"]?["traffic"]?[name]?.intValue, percent > 0 {
                return Self.armError(400, "BadRequest", "Deployment \(name) has \(percent)% of the traffic; set it to 0 before deleting it.")
            }
            deployments[endpoint]?[name]?["properties"]?["provisioningState"] = "Deleting"
            let id = startOperation { fake in
                fake.deployments[endpoint]?[name] = nil
                return nil
            }
            return FakeResponse(status: 202, headers: locationHeaders(id))
        default:
            return Self.armError(405, "MethodNotAllowed", request.method)
        }
    }

    private func score(_ request: FakeRequest) -> FakeResponse {
        let name = request.path.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        guard let endpoint = endpoints[name] else { return FakeResponse(status: 404) }
        guard request.header("Authorization") == "Bearer \(Self.key(name))" else { return .json(401, ["message": "Invalid authentication"]) }
        let traffic = (endpoint["properties"]?["traffic"]?.objectValue ?? [:]).sorted { $0.key < $1.key }
        let chosen: String
        if let pinned = request.header("azureml-model-deployment") {
            chosen = pinned
        } else {
            scored += 1
            chosen = WeightedRotation.pick(traffic.map { ($0.key, Double($0.value.intValue ?? 0)) }, count: scored) ?? ""
        }
        guard let deployment = deployments[name]?[chosen], deployment["properties"]?["provisioningState"]?.stringValue == "Succeeded" else {
            return .json(404, ["message": "No valid deployments to route to. Please check that the endpoint has at least one deployment with positive weight values or use a deployment specific header to route."])
        }
        var environment: [String: String] = [:]
        for (key, value) in deployment["properties"]?["environmentVariables"]?.objectValue ?? [:] { environment[key] = value.stringValue }
        let (status, body) = container(environment, request.body)
        return .json(status, body, headers: ["azureml-model-deployment": chosen])
    }
}
