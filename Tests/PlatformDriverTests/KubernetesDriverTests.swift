import CloudHTTP
import DeployerTesting
import DeployerDrivers
import DeployerModel
import Foundation
import PlatformTesting
import Testing

@testable import DeployerCore

/// The Kubernetes driver through the deployment reconciler, on two fake clusters: the
/// infrastructure's kubeconfig secret names the second one, so the controller's own cluster
/// stays untouched. The objects a demanding user looks at: the Deployment (pod template with the
/// generations, zero-downtime strategy, restrictive security context, labels and annotations),
/// the Service, Ingress and HorizontalPodAutoscaler owned by it, a hash split carried to the
/// pods, an infrastructure change (image, replicas, exposition) that the pods follow and that
/// removes what is no longer asked for, and deletion that leaves nothing. The kubeconfig's token never shows in statuses, errors or logs.
@Suite struct KubernetesDriverTests {
    static let token = "remote-cluster-token-7f3a91"

    @Test func objectsOnTheClusterOfTheKubeconfigSecretAndNothingLeftAfterDelete() async throws {
        let own = FakeKubeCluster()
        let remote = FakeKubeCluster()
        try await FakeKubeAPIServer.with(own) { ownURL in
            try await FakeKubeAPIServer.with(remote) { remoteURL in
                let ownClient = try KubeClient(kubeconfig: Kubeconfig(name: "own", server: ownURL, certificateAuthorityData: nil, token: "own"))
                let kubeconfig = """
                    apiVersion: v1
                    kind: Config
                    clusters: [{name: remote, cluster: {server: "\(remoteURL)"}}]
                    users: [{name: deployer, user: {token: \(Self.token)}}]
                    contexts: [{name: remote, context: {cluster: remote, user: deployer}}]
                    current-context: remote
                    """
                let block: JSONValue = [
                    "kubeconfigSecretRef": ["name": "platform-credentials", "key": "kubeconfig"], "namespace": "apps",
                    "image": "ghcr.io/apideployer/apideployer:0.1.0", "replicas": 2, "labels": ["team": "fraud"], "annotations": ["owner": "fraud@example.com"],
                    "exposition": ["type": "Ingress", "host": "scoring.example.com", "pathPrefix": "/churn"],
                    "autoscaling": ["minReplicas": 2, "maxReplicas": 6, "targetCPUUtilizationPercentage": 70],
                ]
                let world = try await PlatformWorld(
                    type: "kubernetes", block: block, credentials: ["kubeconfig": kubeconfig], driver: KubernetesDriver(ownCluster: ownClient))
                #expect(try await world.probeInfrastructure()?.status == .false, "namespace apps does not exist yet")
                let namespace: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "apps"]]
                let created = try await KubeClient(kubeconfig: Kubeconfig(name: "r", server: remoteURL, certificateAuthorityData: nil, token: "t"))
                    .send(.POST, "/api/v1/namespaces", body: namespace.serialized())
                #expect(created.status == 201)
                #expect(try await world.probeInfrastructure()?.status == .true)

                try await world.deploy(["version": "v1"])
                try await world.settle()
                #expect(try await world.condition("Ready")?.status == .true)
                let deployment = try #require(await remote.objects("deployments.apps", namespace: "apps").first)
                let name = try #require(deployment["metadata"]?["name"]?.stringValue)
                let template = deployment["spec"]?["template"] ?? [:]
                let container = try #require(template["spec"]?["containers"]?.arrayValue?.first)
                let env = Dictionary(uniqueKeysWithValues: (container["env"]?.arrayValue ?? []).compactMap { entry in entry["name"]?.stringValue.map { ($0, entry["value"]?.stringValue ?? "") } })
                let generations = try JSONValue.parse(Array((env["APIDEPLOYER_GENERATIONS"] ?? "").utf8))
                #expect(generations.arrayValue?.map { "\($0["version"]?.stringValue ?? "")@\($0["weight"]?.intValue ?? -1)" } == ["v1@100"])
                #expect(generations.arrayValue?.first?["packageUrl"] == "https://packages.example.com/churn/v1.zip")
                #expect(deployment["spec"]?["strategy"]?["rollingUpdate"]?["maxUnavailable"] == 0, "no ready pod goes before its replacement is ready")
                #expect(deployment["spec"]?["replicas"] == 1, "with autoscaling the HPA owns replicas (the server's default until it scales)")
                #expect(container["securityContext"]?["readOnlyRootFilesystem"] == true && template["spec"]?["securityContext"]?["runAsNonRoot"] == true)
                #expect(container["readinessProbe"]?["httpGet"]?["path"] == "/isAlive/")
                #expect(deployment["metadata"]?["labels"]?["team"] == "fraud" && template["metadata"]?["annotations"]?["owner"] == "fraud@example.com")
                #expect(deployment["metadata"]?["managedFields"]?.arrayValue?.contains { $0["manager"] == "apideployer" && $0["operation"] == "Apply" } == true)
                let owner = deployment["metadata"]?["uid"]
                for storage in ["services.", "ingresses.networking.k8s.io", "horizontalpodautoscalers.autoscaling"] {
                    let owned = await remote.objects(storage, namespace: "apps")
                    #expect(owned.count == 1 && owned.first?["metadata"]?["ownerReferences"]?.arrayValue?.first?["uid"] == owner, "\(storage) is owned by the Deployment")
                }
                let ingress = try #require(await remote.objects("ingresses.networking.k8s.io", namespace: "apps").first)
                #expect(ingress["spec"]?["rules"]?.arrayValue?.first?["host"] == "scoring.example.com")
                #expect(ingress["spec"]?["rules"]?.arrayValue?.first?["http"]?["paths"]?.arrayValue?.first?["path"] == "/churn")
                let autoscaler = try #require(await remote.objects("horizontalpodautoscalers.autoscaling", namespace: "apps").first)
                #expect(autoscaler["spec"]?["maxReplicas"] == 6 && autoscaler["spec"]?["scaleTargetRef"]?["name"] == .string(name))
                #expect(try await world.status()?.targets?.first?.url == "http://scoring.example.com/churn")
                #expect(await own.objects("deployments.apps").isEmpty, "the controller's own cluster is not used")

                try await world.deploy(["generations": ["strategy": "Hash", "entries": [["version": "v1", "weight": 90], ["version": "v2", "weight": 10]]]])
                try await world.settle()
                #expect(try await world.condition("Ready")?.status == .true)
                let split = try #require(await remote.objects("deployments.apps", namespace: "apps").first)
                let splitEnv = split["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["env"]?.arrayValue ?? []
                #expect(splitEnv.contains { $0["name"] == "APIDEPLOYER_STRATEGY" && $0["value"] == "HASH_BASED" }, "the pods split by the query's hash key")

                // The infrastructure changes: a new image, three replicas, no Ingress, no autoscaler.
                var changed = block
                changed["image"] = "ghcr.io/apideployer/apideployer:0.2.0"
                changed["replicas"] = 3
                changed["exposition"] = ["type": "ClusterIP", "port": 8080]
                changed["autoscaling"] = nil
                let infrastructure: JSONValue = [
                    "metadata": ["name": "prod-platform"], "spec": ["stage": "production", "type": "kubernetes", "kubernetes": changed, "resyncPeriod": "1m"],
                ]
                try await SampleObjects.createOrReplace(infrastructure, kind: .infrastructure, in: world.store)
                await world.reconcile()
                let refreshed = try #require(await remote.objects("deployments.apps", namespace: "apps").first)
                let refreshedContainer = refreshed["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first
                #expect(refreshedContainer?["image"] == "ghcr.io/apideployer/apideployer:0.2.0" && refreshed["spec"]?["replicas"] == 3, "the pods follow the infrastructure")
                #expect(refreshedContainer?["env"] == split["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["env"], "with the same versions and weights")
                #expect(await remote.objects("ingresses.networking.k8s.io", namespace: "apps").isEmpty)
                #expect(await remote.objects("horizontalpodautoscalers.autoscaling", namespace: "apps").isEmpty)
                #expect(await remote.objects("services.", namespace: "apps").first?["spec"]?["ports"]?.arrayValue?.first?["port"] == 8080)
                try await world.settle()

                world.expectNoneOf([Self.token], "the kubeconfig's token stays out of statuses, errors and logs")
                try await world.deleteAndSettle()
                for storage in ["deployments.apps", "services.", "ingresses.networking.k8s.io", "horizontalpodautoscalers.autoscaling", "pods."] {
                    #expect(await remote.objects(storage, namespace: "apps").isEmpty, "\(storage) removed with the deployment")
                }
                try await ownClient.shutdown()
            }
        }
    }

    /// A kubeconfig in a secret is written by users: a command or a file of the controller's
    /// in it is refused, naming what, before anything runs or is read.
    @Test func aKubeconfigSecretWithAnExecPluginOrFilesIsRefused() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("exec-ran-\(UUID().uuidString)")
        let kubeconfig = """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt}}]
            users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/touch, args: ["\(marker.path)"]}}}]
            contexts: [{name: c, context: {cluster: c, user: u}}]
            current-context: c
            """
        let block: JSONValue = ["kubeconfigSecretRef": ["name": "platform-credentials", "key": "kubeconfig"], "namespace": "apps", "image": "apideployer:0.1.0"]
        let world = try await PlatformWorld(type: "kubernetes", block: block, credentials: ["kubeconfig": kubeconfig], driver: KubernetesDriver(ownCluster: nil))
        let ready = try #require(try await world.probeInfrastructure())
        #expect(ready.status == .false)
        #expect(ready.message.contains("an exec credential plugin, a CA file") && ready.message.contains("inline"), "\(ready.message)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the plugin never ran")
    }
}
