import CloudHTTP
import DeployerModel
import Foundation

/// A SageMaker control plane, runtime and S3 bucket store behind one URL, for what moto does
/// not do (reference §6.3): time passes in `DescribeEndpoint` calls (`Creating`, `Updating` and
/// `Deleting` last `settlePolls` of them), `UpdateEndpoint` exists, a model whose version is in
/// `failingVersions` fails its health check (a new endpoint goes `Failed`; an update rolls back
/// to the previous configuration, `InService` with a `FailureReason`), duplicates are refused,
/// throttling is injected, and every request must carry a valid SigV4 signature of the known
/// user. The runtime answers from the models' environments through `container`.
public final class FakeSageMaker: @unchecked Sendable {
    public struct Endpoint: Sendable {
        public var status: String
        public var config: String
        /// The configuration in effect before an update (restored when the update fails).
        public var previousConfig: String?
        public var failureReason: String?
        public var pollsLeft: Int
        public var tags: [String: String]
    }

    public let accessKeyID = "AKIDFAKESAGEMAKER"
    public let secret = "fake-sagemaker-secret-\(UUID().uuidString)"
    public let account = "123456789012"
    private let lock = NSLock()
    private var models: [String: JSONValue] = [:]
    private var configs: [String: JSONValue] = [:]
    private var endpoints: [String: Endpoint] = [:]
    private var objects: [String: [UInt8]] = [:]
    private var buckets: Set<String>
    private var throttleNext = 0
    private var invocationCount = 0
    public private(set) var operations: [String] = []
    public var settlePolls: Int
    public var failingVersions: Set<String> = []
    /// A deployed model's answer to an invocation: its environment and the body.
    public var container: @Sendable (_ environment: [String: String], _ body: [UInt8]) -> (Int, JSONValue) = { environment, _ in
        (200, ["result": ["version": .string(environment["APIDEPLOYER_VERSION"] ?? "")]])
    }

    public init(buckets: Set<String>, settlePolls: Int = 2) {
        self.buckets = buckets
        self.settlePolls = settlePolls
    }

    public func edit(_ body: (FakeSageMaker) -> Void) { lock.withLock { body(self) } }
    public func endpoint(_ name: String) -> Endpoint? { lock.withLock { endpoints[name] } }
    public var endpointNames: [String] { lock.withLock { endpoints.keys.sorted() } }
    public var modelNames: [String] { lock.withLock { models.keys.sorted() } }
    public var configNames: [String] { lock.withLock { configs.keys.sorted() } }
    public var objectKeys: [String] { lock.withLock { objects.keys.sorted() } }
    public func count(_ operation: String) -> Int { lock.withLock { operations.filter { $0 == operation }.count } }
    /// The next `count` control-plane calls answer `ThrottlingException`.
    public func throttle(next count: Int) { lock.withLock { throttleNext = count } }

    /// Runs `body` with the fake on a loopback port.
    public func serve(_ body: (String) async throws -> Void) async throws {
        try await FakeHTTPServer.with({ [self] request in handle(request) }, body)
    }

    func handle(_ request: FakeRequest) -> FakeResponse {
        guard let service = verifiedService(request) else {
            return .json(403, ["__type": "SignatureDoesNotMatch", "message": "The request signature we calculated does not match the signature you provided."])
        }
        return lock.withLock {
            if service == "s3" { return s3(request) }
            if request.path.hasSuffix("/invocations") { return invoke(request) }
            let operation = request.header("X-Amz-Target").map { String($0.dropFirst("SageMaker.".count)) } ?? ""
            operations.append(operation)
            if throttleNext > 0 {
                throttleNext -= 1
                return .json(400, ["__type": "ThrottlingException", "message": "Rate exceeded"], headers: ["Content-Type": "application/x-amz-json-1.1"])
            }
            do {
                return .json(200, try control(operation, request.json ?? [:]), headers: ["Content-Type": "application/x-amz-json-1.1"])
            } catch let error as Failure {
                return .json(400, ["__type": .string(error.code), "message": .string(error.message)], headers: ["Content-Type": "application/x-amz-json-1.1"])
            } catch {
                return .json(500, ["__type": "InternalFailure", "message": .string("\(error)")])
            }
        }
    }

