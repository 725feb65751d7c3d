import AsyncHTTPClient
import CloudHTTP
import DeployerCore
import DeployerModel
import Foundation
import NIOCore

/// The driver of `snowpark` infrastructures: one Snowpark Container Services service per
/// service, in the infrastructure's compute pool, through the SQL API. A service runs one
/// specification, so every version and its weight travel in it: the API node container gets
/// them in `APIDEPLOYER_GENERATIONS` (version, package URL, sha256, weight) and splits traffic
/// itself, as on static nodes. Staging adds a version at weight 0, activation sets the weights,
/// both with `ALTER SERVICE … FROM SPECIFICATION` (a rolling upgrade: the running instances keep
/// serving until the new ones are ready). Readiness: service `RUNNING`, every container
/// `READY`, not upgrading, and a public ingress host. Queries to one version carry the node's
/// `X-Forced-Generation` header. With `endpointOverride`, the SQL API, the OAuth endpoint and
/// the ingress (`{override}/ingress/{host}/`) are all reached at that one base URL (tests).
public struct SnowparkDriver: InfrastructureDriver {
    static let generationsVariable = "APIDEPLOYER_GENERATIONS"

    let session: PlatformSession

    public init(
        http: HTTPClient, now: @escaping @Sendable () -> Date = Date.init,
        pause: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        session = PlatformSession(http: http, now: now, pause: pause)
    }

    public func targetNames(of infrastructure: ResolvedInfrastructure) -> [String] {
        guard case .snowpark(let block) = infrastructure.spec.target else { return [] }
        return [block.computePool]
    }

    public func probe(_ infrastructure: ResolvedInfrastructure) async -> [TargetProbe] {
        guard case .snowpark(let block) = infrastructure.spec.target else { return [] }
        do {
            let (_, sql, _) = try connection(infrastructure)
            guard let pool = try await sql.run("SHOW COMPUTE POOLS LIKE '\(block.computePool)'").first else {
                return [TargetProbe(name: block.computePool, url: nil, healthy: false, message: "compute pool \(block.computePool) does not exist")]
            }
            let state = (pool["state"] ?? nil) ?? "unknown"
            let usable = ["ACTIVE", "IDLE", "STARTING", "RESIZING", "SUSPENDED"].contains(state)
            return [TargetProbe(name: block.computePool, url: nil, healthy: usable, message: "compute pool \(block.computePool) is \(state)")]
        } catch {
            return [TargetProbe(name: block.computePool, url: nil, healthy: false, message: "\(error)")]
        }
    }

    public func observe(service: String, on infrastructure: ResolvedInfrastructure) async -> [TargetObservation] {
        guard case .snowpark(let block) = infrastructure.spec.target else { return [] }
        do {
            let (_, sql, qualified) = try connection(infrastructure)
            let state = try await SnowparkServiceState.read(Self.serviceName(service, infrastructure), qualified: qualified(Self.serviceName(service, infrastructure)), block, sql)
            return [state.observation(target: block.computePool)]
        } catch {
            return [TargetObservation(name: block.computePool, url: nil, reachable: false, message: "\(error)", service: nil)]
        }
    }

