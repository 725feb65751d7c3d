import Crypto
import DeployerModel
import Foundation

/// The objects the Kubernetes driver applies for one service (server-side apply, field manager
/// `apideployer`): a Deployment of API node pods whose container gets every version, package
/// URL, digest and weight in `APIDEPLOYER_GENERATIONS` and splits traffic itself; a Service; an
/// Ingress and a HorizontalPodAutoscaler when the infrastructure asks. All but the Deployment
/// are owned by it, so deleting the Deployment removes everything. The Deployment carries a
/// digest of itself, so a change of the infrastructure's settings is seen and applied.
struct KubernetesManifests {
    static let containerName = "api-node"
    static let dataDirectory = "/var/lib/apinode"
    static let instanceLabel = "app.kubernetes.io/instance"

    let name: String
    let service: String
    let block: KubernetesTarget

    var selector: JSONValue { [.init(Self.instanceLabel): .string(name)] }

    var labels: JSONValue {
        var labels: [String: JSONValue] = [
            "app.kubernetes.io/name": "apinode", .init(Self.instanceLabel): .string(name), "app.kubernetes.io/managed-by": "apideployer",
            "apideployer.dev/service": .string(service),
        ]
        for (key, value) in block.labels ?? [:] { labels[key] = .string(value) }
        return .object(labels)
    }

    var annotations: JSONValue { .object((block.annotations ?? [:]).mapValues { .string($0) }) }

    func metadata(owner: JSONValue? = nil) -> JSONValue {
        var metadata: JSONValue = ["name": .string(name), "namespace": .string(block.namespace), "labels": labels, "annotations": annotations]
        if let owner { metadata["ownerReferences"] = [owner] }
        return metadata
    }

    /// The Deployment: rolling updates that never take a ready pod away before its replacement is
    /// ready (maxUnavailable 0), readiness on the node's `/isAlive/` (it listens once the
    /// packages are imported), a restrictive security context and writable `emptyDir`s.
    func deployment(_ generations: [PlatformGeneration], strategy: ServiceDeployment.Generations.Strategy) -> JSONValue {
        let list = JSONValue.array(generations.sorted { $0.version < $1.version }.map(\.json))
        var container: JSONValue = [
            "name": .string(Self.containerName), "image": .string(block.image),
            "args": ["node", "serve", "--platform", "kubernetes", "--data-dir", .string(Self.dataDirectory), "--host", "0.0.0.0", "--port", "8080"],
            "env": [
                ["name": "APIDEPLOYER_SERVICE", "value": .string(service)],
                ["name": "APIDEPLOYER_GENERATIONS", "value": .string(list.jsonString)],
                ["name": "APIDEPLOYER_STRATEGY", "value": .string(strategy == .hash ? "HASH_BASED" : "RANDOM")],
            ],
            "ports": [["name": "http", "containerPort": 8080]],
            "readinessProbe": ["httpGet": ["path": "/isAlive/", "port": "http"], "periodSeconds": 2, "failureThreshold": 2],
            "livenessProbe": ["tcpSocket": ["port": "http"], "periodSeconds": 10, "failureThreshold": 3],
            "securityContext": ["allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": ["drop": ["ALL"]]],
            "volumeMounts": [["name": "data", "mountPath": .string(Self.dataDirectory)], ["name": "tmp", "mountPath": "/tmp"]],
        ]
        if let resources = block.resources {
            var value: JSONValue = [:]
            if let requests = resources.requests { value["requests"] = .object(requests) }
            if let limits = resources.limits { value["limits"] = .object(limits) }
            container["resources"] = value
        }
        var spec: JSONValue = [
            "selector": ["matchLabels": selector],
            "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 0, "maxSurge": 1]],
            "progressDeadlineSeconds": .int(Int64(block.progressDeadlineSeconds ?? 600)),
            "template": [
                "metadata": ["labels": labels, "annotations": annotations],
                "spec": [
                    "automountServiceAccountToken": false,
                    "securityContext": ["runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532, "seccompProfile": ["type": "RuntimeDefault"]],
                    "containers": [container],
                    "volumes": [["name": "data", "emptyDir": [:]], ["name": "tmp", "emptyDir": [:]]],
                ],
            ],
        ]
        if block.autoscaling == nil { spec["replicas"] = .int(Int64(block.replicas)) }
        var deployment: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(), "spec": spec]
        let digest = SHA256.hash(data: deployment.serialized()).prefix(12).hexString
        deployment["metadata"]?["annotations"]?[Self.specHashAnnotation] = .string(digest)
        return deployment
    }

    /// The annotation holding a digest of what the driver applied (the server's defaults make
    /// the live object differ from it, so the digest is what is compared).
    static let specHashAnnotation = "apideployer.dev/spec-hash"

    static func specHash(of deployment: JSONValue) -> String? {
        deployment["metadata"]?["annotations"]?[specHashAnnotation]?.stringValue
    }

    /// The Service in front of the pods (the exposition's type; an Ingress sits on a ClusterIP).
    func serviceObject(owner: JSONValue) -> JSONValue {
        let type = block.exposition?.type ?? "ClusterIP"
        return [
            "apiVersion": "v1", "kind": "Service", "metadata": metadata(owner: owner),
            "spec": [
                "type": .string(type == "Ingress" ? "ClusterIP" : type), "selector": selector,
                "ports": [["name": "http", "port": .int(Int64(servicePort)), "targetPort": "http"]],
            ],
        ]
    }

    var servicePort: Int { block.exposition?.port ?? 80 }

    func ingress(owner: JSONValue) -> JSONValue? {
        guard let exposition = block.exposition, exposition.type == "Ingress" else { return nil }
        var rule: JSONValue = [
            "http": ["paths": [[
                "path": .string(exposition.pathPrefix ?? "/"), "pathType": "Prefix",
                "backend": ["service": ["name": .string(name), "port": ["name": "http"]]],
            ]]]
        ]
        if let host = exposition.host { rule["host"] = .string(host) }
        return ["apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata(owner: owner), "spec": ["rules": [rule]]]
    }

    func autoscaler(owner: JSONValue) -> JSONValue? {
        guard let autoscaling = block.autoscaling else { return nil }
        return [
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": metadata(owner: owner),
            "spec": [
                "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": .string(name)],
                "minReplicas": .int(Int64(autoscaling.minReplicas)), "maxReplicas": .int(Int64(autoscaling.maxReplicas)),
                "metrics": [[
                    "type": "Resource",
                    "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": .int(Int64(autoscaling.targetCPUUtilizationPercentage ?? 80))]],
                ]],
            ],
        ]
    }

    /// The owner reference every other object carries to the Deployment.
    static func owner(_ deployment: JSONValue) -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]?["name"] ?? "", "uid": deployment["metadata"]?["uid"] ?? "",
            "controller": true, "blockOwnerDeletion": true,
        ]
    }

    /// The generations a live Deployment's pod template carries, and its split strategy.
    static func generations(of deployment: JSONValue) -> (generations: [PlatformGeneration], strategy: ServiceDeployment.Generations.Strategy) {
        let container = deployment["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first { $0["name"]?.stringValue == containerName }
        let env = container?["env"]?.arrayValue ?? []
        let value = { (name: String) in env.first { $0["name"]?.stringValue == name }?["value"]?.stringValue }
        let list = value("APIDEPLOYER_GENERATIONS").flatMap { try? JSONValue.parse(Array($0.utf8)) }?.arrayValue ?? []
        return (list.compactMap(PlatformGeneration.init), value("APIDEPLOYER_STRATEGY") == "HASH_BASED" ? .hash : .random)
    }
}
