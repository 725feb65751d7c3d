import CloudHTTP
import Crypto
import DeployerModel
import Foundation
import _CryptoExtras

/// Snowflake's SQL API v2 for the statements the Snowpark driver sends, the account's OAuth
/// endpoint and the services' public ingress, behind one URL (reference §6.3): key-pair JWTs
/// are checked (signature, `iss` with the key's fingerprint, `sub`, lifetime) with the required
/// headers; statements are matched strictly; CREATE and ALTER SERVICE answer 202 first and are
/// polled by handle; a resent `requestId` is not run twice; services go `PENDING` → `RUNNING`
/// and upgrade over `settlePolls` `SHOW SERVICES`; the ingress URL is a provisioning text until
/// then; a specification holding a version in `failingVersions` fails its readiness probe (a
/// new service is `FAILED`; an upgrade leaves the previous instances serving); 429 with
/// `Retry-After` and revoked tokens are injected.
public final class FakeSnowpark: @unchecked Sendable {
    struct Service {
        var spec: String
        var servingSpec: String?
        var status: String
        var upgrading: Bool
        var pollsLeft: Int
        var failure: String?
        var host: String?
    }

    public let account = "MYORG-MYACCOUNT"
    public let user = "DEPLOYER"
    public let database = "ML"
    public let schema = "SERVING"
    public let computePool = "SCORING_POOL"
    private let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    private let lock = NSLock()
    private var services: [String: Service] = [:]
    private var pending: [String: JSONValue] = [:]
    private var completed: [String: JSONValue] = [:]
    private var ingressTokens: Set<String> = []
    private var revokedBefore: Int64 = 0
    private var throttleNext = 0
    private var served = 0
    public private(set) var statements: [String] = []
    public private(set) var throttled = 0
    public private(set) var rejectedTokens = 0
    public var settlePolls = 2
    public var failingVersions: Set<String> = []
    public var container: @Sendable (_ version: String, _ features: JSONValue) -> JSONValue = { version, _ in ["version": .string(version)] }

    public init() {}

    public var privateKeyPEM: String { key.pemRepresentation }
    public func edit(_ body: (FakeSnowpark) -> Void) { lock.withLock { body(self) } }
    public func throttle(next count: Int) { lock.withLock { throttleNext = count } }
    /// JWTs issued before `date` are refused from now on (390144), as after a key rotation.
    public func revokeTokens(issuedBefore date: Date) { lock.withLock { revokedBefore = Int64(date.timeIntervalSince1970) } }
    public var serviceNames: [String] { lock.withLock { services.keys.sorted() } }
    public func service(_ name: String) -> (status: String, spec: String)? { lock.withLock { services[name].map { ($0.status, $0.spec) } } }
    public var issuedIngressTokens: [String] { lock.withLock { Array(ingressTokens) } }

    public func serve(_ body: (String) async throws -> Void) async throws {
        try await FakeHTTPServer.with({ [self] request in lock.withLock { handle(request) } }, body)
    }

    func handle(_ request: FakeRequest) -> FakeResponse {
        if request.path.hasPrefix("/ingress/") { return ingress(request) }
        if request.path == "/oauth/token" { return oauth(request) }
        if let refusal = refusal(bearer: request.header("Authorization"), type: request.header("X-Snowflake-Authorization-Token-Type"), agent: request.header("User-Agent")) {
            return refusal
        }
        if throttleNext > 0 {
            throttleNext -= 1
            throttled += 1
            return .json(429, ["code": "000429", "message": "Too many requests. Please retry later."], headers: ["Retry-After": "3"])
        }
        if request.method == "GET", request.path.hasPrefix("/api/v2/statements/") {
            let handle = String(request.path.dropFirst("/api/v2/statements/".count))
            guard let result = pending.removeValue(forKey: handle) else { return .json(404, ["code": "000404", "message": "statement handle not found"]) }
            return .json(result["code"]?.stringValue == "090001" ? 200 : 422, result)
        }
        guard request.method == "POST", request.path == "/api/v2/statements", let requestID = request.query["requestId"], let body = request.json,
            let statement = body["statement"]?.stringValue
        else { return .json(400, ["code": "000400", "message": "a statement and a requestId are required"]) }
        if let earlier = completed[requestID] { return .json(200, earlier) }
        guard body["database"]?.stringValue == database, body["schema"]?.stringValue == schema, body["warehouse"] != nil, body["role"] != nil else {
            return .json(422, ["code": "090105", "message": "Cannot perform operation. This session does not have a current database or schema."])
        }
        statements.append(statement)
        let handle = UUID().uuidString.lowercased()
        let result = execute(statement, handle: handle)
        if result["code"]?.stringValue != "090001" { return .json(422, result) }
        completed[requestID] = result
        if statement.hasPrefix("CREATE SERVICE") || statement.hasPrefix("ALTER SERVICE") {
            pending[handle] = result
            return .json(202, [
                "code": "333334", "message": "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.",
                "statementHandle": .string(handle), "statementStatusUrl": .string("/api/v2/statements/\(handle)"),
            ])
        }
        return .json(200, result)
    }