    public func apply(_ change: TargetChange, service: String, target: String, on infrastructure: ResolvedInfrastructure) async throws {
        if let refusal = PlatformChanges.refusal(change, platform: "Snowpark Container Services") { throw refusal }
        let (block, sql, qualified) = try connection(infrastructure)
        let name = Self.serviceName(service, infrastructure)
        switch change {
        case .importGeneration(let version, let package):
            guard let url = package.url else {
                throw DriverError("Snowpark containers download their package when they start: give version \(version) a package.url", isPermanent: true)
            }
            let state = try await SnowparkServiceState.read(name, qualified: qualified(name), block, sql)
            var generations = state.generations.filter { $0.version != version }
            generations.append(PlatformGeneration(version: version, packageURL: url, sha256: package.sha256, weight: 0))
            try await write(generations, service: service, name: name, exists: state.exists, block, sql, qualified(name))
        case .setMapping(let mapping):
            if let refusal = PlatformChanges.refusingHashSplit(mapping, platform: "Snowpark Container Services") { throw refusal }
            let state = try await SnowparkServiceState.read(name, qualified: qualified(name), block, sql)
            let weights = Dictionary(uniqueKeysWithValues: mapping.entries.map { ($0.version, $0.weight) })
            for version in weights.keys where !state.generations.contains(where: { $0.version == version }) {
                throw DriverError("\(version) is not staged in service \(name) yet")
            }
            let generations = state.generations.map { generation in
                var weighted = generation
                weighted.weight = weights[generation.version] ?? 0
                return weighted
            }
            try await write(generations, service: service, name: name, exists: state.exists, block, sql, qualified(name))
        case .removeGeneration(let version):
            let state = try await SnowparkServiceState.read(name, qualified: qualified(name), block, sql)
            guard state.generations.contains(where: { $0.version == version }) else { return }
            try await write(state.generations.filter { $0.version != version }, service: service, name: name, exists: state.exists, block, sql, qualified(name))
        case .deleteService:
            _ = try await sql.run("DROP SERVICE IF EXISTS \(qualified(name))")
        default:
            return
        }
    }