    struct Failure: Error {
        let code: String
        let message: String
        static func validation(_ message: String) -> Failure { Failure(code: "ValidationException", message: message) }
    }

    private func arn(_ kind: String, _ name: String) -> String { "arn:aws:sagemaker:us-east-1:\(account):\(kind)/\(name)" }

    // MARK: - Control plane

    private func control(_ operation: String, _ input: JSONValue) throws -> JSONValue {
        let string = { (name: String) throws -> String in
            guard let value = input[name]?.stringValue, !value.isEmpty else { throw Failure.validation("1 validation error detected: Value null at '\(name)'") }
            return value
        }
        switch operation {
        case "ListEndpoints":
            return ["Endpoints": .array(endpoints.keys.sorted().map { ["EndpointName": .string($0), "EndpointStatus": .string(endpoints[$0]!.status)] })]
        case "CreateModel":
            let name = try string("ModelName")
            guard models[name] == nil else { throw Failure.validation("Cannot create already existing model \"\(arn("model", name))\".") }
            _ = try string("ExecutionRoleArn")
            guard input["PrimaryContainer"]?["Image"]?.stringValue != nil else { throw Failure.validation("PrimaryContainer.Image is required") }
            models[name] = input
            return ["ModelArn": .string(arn("model", name))]
        case "DescribeModel":
            let name = try string("ModelName")
            guard var model = models[name] else { throw Failure.validation("Could not find model \"\(arn("model", name))\".") }
            model["ModelArn"] = .string(arn("model", name))
            return model
        case "ListModels":
            let filter = input["NameContains"]?.stringValue ?? ""
            return ["Models": .array(models.keys.sorted().filter { filter.isEmpty || $0.contains(filter) }.map { ["ModelName": .string($0)] })]
        case "DeleteModel":
            let name = try string("ModelName")
            guard models.removeValue(forKey: name) != nil else { throw Failure.validation("Could not find model \"\(arn("model", name))\".") }
            return [:]
        case "CreateEndpointConfig":
            let name = try string("EndpointConfigName")
            guard configs[name] == nil else { throw Failure.validation("Cannot create already existing endpoint configuration \"\(arn("endpoint-config", name))\".") }
            for variant in input["ProductionVariants"]?.arrayValue ?? [] where models[variant["ModelName"]?.stringValue ?? ""] == nil {
                throw Failure.validation("Could not find model \"\(arn("model", variant["ModelName"]?.stringValue ?? ""))\".")
            }
            configs[name] = input
            return ["EndpointConfigArn": .string(arn("endpoint-config", name))]
        case "DescribeEndpointConfig":
            let name = try string("EndpointConfigName")
            guard let config = configs[name] else { throw Failure.validation("Could not find endpoint configuration \"\(arn("endpoint-config", name))\".") }
            return config
        case "ListEndpointConfigs":
            let filter = input["NameContains"]?.stringValue ?? ""
            return ["EndpointConfigs": .array(configs.keys.sorted().filter { filter.isEmpty || $0.contains(filter) }.map { ["EndpointConfigName": .string($0)] })]
        case "DeleteEndpointConfig":
            let name = try string("EndpointConfigName")
            guard configs.removeValue(forKey: name) != nil else { throw Failure.validation("Could not find endpoint configuration \"\(arn("endpoint-config", name))\".") }
            return [:]
        case "CreateEndpoint":
            let name = try string("EndpointName")
            let config = try string("EndpointConfigName")
            guard endpoints[name] == nil else { throw Failure.validation("Cannot create already existing endpoint \"\(arn("endpoint", name))\".") }
            guard configs[config] != nil else { throw Failure.validation("Could not find endpoint configuration \"\(arn("endpoint-config", config))\".") }
            var tags: [String: String] = [:]
            for tag in input["Tags"]?.arrayValue ?? [] { tags[tag["Key"]?.stringValue ?? ""] = tag["Value"]?.stringValue }
            endpoints[name] = Endpoint(status: "Creating", config: config, previousConfig: nil, failureReason: nil, pollsLeft: settlePolls, tags: tags)
            return ["EndpointArn": .string(arn("endpoint", name))]
        case "UpdateEndpoint":
            let name = try string("EndpointName")
            let config = try string("EndpointConfigName")
            guard var endpoint = endpoints[name] else { throw Failure.validation("Could not find endpoint \"\(arn("endpoint", name))\".") }
            guard endpoint.status == "InService" else { throw Failure.validation("Cannot update in-progress endpoint \"\(arn("endpoint", name))\".") }
            guard configs[config] != nil else { throw Failure.validation("Could not find endpoint configuration \"\(arn("endpoint-config", config))\".") }
            endpoint.previousConfig = endpoint.config
            endpoint.config = config
            endpoint.status = "Updating"
            endpoint.pollsLeft = settlePolls
            endpoints[name] = endpoint
            return ["EndpointArn": .string(arn("endpoint", name))]
        case "DescribeEndpoint":
            let name = try string("EndpointName")
            guard var endpoint = endpoints[name] else { throw Failure.validation("Could not find endpoint \"\(arn("endpoint", name))\".") }
            if Self.transitional(endpoint.status) {
                endpoint.pollsLeft -= 1
                if endpoint.pollsLeft <= 0 {
                    guard settle(&endpoint) else {
                        endpoints[name] = nil
                        throw Failure.validation("Could not find endpoint \"\(arn("endpoint", name))\".")
                    }
                }
                endpoints[name] = endpoint
            }
            var answer: JSONValue = [
                "EndpointName": .string(name), "EndpointArn": .string(arn("endpoint", name)), "EndpointConfigName": .string(endpoint.config),
                "EndpointStatus": .string(endpoint.status), "CreationTime": 1_795_867_248.228, "LastModifiedTime": 1_795_867_248.228,
            ]
            if let reason = endpoint.failureReason { answer["FailureReason"] = .string(reason) }
            return answer
        case "DeleteEndpoint":
            let name = try string("EndpointName")
            guard var endpoint = endpoints[name] else { throw Failure.validation("Could not find endpoint \"\(arn("endpoint", name))\".") }
            endpoint.status = "Deleting"
            endpoint.pollsLeft = settlePolls
            endpoints[name] = endpoint
            return [:]
        case "AddTags":
            let name = try string("ResourceArn").split(separator: "/").last.map(String.init) ?? ""
            guard endpoints[name] != nil else { throw Failure(code: "InternalFailure", message: "no such resource") }
            for tag in input["Tags"]?.arrayValue ?? [] { endpoints[name]?.tags[tag["Key"]?.stringValue ?? ""] = tag["Value"]?.stringValue }
            return ["Tags": input["Tags"] ?? []]
        case "ListTags":
            let name = try string("ResourceArn").split(separator: "/").last.map(String.init) ?? ""
            let tags = endpoints[name]?.tags ?? [:]
            return ["Tags": .array(tags.keys.sorted().map { ["Key": .string($0), "Value": .string(tags[$0]!)] })]
        default:
            throw Failure(code: "UnknownOperationException", message: "\(operation) is not supported by the fake")
        }
    }

