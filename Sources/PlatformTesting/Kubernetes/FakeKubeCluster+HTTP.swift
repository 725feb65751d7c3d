import DeployerCore
import DeployerModel
import Foundation

/// What the fake API server answers: a whole response, a watch stream, or a request to pass to
/// a pod through the service proxy.
enum FakeKubeAnswer: Sendable {
    case response(FakeResponse)
    case stream(AsyncStream<[UInt8]>)
    case proxy(pod: String, url: String)
}

/// Routing, discovery (legacy documents; no aggregated discovery, no OpenAPI: `kubectl apply`
/// needs `--validate=false`), and the REST verbs (reference 1.1–1.3, 9.1).
extension FakeKubeCluster {
    /// A resource path: the resource, its namespace, and the object, subresource or proxied path.
    struct Route {
        var resource: FakeKubeResource
        var namespace: String?
        var name: String?
        var subresource: String?
        var proxyPath: String?
    }

    func handle(_ request: FakeRequest) -> FakeKubeAnswer {
        let queryText = request.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        log(request.method + " " + request.path + (queryText.isEmpty ? "" : "?" + queryText))
        if request.header("content-type")?.contains("protobuf") == true {
            return error(.unsupportedMediaType(request.header("content-type") ?? "", accepted: ["application/json", "application/yaml"]), nil)
        }
        let segments = request.path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
        switch segments.count {
        case 1 where segments[0] == "version":
            return json(200, [
                "major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "fake", "gitTreeState": "clean",
                "buildDate": "2025-04-22T00:00:00Z", "goVersion": "go1.23.8", "compiler": "gc", "platform": "linux/amd64",
            ])
        case 1 where segments[0] == "api":
            return json(200, ["kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"]]])
        case 1 where segments[0] == "apis":
            return json(200, ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groupVersions().filter { !$0.group.isEmpty }.map(Self.group))])
        case 2 where segments[0] == "apis":
            guard let entry = groupVersions().first(where: { $0.group == segments[1] }) else { return error(.resourceNotFound(request.path), nil) }
            var document = Self.group(entry)
            document["kind"] = "APIGroup"
            document["apiVersion"] = "v1"
            return json(200, document)
        default:
            break
        }
        guard segments.count >= 2, segments[0] == "api" || (segments[0] == "apis" && segments.count >= 3) else {
            return error(.resourceNotFound(request.path), nil)
        }
        let group = segments[0] == "api" ? "" : segments[1]
        let version = segments[0] == "api" ? segments[1] : segments[2]
        let rest = Array(segments.dropFirst(segments[0] == "api" ? 2 : 3))
        if rest.isEmpty {
            let served = resources.filter { $0.group == group && $0.version == version }
            guard !served.isEmpty else { return error(.resourceNotFound(request.path), nil) }
            return json(200, [
                "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
                "resources": .array(served.flatMap(\.discoveryEntry)),
            ])
        }
        guard let route = route(group: group, version: version, rest) else { return error(.resourceNotFound(request.path), nil) }
        do {
            return try serve(request, route)
        } catch let failure as APIError {
            return error(failure, route.resource)
        } catch {
            return self.error(.internalError("\(error)"), route.resource)
        }
    }

    private func route(group: String, version: String, _ rest: [String]) -> Route? {
        var parts = rest
        var namespace: String?
        if parts.count >= 3, parts[0] == "namespaces", parts[2] != "status", parts[2] != "finalize" {
            namespace = parts[1]
            parts.removeFirst(2)
        }
        guard let resource = resource(group: group, version: version, plural: parts[0]), resource.namespaced || namespace == nil else { return nil }
        var route = Route(resource: resource, namespace: namespace, name: parts.count > 1 ? parts[1] : nil)
        if parts.count > 2 {
            if parts[2] == "proxy", resource.storageKey == "services." {
                route.proxyPath = "/" + parts.dropFirst(3).joined(separator: "/")
            } else if parts.count == 3, parts[2] == "status", resource.hasStatus {
                route.subresource = "status"
            } else {
                return nil
            }
        }
        return route
    }

    private func serve(_ request: FakeRequest, _ route: Route) throws -> FakeKubeAnswer {
        let resource = route.resource
        let namespace = route.namespace ?? ""
        if let proxyPath = route.proxyPath, let name = route.name {
            let (pod, port) = try proxyTarget(namespace: namespace, service: name)
            let query = request.query.isEmpty ? "" : "?" + request.query.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
            return .proxy(pod: pod, url: "http://127.0.0.1:\(port)\(proxyPath)\(query)")
        }
        var options = WriteOptions(
            dryRun: request.query["dryRun"] == "All", fieldManager: request.query["fieldManager"],
            fieldValidation: request.query["fieldValidation"] ?? "Warn")
        let body = { () throws -> JSONValue in
            guard let value = (try? JSONValue.parse(request.body)) ?? (try? JSONValue.parseYAMLDocuments(String(decoding: request.body, as: UTF8.self)).first) else {
                throw APIError.badRequest("the request body is not valid JSON or YAML")
            }
            return value
        }
        let answer = { (status: Int, object: JSONValue) in self.json(status, object, warnings: options.warnings) }
        switch (request.method, route.name) {
        case ("GET", nil):
            let labels = try LabelSelector(parsing: request.query["labelSelector"] ?? "")
            let fields = try FakeFieldSelector(request.query["fieldSelector"], events: resource.storageKey == "events.")
            if request.query["watch"] == "true" || request.query["watch"] == "1" {
                return .stream(watch(
                    storage: resource.storageKey, namespace: route.namespace, labels: labels, fields: fields, start: request.query["resourceVersion"],
                    initialEventsEnd: request.query["sendInitialEvents"] == "true" && request.query["allowWatchBookmarks"] == "true"
                        ? (resource.apiVersion, resource.kind) : nil,
                    timeout: request.query["timeoutSeconds"].flatMap(Int.init).map { .seconds($0) }))
            }
            return answer(200, try list(
                resource, namespace: route.namespace, labels: labels, fields: fields, limit: request.query["limit"].flatMap(Int.init),
                continueToken: request.query["continue"]))
        case ("POST", nil):
            return answer(201, try create(resource, namespace: namespace, body: try body(), options: &options))
        case ("GET", let name?):
            return answer(200, try get(resource, namespace: namespace, name: name))
        case ("PUT", let name?):
            return answer(200, try update(resource, namespace: namespace, name: name, body: try body(), status: route.subresource != nil, options: &options))
        case ("PATCH", let name?):
            let force = request.query["force"].map { $0 == "true" }
            let (object, created) = try patch(
                resource, namespace: namespace, name: name, contentType: request.header("content-type") ?? "", body: request.body,
                status: route.subresource != nil, force: force, options: &options)
            return answer(created ? 201 : 200, object)
        case ("DELETE", let name?):
            var deleteOptions = (try? JSONValue.parse(request.body)) ?? [:]
            if let policy = request.query["propagationPolicy"] { deleteOptions["propagationPolicy"] = .string(policy) }
            if request.query["dryRun"] == "All" { deleteOptions["dryRun"] = ["All"] }
            let key = StoredKey(storage: resource.storageKey, namespace: resource.namespaced ? namespace : "", name: name)
            return answer(200, try delete(key, options: deleteOptions))
        default:
            throw APIError.methodNotAllowed()
        }
    }

    // MARK: - Answers

    private static func group(_ entry: (group: String, versions: [String])) -> JSONValue {
        let versions = entry.versions.map { JSONValue.object(["groupVersion": .string("\(entry.group)/\($0)"), "version": .string($0)]) }
        return ["name": .string(entry.group), "versions": .array(versions), "preferredVersion": versions.first ?? [:]]
    }

    private func json(_ status: Int, _ value: JSONValue, warnings: [String] = []) -> FakeKubeAnswer {
        var headers: [String: String] = [:]
        if !warnings.isEmpty { headers["Warning"] = warnings.map { "299 - \"\($0.replacingOccurrences(of: "\"", with: "\\\""))\"" }.joined(separator: ", ") }
        return .response(.json(status, value, headers: headers))
    }

    /// A `Status` whose details name the resource's own group.
    private func error(_ failure: APIError, _ resource: FakeKubeResource?) -> FakeKubeAnswer {
        var body = failure.status
        if body["details"]?["group"] != nil {
            body["details"]?["group"] = resource.map(\.group).flatMap { $0.isEmpty ? nil : .string($0) }
        }
        return .response(.json(failure.code, body))
    }
}