    public func query(service: String, _ query: PublicQuery, target: String, on infrastructure: ResolvedInfrastructure) async throws -> QueryAnswer {
        let (block, sql, qualified) = try connection(infrastructure)
        let name = Self.serviceName(service, infrastructure)
        let state = try await SnowparkServiceState.read(name, qualified: qualified(name), block, sql)
        guard let host = state.ingressHost else { throw DriverError("service \(name) has no public endpoint yet") }
        let token = try await ingressToken(host: host, infrastructure)
        var request = HTTPClientRequest(url: block.endpointOverride.map { "\($0)/ingress/\(host)/" } ?? "https://\(host)/")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Snowflake Token=\"\(token)\"")
        request.headers.add(name: "Content-Type", value: "application/json")
        if let version = query.forcedGeneration { request.headers.add(name: "X-Forced-Generation", value: version) }
        request.body = .bytes(ByteBuffer(bytes: JSONValue.object(["data": [[0, query.body["features"] ?? query.body]]]).serialized()))
        let response = try await session.http.execute(request, timeout: .seconds(60))
        let body = (try? JSONValue.parse(Array(try await response.body.collect(upTo: 16 * 1024 * 1024).readableBytesView))) ?? .null
        guard response.status.code == 200, let result = body["data"]?.arrayValue?.first?.arrayValue?.last else {
            return QueryAnswer(status: Int(response.status.code), body: ["message": body["message"] ?? .string("no result")])
        }
        return QueryAnswer(status: 200, body: ["result": result])
    }

    // MARK: - Steps

    /// Creates the service, or replaces its specification, with `generations`.
    private func write(
        _ generations: [PlatformGeneration], service: String, name: String, exists: Bool, _ block: SnowparkTarget, _ sql: SnowflakeSQL, _ qualified: String
    ) async throws {
        let specification = try Self.specification(generations, service: service, block)
        if exists {
            _ = try await sql.run("ALTER SERVICE \(qualified) FROM SPECIFICATION $$\n\(specification)$$")
        } else {
            _ = try await sql.run(
                "CREATE SERVICE IF NOT EXISTS \(qualified)\n  IN COMPUTE POOL \(block.computePool)\n  FROM SPECIFICATION $$\n\(specification)$$\n"
                    + "  MIN_INSTANCES = 1\n  MAX_INSTANCES = 1\n  AUTO_RESUME = TRUE\n  COMMENT = 'managed by apideployer'")
        }
    }

    /// The service specification (YAML): the API node container with the generations, its
    /// readiness probe, and one public HTTP endpoint.
    static func specification(_ generations: [PlatformGeneration], service: String, _ block: SnowparkTarget) throws -> String {
        let list = JSONValue.array(generations.sorted { $0.version < $1.version }.map(\.json))
        let text = String(decoding: list.serialized(), as: UTF8.self)
        guard !text.contains("$$"), !block.image.contains("$$") else { throw DriverError("a package URL or the image contains \"$$\"", isPermanent: true) }
        let spec: JSONValue = [
            "spec": [
                "containers": [[
                    "name": "api-node", "image": .string(block.image),
                    "env": [
                        "APIDEPLOYER_SERVICE": .string(service), "APIDEPLOYER_PLATFORM": "snowpark", "APINODE_PORT": "8080",
                        .init(generationsVariable): .string(text),
                    ],
                    "readinessProbe": ["port": 8080, "path": "/health"],
                ]],
                "endpoints": [["name": "api", "port": 8080, "public": true, "protocol": "HTTP"]],
            ]
        ]
        return spec.yamlString()
    }

    /// A token for the service's ingress: the key-pair JWT traded at the account's OAuth endpoint.
    private func ingressToken(host: String, _ infrastructure: ResolvedInfrastructure) async throws -> String {
        // The ingress takes the same key-pair JWT as the SQL API as its assertion.
        let (block, cache) = try tokens(infrastructure)
        var request = HTTPClientRequest(url: "\(accountURL(block))/oauth/token")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("scope", host), ("assertion", try await cache.token())]
        request.body = .bytes(ByteBuffer(string: form.map { "\($0.0)=\(PercentEncoding.unreserved($0.1))" }.joined(separator: "&")))
        let response = try await session.http.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status.code == 200 else { throw DriverError("the ingress token endpoint answered HTTP \(response.status.code)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: - Names and connection

    /// The service's SQL name: the platform name in upper case with `_` for `-`.
    static func serviceName(_ service: String, _ infrastructure: ResolvedInfrastructure) -> String {
        PlatformNames.base(service: service, namespace: infrastructure.namespace).uppercased().replacingOccurrences(of: "-", with: "_")
    }

    private func accountURL(_ block: SnowparkTarget) -> String {
        block.endpointOverride.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            ?? "https://\(block.account.lowercased().replacingOccurrences(of: "_", with: "-")).snowflakecomputing.com"
    }

    /// The key-pair JWTs of the infrastructure's user: the key is read once per credentials,
    /// the token reused until shortly before it expires.
    private func tokens(_ infrastructure: ResolvedInfrastructure) throws -> (SnowparkTarget, AccessTokenCache) {
        guard case .snowpark(let block) = infrastructure.spec.target else { throw DriverError("not a snowpark infrastructure", isPermanent: true) }
        guard let pem = infrastructure.secret(SecretKeyRef(name: block.credentialsSecretRef.name, key: "privateKeyPEM")) else {
            throw DriverError("secret \"\(block.credentialsSecretRef.name)\" needs privateKeyPEM", isPermanent: true)
        }
        let cache = try session.tokens.cache(for: [block.account, block.user, pem]) {
            do {
                return try SnowflakeKeyPair(account: block.account, user: block.user, privateKeyPEM: pem).tokens(now: session.now)
            } catch {
                throw DriverError("secret \"\(block.credentialsSecretRef.name)\": the private key cannot be read", isPermanent: true)
            }
        }
        return (block, cache)
    }

    private func connection(_ infrastructure: ResolvedInfrastructure) throws -> (SnowparkTarget, SnowflakeSQL, (String) -> String) {
        let (block, cache) = try tokens(infrastructure)
        for (field, value) in [("database", block.database), ("schema", block.schema), ("warehouse", block.warehouse), ("role", block.role), ("computePool", block.computePool)]
        where !SnowflakeSQL.isIdentifier(value) {
            throw DriverError("snowpark.\(field) \"\(value)\" is not a plain SQL identifier", isPermanent: true)
        }
        let client = BearerClient(
            tokens: cache, http: session.http, headers: [("X-Snowflake-Authorization-Token-Type", "KEYPAIR_JWT"), ("User-Agent", "apideployer/1.0")], pause: session.pause)
        let context: JSONValue = [
            "database": .string(block.database), "schema": .string(block.schema), "warehouse": .string(block.warehouse), "role": .string(block.role),
        ]
        let qualified = { (name: String) in "\(block.database).\(block.schema).\(name)" }
        return (block, SnowflakeSQL(client: client, base: accountURL(block), context: context, pause: session.pause), qualified)
    }
}
