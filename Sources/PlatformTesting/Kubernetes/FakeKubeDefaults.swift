import DeployerModel
import Foundation

/// The server-side defaults a 1.32 API server fills into the built-in kinds the project writes
/// (so a controller that compares what it sent with what it reads back sees the difference), and
/// the writes it refuses.
enum FakeKubeDefaults {
    static func apply(_ object: inout JSONValue, resource: FakeKubeResource, allocate: () -> Int) {
        switch resource.storageKey {
        case "deployments.apps": deployment(&object)
        case "services.": service(&object, allocate: allocate)
        case "secrets.": secret(&object)
        case "namespaces.": object["status"] = ["phase": "Active"]
        case "pods.": if var spec = object["spec"] { podSpec(&spec); object["spec"] = spec }
        default: break
        }
    }

    private static func deployment(_ object: inout JSONValue) {
        var spec = object["spec"] ?? [:]
        spec["replicas"] = spec["replicas"] ?? 1
        if spec["strategy"]?["type"] == nil { spec["strategy"] = ["type": "RollingUpdate"] }
        if spec["strategy"]?["type"]?.stringValue == "RollingUpdate" {
            var rolling = spec["strategy"]?["rollingUpdate"] ?? [:]
            rolling["maxUnavailable"] = rolling["maxUnavailable"] ?? "25%"
            rolling["maxSurge"] = rolling["maxSurge"] ?? "25%"
            spec["strategy"]?["rollingUpdate"] = rolling
        }
        spec["revisionHistoryLimit"] = spec["revisionHistoryLimit"] ?? 10
        spec["progressDeadlineSeconds"] = spec["progressDeadlineSeconds"] ?? 600
        if var podSpecValue = spec["template"]?["spec"] {
            podSpec(&podSpecValue)
            spec["template"]?["spec"] = podSpecValue
        }
        object["spec"] = spec
    }

    private static func podSpec(_ spec: inout JSONValue) {
        spec["restartPolicy"] = spec["restartPolicy"] ?? "Always"
        spec["terminationGracePeriodSeconds"] = spec["terminationGracePeriodSeconds"] ?? 30
        spec["dnsPolicy"] = spec["dnsPolicy"] ?? "ClusterFirst"
        spec["schedulerName"] = spec["schedulerName"] ?? "default-scheduler"
        spec["securityContext"] = spec["securityContext"] ?? [:]
        spec["containers"] = .array((spec["containers"]?.arrayValue ?? []).map { container in
            var filled = container
            let image = container["image"]?.stringValue ?? ""
            let tagged = image.split(separator: "/").last?.contains(":") ?? false
            filled["imagePullPolicy"] = filled["imagePullPolicy"] ?? (tagged && !image.hasSuffix(":latest") ? "IfNotPresent" : "Always")
            filled["terminationMessagePath"] = filled["terminationMessagePath"] ?? "/dev/termination-log"
            filled["terminationMessagePolicy"] = filled["terminationMessagePolicy"] ?? "File"
            if let ports = container["ports"]?.arrayValue {
                filled["ports"] = .array(ports.map { port in
                    var withProtocol = port
                    withProtocol["protocol"] = port["protocol"] ?? "TCP"
                    return withProtocol
                })
            }
            return filled
        })
    }

    private static func service(_ object: inout JSONValue, allocate: () -> Int) {
        var spec = object["spec"] ?? [:]
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        spec["type"] = .string(type)
        spec["sessionAffinity"] = spec["sessionAffinity"] ?? "None"
        spec["internalTrafficPolicy"] = spec["internalTrafficPolicy"] ?? "Cluster"
        if type == "NodePort" || type == "LoadBalancer" { spec["externalTrafficPolicy"] = spec["externalTrafficPolicy"] ?? "Cluster" }
        if spec["clusterIP"] == nil {
            let number = allocate()
            let address = JSONValue.string("10.96.\(number / 250 % 250).\(number % 250 + 1)")
            spec["clusterIP"] = address
            spec["clusterIPs"] = [address]
        }
        spec["ipFamilies"] = spec["ipFamilies"] ?? ["IPv4"]
        spec["ipFamilyPolicy"] = spec["ipFamilyPolicy"] ?? "SingleStack"
        spec["ports"] = .array((spec["ports"]?.arrayValue ?? []).map { port in
            var filled = port
            filled["protocol"] = port["protocol"] ?? "TCP"
            filled["targetPort"] = port["targetPort"] ?? port["port"] ?? .null
            if type == "NodePort" || type == "LoadBalancer", port["nodePort"] == nil { filled["nodePort"] = .int(Int64(30000 + allocate() % 2768)) }
            return filled
        })
        object["spec"] = spec
        if type == "LoadBalancer", object["status"]?["loadBalancer"]?["ingress"] == nil {
            object["status"] = ["loadBalancer": ["ingress": [["ip": "127.0.0.1", "ipMode": "VIP"]]]]
        } else if object["status"] == nil {
            object["status"] = ["loadBalancer": [:]]
        }
    }

    /// `stringData` merged into `data` (base64) and never stored; `type` defaults to Opaque.
    private static func secret(_ object: inout JSONValue) {
        if let strings = object["stringData"]?.objectValue {
            var data = object["data"]?.objectValue ?? [:]
            for (key, value) in strings { data[key] = .string(Data((value.stringValue ?? "").utf8).base64EncodedString()) }
            object["data"] = .object(data)
            object["stringData"] = nil
        }
        object["type"] = object["type"] ?? "Opaque"
    }

    /// The decoded size of a Secret's or ConfigMap's values (limit 1 MiB).
    static func payloadBytes(_ object: JSONValue) -> Int {
        let data = (object["data"]?.objectValue ?? [:]).values.compactMap(\.stringValue)
        let binary = (object["binaryData"]?.objectValue ?? [:]).values.compactMap(\.stringValue)
        let isSecret = object["kind"]?.stringValue == "Secret"
        let decoded = { (text: String) in Data(base64Encoded: text)?.count ?? text.utf8.count }
        return data.reduce(0) { $0 + (isSecret ? decoded($1) : $1.utf8.count) } + binary.reduce(0) { $0 + decoded($1) }
    }

    static let maximumPayloadBytes = 1_048_576

    /// The `status` of a CRD once the fake has taken it: established, names accepted.
    static func crdStatus(_ crd: JSONValue, time: String) -> JSONValue {
        let versions = (crd["spec"]?["versions"]?.arrayValue ?? []).filter { $0["storage"]?.boolValue == true }.compactMap { $0["name"] }
        let condition = { (type: String, reason: String, message: String) -> JSONValue in
            ["type": .string(type), "status": "True", "reason": .string(reason), "message": .string(message), "lastTransitionTime": .string(time)]
        }
        return [
            "acceptedNames": crd["spec"]?["names"] ?? [:],
            "storedVersions": .array(versions),
            "conditions": [
                condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
            ],
        ]
    }
}
