import DeployerModel
import Foundation

/// The admin API (`/admin/api/...`) over a `NodeRuntime`, authenticated by admin keys.
/// Framework-free: an uploaded archive arrives as a file the adapter streamed to disk.
public struct AdminAPI: Sendable {
    let runtime: NodeRuntime
    let keys: AdminKeyStore

    public init(runtime: NodeRuntime, keys: AdminKeyStore) {
        self.runtime = runtime
        self.keys = keys
    }

    /// An admin request; `upload` is the body saved to a file with its SHA-256 (archive uploads).
    public struct Request: Sendable {
        public var method: String
        public var path: [String]
        public var query: [String: String]
        public var authorization: String?
        public var body: [UInt8]
        public var upload: (file: URL, sha256: String)?
        public var declaredSHA256: String?

        public init(method: String, path: [String], query: [String: String] = [:], authorization: String?, body: [UInt8] = [],
                    upload: (file: URL, sha256: String)? = nil, declaredSHA256: String? = nil) {
            self.method = method
            self.path = path
            self.query = query
            self.authorization = authorization
            self.body = body
            self.upload = upload
            self.declaredSHA256 = declaredSHA256
        }
    }

    public func handle(_ request: Request) async -> (status: Int, body: JSONValue) {
        guard keys.authorizes(request.authorization) else {
            return (401, QueryError(status: 401, errorType: "Unauthorized", message: "a valid admin key is required").body)
        }
        do {
            return try await route(request)
        } catch let error as NodeError {
            return (error.status, QueryError(status: error.status, errorType: Self.type(of: error), message: "\(error)").body)
        } catch let error as QueryError {
            return (error.status, error.body)
        } catch {
            return (500, QueryError(status: 500, errorType: "InternalError", message: "\(error)").body)
        }
    }

    private static func type(of error: NodeError) -> String {
        switch error {
        case .notFound: "NotFound"
        case .conflict: "Conflict"
        case .invalid: "BadRequest"
        }
    }