    /// Why a SQL API request's key-pair JWT is refused; nil when it is good.
    private func refusal(bearer: String?, type: String?, agent: String?) -> FakeResponse? {
        guard type == "KEYPAIR_JWT", agent?.isEmpty == false else {
            return .json(400, ["code": "391903", "message": "The User-Agent and X-Snowflake-Authorization-Token-Type headers are required."])
        }
        guard let bearer, bearer.hasPrefix("Bearer "), verified(String(bearer.dropFirst(7))) != nil else {
            rejectedTokens += 1
            return .json(401, ["code": "390144", "message": .string("JWT token is invalid. [\(UUID().uuidString)]")])
        }
        return nil
    }

    /// The claims of a JWT signed by the user's key, for the user, not expired nor revoked.
    private func verified(_ token: String) -> JSONValue? {
        let parts = token.split(separator: ".").map(String.init)
        guard parts.count == 3, let signature = Base64.decodeURLSafe(parts[2]), let bytes = Base64.decodeURLSafe(parts[1]), let claims = try? JSONValue.parse(bytes),
            key.publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: Array("\(parts[0]).\(parts[1])".utf8)), padding: .insecurePKCS1v1_5),
            let fingerprint = try? JWTSigner(privateKeyPEM: key.pemRepresentation).publicKeyFingerprint
        else { return nil }
        let issued = claims["iat"]?.intValue ?? 0
        let expires = claims["exp"]?.intValue ?? 0
        let now = Int64(Date().timeIntervalSince1970)
        guard claims["iss"]?.stringValue == "\(account).\(user).\(fingerprint)", claims["sub"]?.stringValue == "\(account).\(user)", expires > now,
            expires - issued <= 3600, issued >= revokedBefore
        else { return nil }
        return claims
    }

    // MARK: - Statements

    private func resultSet(_ columns: [String], _ rows: [[String?]], handle: String) -> JSONValue {
        [
            "resultSetMetaData": [
                "numRows": .int(Int64(rows.count)), "format": "jsonv2",
                "rowType": .array(columns.map { ["name": .string($0), "type": "text", "nullable": true] }),
            ],
            "data": .array(rows.map { .array($0.map { $0.map(JSONValue.string) ?? .null }) }),
            "code": "090001", "sqlState": "00000", "statementHandle": .string(handle), "message": "Statement executed successfully.",
        ]
    }

    private func failure(_ code: String, _ message: String, handle: String) -> JSONValue {
        ["code": .string(code), "message": .string(message), "sqlState": "02000", "statementHandle": .string(handle)]
    }

    private func execute(_ statement: String, handle: String) -> JSONValue {
        let qualified = "\(database).\(schema)."
        if let match = statement.wholeMatch(of: /SHOW COMPUTE POOLS LIKE '([A-Z0-9_]+)'/) {
            return resultSet(["name", "state"], match.1 == computePool ? [[computePool, "ACTIVE"]] : [], handle: handle)
        }
        if let match = statement.wholeMatch(of: /SHOW SERVICES LIKE '([A-Z0-9_]+)' IN SCHEMA ([A-Z0-9_]+)\.([A-Z0-9_]+)/) {
            guard match.2 == database, match.3 == schema, var service = services[String(match.1)] else {
                return resultSet(["name", "status", "is_upgrading"], [], handle: handle)
            }
            tick(&service)
            services[String(match.1)] = service
            return resultSet(["name", "status", "is_upgrading", "compute_pool"], [[String(match.1), service.status, service.upgrading ? "true" : "false", computePool]], handle: handle)
        }
        if let match = statement.wholeMatch(of: /DESCRIBE SERVICE ([A-Z0-9_.]+)/) {
            guard match.1.hasPrefix(qualified), let service = services[String(match.1.dropFirst(qualified.count))] else { return missing(String(match.1), handle) }
            return resultSet(["name", "status", "spec"], [[String(match.1.dropFirst(qualified.count)), service.status, service.spec]], handle: handle)
        }
        if let match = statement.wholeMatch(of: /SHOW SERVICE CONTAINERS IN SERVICE ([A-Z0-9_.]+)/) {
            guard match.1.hasPrefix(qualified), let service = services[String(match.1.dropFirst(qualified.count))] else { return missing(String(match.1), handle) }
            var rows: [[String?]] = []
            if service.servingSpec != nil { rows.append([service.status, "0", "api-node", "READY", "Running"]) }
            if let failure = service.failure { rows.append([service.status, "1", "api-node", "FAILED", failure]) }
            if rows.isEmpty { rows.append([service.status, "0", "api-node", "PENDING", "Waiting to start"]) }
            return resultSet(["service_status", "instance_id", "container_name", "status", "message"], rows, handle: handle)
        }
        if let match = statement.wholeMatch(of: /SHOW ENDPOINTS IN SERVICE ([A-Z0-9_.]+)/) {
            guard match.1.hasPrefix(qualified), let service = services[String(match.1.dropFirst(qualified.count))] else { return missing(String(match.1), handle) }
            let ingress = service.host ?? "Endpoints provisioning in progress... check back in a few minutes"
            return resultSet(["name", "port", "protocol", "is_public", "ingress_url"], [["api", "8080", "HTTP", "true", ingress]], handle: handle)
        }
        if let match = statement.wholeMatch(of: /DROP SERVICE IF EXISTS ([A-Z0-9_.]+)/) {
            services[String(match.1.dropFirst(qualified.count))] = nil
            return resultSet(["status"], [["\(match.1) successfully dropped."]], handle: handle)
        }
        if let match = statement.wholeMatch(
            of: /CREATE SERVICE IF NOT EXISTS ([A-Z0-9_.]+)\n  IN COMPUTE POOL ([A-Z0-9_]+)\n  FROM SPECIFICATION \$\$\n((?s).*)\$\$\n  MIN_INSTANCES = 1\n  MAX_INSTANCES = 1\n  AUTO_RESUME = TRUE\n  COMMENT = 'managed by apideployer'/)
        {
            guard match.1.hasPrefix(qualified), match.2 == computePool else { return failure("002003", "SQL compilation error: Compute pool '\(match.2)' does not exist or not authorized.", handle: handle) }
            let name = String(match.1.dropFirst(qualified.count))
            guard services[name] == nil else { return resultSet(["status"], [["\(name) already exists, statement succeeded."]], handle: handle) }
            guard validSpecification(String(match.3)) else { return failure("001003", "SQL compilation error: invalid service specification", handle: handle) }
            services[name] = Service(spec: String(match.3), servingSpec: nil, status: "PENDING", upgrading: false, pollsLeft: settlePolls, failure: nil, host: nil)
            return resultSet(["status"], [["Service \(name) successfully created."]], handle: handle)
        }
        if let match = statement.wholeMatch(of: /ALTER SERVICE ([A-Z0-9_.]+) FROM SPECIFICATION \$\$\n((?s).*)\$\$/) {
            let name = String(match.1.dropFirst(qualified.count))
            guard match.1.hasPrefix(qualified), var service = services[name] else { return missing(String(match.1), handle) }
            guard validSpecification(String(match.2)) else { return failure("001003", "SQL compilation error: invalid service specification", handle: handle) }
            service.spec = String(match.2)
            service.upgrading = true
            service.pollsLeft = settlePolls
            services[name] = service
            return resultSet(["status"], [["Statement executed successfully."]], handle: handle)
        }
        return failure("001003", "SQL compilation error: syntax error line 1 at position 0 unexpected '\(statement.prefix(20))'.", handle: handle)
    }

    private func missing(_ name: String, _ handle: String) -> JSONValue {
        failure("002003", "SQL compilation error: Service '\(name)' does not exist or not authorized.", handle: handle)
    }

    /// The versions and weights of a specification.
    public static func versions(_ spec: String) -> [(version: String, weight: Int)] {
        guard let document = try? JSONValue.parseYAMLDocuments(spec).first,
            let text = document["spec"]?["containers"]?.arrayValue?.first?["env"]?["APIDEPLOYER_GENERATIONS"]?.stringValue,
            let list = try? JSONValue.parse(Array(text.utf8))
        else { return [] }
        return (list.arrayValue ?? []).compactMap { entry in entry["version"]?.stringValue.map { ($0, Int(entry["weight"]?.intValue ?? 0)) } }
    }

    private func validSpecification(_ spec: String) -> Bool {
        guard let document = try? JSONValue.parseYAMLDocuments(spec).first, let container = document["spec"]?["containers"]?.arrayValue?.first else { return false }
        return container["name"]?.stringValue != nil && container["image"]?.stringValue != nil
            && document["spec"]?["endpoints"]?.arrayValue?.first?["public"]?.boolValue == true
    }

    /// One `SHOW SERVICES` of time for a service: a pending creation or upgrade settles.
    private func tick(_ service: inout Service) {
        guard service.status == "PENDING" || service.upgrading else { return }
        service.pollsLeft -= 1
        guard service.pollsLeft <= 0 else { return }
        service.upgrading = false
        if let bad = Self.versions(service.spec).first(where: { failingVersions.contains($0.version) }) {
            service.failure = "Readiness probe failed: GET /health answered 503 (package of \(bad.version) could not be loaded)"
            service.status = service.servingSpec == nil ? "FAILED" : "RUNNING"
        } else {
            service.failure = nil
            service.servingSpec = service.spec
            service.status = "RUNNING"
            service.host = service.host ?? "\(UUID().uuidString.prefix(8).lowercased())-myorg-myaccount.snowflakecomputing.app"
        }
    }

    // MARK: - Ingress

    private func oauth(_ request: FakeRequest) -> FakeResponse {
        let form = request.form
        guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", let scope = form["scope"],
            services.values.contains(where: { $0.host == scope }), let assertion = form["assertion"], verified(assertion) != nil
        else { return FakeResponse(status: 400, body: Array("invalid_grant".utf8)) }
        let token = "ver:1-hint:\(UUID().uuidString)"
        ingressTokens.insert(token)
        return FakeResponse(status: 200, headers: ["Content-Type": "text/plain"], body: Array(token.utf8))
    }

    private func ingress(_ request: FakeRequest) -> FakeResponse {
        let host = request.path.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        guard let service = services.values.first(where: { $0.host == host }), let spec = service.servingSpec else { return FakeResponse(status: 404) }
        guard let header = request.header("Authorization"), let token = header.firstMatch(of: /Snowflake Token="([^"]+)"/), ingressTokens.contains(String(token.1)) else {
            return FakeResponse(status: 302, headers: ["Location": "https://app.snowflake.com/login"])
        }
        let versions = Self.versions(spec)
        let chosen: String?
        if let forced = request.header("X-Forced-Generation") {
            chosen = versions.contains { $0.version == forced } ? forced : nil
        } else {
            served += 1
            chosen = WeightedRotation.pick(versions.map { ($0.version, Double($0.weight)) }, count: served)
        }
        guard let chosen, let rows = request.json?["data"]?.arrayValue else { return .json(400, ["message": "no such generation, or not {\"data\": [[row, features]]}"]) }
        return .json(200, ["data": .array(rows.map { [$0.arrayValue?.first ?? 0, container(chosen, $0.arrayValue?.last ?? .null)] })])
    }
}