    static func transitional(_ status: String) -> Bool { ["Creating", "Updating", "Deleting"].contains(status) }

    /// Ends a transition; false when the endpoint is gone (deleted).
    private func settle(_ endpoint: inout Endpoint) -> Bool {
        switch endpoint.status {
        case "Deleting":
            return false
        case "Creating":
            if let failing = failingVariant(endpoint.config) {
                endpoint.status = "Failed"
                endpoint.failureReason = "The primary container for production variant \(failing) did not pass the ping health check. Please check CloudWatch logs for this endpoint."
            } else {
                endpoint.status = "InService"
            }
        default:
            if let failing = failingVariant(endpoint.config) {
                endpoint.config = endpoint.previousConfig ?? endpoint.config
                endpoint.failureReason = "The primary container for production variant \(failing) did not pass the ping health check. Please check CloudWatch logs for this endpoint."
            } else {
                endpoint.failureReason = nil
            }
            endpoint.status = "InService"
        }
        return true
    }

    private func failingVariant(_ config: String) -> String? {
        for variant in configs[config]?["ProductionVariants"]?.arrayValue ?? [] {
            let model = models[variant["ModelName"]?.stringValue ?? ""]
            if let version = model?["PrimaryContainer"]?["Environment"]?["APIDEPLOYER_VERSION"]?.stringValue, failingVersions.contains(version) {
                return variant["VariantName"]?.stringValue ?? ""
            }
        }
        return nil
    }