    private func route(_ request: Request) async throws -> (status: Int, body: JSONValue) {
        let path = request.path
        switch (request.method, path) {
        case ("GET", ["services"]):
            return (200, .array(await runtime.services().map { ["serviceId": .string($0.id), "enabled": .bool($0.enabled)] }))
        case ("POST", ["services"]):
            guard let id = try json(request)["serviceId"]?.stringValue else { throw NodeError.invalid("give serviceId") }
            try await runtime.createService(id)
            return (200, ["serviceId": .string(id), "enabled": true])
        case ("DELETE", let parts) where parts.count == 2 && parts[0] == "services":
            try await runtime.deleteService(parts[1])
            return (200, [:])
        case ("GET", let parts) where parts.count == 3 && parts[0] == "services" && parts[2] == "generations":
            let record = try await runtime.service(parts[1])
            var answer: JSONValue = ["generations": .array(record.generations.map { generation in
                let share = record.mapping?.entries.first { $0.generation == generation.id }?.proba ?? 0
                return ["generation": .string(generation.id), "created": .string(generation.created.formatted(.iso8601)),
                        "mounted": true, "mappedPercent": .double(share * 100)]
            })]
            // Ours: whether the service is enabled and its active mapping with the strategy, so a
            // controller observes a service exactly in one call.
            answer["enabled"] = .bool(record.enabled)
            if let mapping = record.mapping { answer["mapping"] = try JSONValue(encoding: mapping) }
            if let logging = record.logging { answer["logging"] = logging.redacted }
            return (200, answer)
        case ("POST", let parts) where parts.count == 5 && parts[0] == "services" && parts[2...] == ["generations", "actions", "importFromArchive"]:
            guard let filePath = request.query["filePath"] else { throw NodeError.invalid("give filePath") }
            let generation = try await runtime.importGeneration(service: parts[1], archive: URL(fileURLWithPath: filePath))
            return (200, ["generation": .string(generation)])
        case ("PUT", let parts) where parts.count == 5 && parts[0] == "services" && parts[2] == "generations" && parts[4] == "archive":
            guard let upload = request.upload else { throw NodeError.invalid("the archive is missing") }
            guard let declared = request.declaredSHA256?.lowercased() else { throw NodeError.invalid("give the X-Content-SHA256 header") }
            guard declared == upload.sha256 else {
                throw NodeError.invalid("the archive's sha256 is \(upload.sha256), not the declared \(declared)")
            }
            let generation = try await runtime.importGeneration(service: parts[1], archive: upload.file, expectedGeneration: parts[3])
            return (200, ["generation": .string(generation)])
        case ("DELETE", let parts) where parts.count == 4 && parts[0] == "services" && parts[2] == "generations":
            try await runtime.removeGeneration(service: parts[1], generation: parts[3])
            return (200, [:])
        case ("POST", let parts) where parts.count == 5 && parts[0] == "services" && parts[2] == "generations" && parts[4] == "preload":
            let record = try await runtime.service(parts[1])
            guard record.generations.contains(where: { $0.id == parts[3] }) else { throw NodeError.notFound("no generation \"\(parts[3])\"") }
            return (200, [:])
        case ("PUT", let parts) where parts.count == 5 && parts[0] == "services" && parts[2] == "endpoints" && parts[4] == "tuning":
            let tuning: EndpointTuning
            do {
                tuning = try JSONDecoder().decode(EndpointTuning.self, from: Data(request.body))
            } catch {
                throw NodeError.invalid("the tuning is not valid: \(error)")
            }
            try await runtime.setTuning(service: parts[1], endpoint: parts[3], tuning)
            return (200, [:])
        case ("GET", let parts) where parts.count == 3 && parts[0] == "services" && parts[2] == "logging":
            return (200, try await runtime.service(parts[1]).logging?.redacted ?? .null)
        case ("PUT", let parts) where parts.count == 3 && parts[0] == "services" && parts[2] == "logging":
            let logging: QueryLogging
            do {
                logging = try JSONDecoder().decode(QueryLogging.self, from: Data(request.body))
            } catch {
                throw NodeError.invalid("the logging settings are not valid: \(error)")
            }
            try await runtime.setLogging(service: parts[1], logging)
            return (200, logging.redacted)
        case ("GET", let parts) where parts.count == 3 && parts[0] == "services" && parts[2] == "auth":
            let auth = try await runtime.service(parts[1]).auth
            return (200, try JSONValue(encoding: auth ?? .public))
        case ("PUT", let parts) where parts.count == 3 && parts[0] == "services" && parts[2] == "auth":
            let auth: CallerAuth
            do {
                auth = try JSONDecoder().decode(CallerAuth.self, from: Data(request.body))
            } catch {
                throw NodeError.invalid("the auth settings are not valid: \(error)")
            }
            try await runtime.setAuth(service: parts[1], auth)
            return (200, try JSONValue(encoding: auth))
        case ("DELETE", let parts) where parts.count == 3 && parts[0] == "services" && parts[2] == "logging":
            try await runtime.setLogging(service: parts[1], nil)
            return (200, [:])
        case ("POST", let parts) where parts.count >= 4 && parts[0] == "services" && parts[2] == "actions":
            return try await action(service: parts[1], parts[3...], request)
        case ("GET", ["keys"]):
            return (200, .array(try keys.entries().map { entry in
                var value: JSONValue = ["id": .string(entry.id), "createdOn": .string(entry.createdOn.formatted(.iso8601))]
                if let label = entry.label { value["label"] = .string(label) }
                if let description = entry.description { value["description"] = .string(description) }
                if let createdBy = entry.createdBy { value["createdBy"] = .string(createdBy) }
                if let expiry = entry.expiry { value["expiry"] = .string(expiry.formatted(.iso8601)) }
                return value
            }))
        case ("POST", ["keys"]):
            let body = request.body.isEmpty ? JSONValue.object([:]) : try json(request)
            let expiry = body["expiry"]?.stringValue.flatMap { try? Date($0, strategy: .iso8601) }
            let created = try keys.create(
                label: body["label"]?.stringValue, description: body["description"]?.stringValue,
                createdBy: body["createdBy"]?.stringValue, expiry: expiry)
            return (200, ["id": .string(created.entry.id), "key": .string(created.key)])
        case ("DELETE", let parts) where (parts.count == 2 || (parts.count == 3 && parts[2] == "key")) && parts[0] == "keys":
            guard try keys.delete(keyOrID: parts[1]) else { throw NodeError.notFound("no such admin key") }
            return (200, [:])
        case ("DELETE", ["services-clean-unused"]):
            let removed = try await runtime.cleanUnused()
            return (200, ["deletedServices": .array(removed.services.map { .string($0) }), "deletedGenerations": .array(removed.generations.map { .string($0) })])
        case ("GET", ["metrics"]):
            let services = await runtime.services()
            return (200, ["services": .int(Int64(services.count)), "generations": .int(Int64(services.reduce(0) { $0 + $1.generations.count }))])
        default:
            throw NodeError.notFound("no admin operation \(request.method) /admin/api/\(path.joined(separator: "/"))")
        }
    }

    private func action(service: String, _ parts: ArraySlice<String>, _ request: Request) async throws -> (status: Int, body: JSONValue) {
        switch Array(parts) {
        case ["enable"]: try await runtime.setEnabled(service: service, true)
        case ["disable"]: try await runtime.setEnabled(service: service, false)
        case ["switchToNewest"]: try await runtime.switchTo(service: service, generation: nil)
        case let switchTo where switchTo.count == 2 && switchTo[0] == "switchTo": try await runtime.switchTo(service: service, generation: switchTo[1])
        case ["setMapping"]:
            let mapping: GenerationMapping
            do {
                mapping = try JSONDecoder().decode(GenerationMapping.self, from: Data(request.body))
            } catch {
                throw NodeError.invalid("the mapping is not valid: \(error)")
            }
            try await runtime.setMapping(service: service, mapping)
        default: throw NodeError.notFound("no action \(parts.joined(separator: "/"))")
        }
        return (200, [:])
    }

    private func json(_ request: Request) throws -> JSONValue {
        do {
            return try JSONValue.parse(request.body)
        } catch {
            throw NodeError.invalid("the body is not valid JSON: \(error)")
        }
    }
}