    // MARK: - Runtime

    private func invoke(_ request: FakeRequest) -> FakeResponse {
        let name = request.path.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        guard let endpoint = endpoints[name], endpoint.status == "InService" || endpoint.status == "Updating" else {
            return .json(400, ["__type": "ValidationError", "message": .string("Endpoint \(name) of account \(account) not found.")])
        }
        let variants = configs[endpoint.config]?["ProductionVariants"]?.arrayValue ?? []
        let chosen: JSONValue?
        if let target = request.header("X-Amzn-SageMaker-Target-Variant") {
            chosen = variants.first { $0["VariantName"]?.stringValue == target }
            if chosen == nil { return .json(400, ["__type": "ValidationError", "message": .string("Variant \(target) not found for endpoint \(name)")]) }
        } else {
            invocationCount += 1
            chosen = WeightedRotation.pick(variants.map { ($0, $0["InitialVariantWeight"]?.doubleValue ?? 1) }, count: invocationCount) ?? variants.first
        }
        let model = models[chosen?["ModelName"]?.stringValue ?? ""]
        var environment: [String: String] = [:]
        for (key, value) in model?["PrimaryContainer"]?["Environment"]?.objectValue ?? [:] { environment[key] = value.stringValue }
        let (status, body) = container(environment, request.body)
        guard (200..<300).contains(status) else {
            return .json(424, ["__type": "ModelError", "message": .string("Received client error (\(status)) from primary"), "OriginalStatusCode": .int(Int64(status))])
        }
        return .json(200, body, headers: ["x-Amzn-Invoked-Production-Variant": chosen?["VariantName"]?.stringValue ?? ""])
    }

    // MARK: - S3

    private func s3(_ request: FakeRequest) -> FakeResponse {
        let parts = request.path.split(separator: "/", maxSplits: 1).map(String.init)
        guard let bucket = parts.first, buckets.contains(bucket) else {
            return FakeResponse(status: 404, body: Array("<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>".utf8))
        }
        let key = (parts.count > 1 ? parts[1] : "").removingPercentEncoding ?? ""
        switch request.method {
        case "PUT":
            objects["\(bucket)/\(key)"] = request.body
            return FakeResponse(status: 200, headers: ["ETag": "\"fake\""])
        case "DELETE":
            objects["\(bucket)/\(key)"] = nil
            return FakeResponse(status: 204)
        default:
            guard let bytes = objects["\(bucket)/\(key)"] else {
                return FakeResponse(status: 404, body: Array("<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>".utf8))
            }
            return FakeResponse(status: 200, body: bytes)
        }
    }

    /// The SigV4 service of a request whose signature is the known user's; nil otherwise.
    private func verifiedService(_ request: FakeRequest) -> String? {
        guard let authorization = request.header("Authorization"), let date = request.header("X-Amz-Date"),
            let credential = authorization.firstMatch(of: /Credential=([^\/]+)\/(\d{8})\/([^\/]+)\/([^\/]+)\/aws4_request/),
            String(credential.1) == accessKeyID, let signedHeaders = authorization.firstMatch(of: /SignedHeaders=([^,]+)/),
            let stamp = SigV4Signer.date(fromTimestamp: date)
        else { return nil }
        let service = String(credential.4)
        let added: Set<String> = ["host", "x-amz-date", "x-amz-security-token"]
        let headers = signedHeaders.1.split(separator: ";").map(String.init).filter { !added.contains($0) }.compactMap { name in
            request.header(name).map { (name: name, value: $0) }
        }
        let signer = SigV4Signer(
            credentials: SigV4Signer.Credentials(accessKeyID: accessKeyID, secretAccessKey: secret), region: String(credential.3), service: service)
        let expected = signer.sign(
            SigV4Signer.Request(method: request.method, host: request.header("Host") ?? "", path: request.path, headers: headers, payload: request.body), at: stamp)
        return expected.last?.value == authorization ? service : nil
    }
}
