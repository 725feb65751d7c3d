import AsyncHTTPClient
import DeployerModel
import Foundation
import NIOCore
import PlatformTesting
import Testing

/// A Kubernetes infrastructure end to end on the fake API server (`FakeKubeCluster`), with the
/// real kubectl and two `apideployer controller --kubernetes` (one leads): the CRDs and samples
/// applied with kubectl, the churn service deployed as API node pods (real `node serve`
/// processes started by the fake's kubelet, queried through the API server's service proxy), a
/// pod image that is never pulled (the infrastructure's new image, which the pods follow) stalls
/// the deployment with the reason while v1 keeps serving, v2 rolls out under load with no failed
/// query while the leader is killed mid-rollout and the other controller finishes it (each
/// pre-deploy hook once), and deleting the custom resource removes everything it owned.
@Suite struct KubernetesClusterTests {
    static let image = "ghcr.io/apideployer/apideployer:0.1.0"
    static let missingImage = "registry.invalid/scoring/apideployer:missing"

    /// Runs API node pods as local processes, once `gate` lets them; any other image cannot be pulled.
    static func kubelet(_ scratch: Scratch, gate: PodGate) -> FakeKubelet {
        { launch in
            await gate.pass()
            guard launch.image == image else {
                throw FakeContainerFailure(reason: "ErrImagePull", message: "failed to pull image \"\(launch.image)\": not found")
            }
            let local = ["--data-dir": scratch.url.appendingPathComponent("pods/\(launch.pod)").path, "--host": "127.0.0.1", "--port": "0"]
            var arguments = launch.args
            for (index, argument) in arguments.enumerated().dropLast() { if let value = local[argument] { arguments[index + 1] = value } }
            let process = try ChildProcess(Products.apideployer, arguments, environment: launch.environment, directory: scratch.url)
            do {
                let line = try await process.waitForOutput(containing: "apinode: serving on ")
                let port = line.firstMatch(of: /apinode: serving on http:\/\/127\.0\.0\.1:(\d+)/).flatMap { Int($0.1) } ?? 0
                return FakeContainer(port: port) { _ = await process.terminate() }
            } catch {
                let result = await process.terminate()
                throw FakeContainerFailure(reason: "CrashLoopBackOff", message: String(result.errors.suffix(300)))
            }
        }
    }

    /// The cluster's clock (rollout deadlines), moved by the test.
    final class TestDate: @unchecked Sendable {
        private let lock = NSLock()
        private var date = Date()
        var now: Date { lock.withLock { date } }
        func advance(_ seconds: TimeInterval) { lock.withLock { date += seconds } }
    }

    /// The fake cluster as kubectl and queries reach it (a kubeconfig without credentials).
    struct Cluster {
        let url: String
        let scratch: Scratch
        let kubeconfig: String

        init(url: String, scratch: Scratch, namespace: String = "scoring") throws {
            self.url = url
            self.scratch = scratch
            kubeconfig = scratch.url.appendingPathComponent("kubeconfig").path
            try """
            apiVersion: v1
            kind: Config
            clusters: [{name: fake, cluster: {server: "\(url)"}}]
            users: [{name: tester, user: {}}]
            contexts: [{name: fake, context: {cluster: fake, user: tester, namespace: \(namespace)}}]
            current-context: fake
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        }

        func kubectl(_ arguments: String...) async throws -> CommandResult {
            try await run(
                "/usr/bin/env", ["kubectl", "--kubeconfig", kubeconfig] + arguments,
                environment: ["KUBECACHEDIR": scratch.url.appendingPathComponent("kube-cache").path], in: scratch.url)
        }

        /// A prediction through the service proxy: HTTP status and the generation that answered.
        func predict(_ service: String) async throws -> (status: Int, generation: String?) {
            var request = HTTPClientRequest(url: "\(url)/api/v1/namespaces/scoring-pods/services/\(service):http/proxy/public/api/v1/churn-pods/predict-churn/predict")
            request.method = .POST
            request.body = .bytes(ByteBuffer(bytes: DeploymentWorld.sampleQuery.serialized()))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let answer = try? JSONValue.parse(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView))
            return (Int(response.status.code), answer?["apiContext"]?["serviceGeneration"]?.stringValue)
        }
    }

    @Test func aDeploymentRunsAsPodsStallsOnAMissingImageRollsOutUnderLoadAndIsDeletedWithItsObjects() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        var digests: [String: String] = [:]
        for version in ["v1", "v2"] {
            let archive = try await DeploymentWorld.examplePackage(service: "churn-pods", version: version, in: scratch)
            digests[version] = String(try await run("/usr/bin/env", ["sha256sum", archive.path], in: scratch.url).output.prefix(64))
        }
        let packages = scratch.url.appendingPathComponent("packages")
        let files = try ChildProcess("/usr/bin/env", ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", packages.path], directory: scratch.url)
        defer { files.signal(SIGKILL) }
        let filePort = try await files.waitForOutput(containing: "Serving HTTP on").firstMatch(of: /port (\d+)/).map { String($0.1) } ?? ""
        let clock = TestDate()
        let gate = PodGate()
        let fake = FakeKubeCluster(kubelet: Self.kubelet(scratch, gate: gate), now: { clock.now })
        let marker = scratch.url.appendingPathComponent("hook-runs")

        try await FakeKubeAPIServer.with(fake) { url in
            let cluster = try Cluster(url: url, scratch: scratch)
            let kubeconfig = cluster.kubeconfig
            let manifests = Products.repository.appendingPathComponent("manifests").path

            let crds = try await cluster.kubectl("apply", "--validate=false", "-f", manifests + "/crds/")
            #expect(crds.status == 0, "\(crds.errors)")
            let established = try await cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=10s")
            #expect(established.status == 0, "\(established.errors)")
            let namespaces = scratch.url.appendingPathComponent("namespaces.yaml").path
            try "apiVersion: v1\nkind: Namespace\nmetadata: {name: scoring}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: scoring-pods}\n"
                .write(toFile: namespaces, atomically: true, encoding: .utf8)
            #expect(try await cluster.kubectl("apply", "--validate=false", "-f", namespaces).status == 0)
            let samples = try await cluster.kubectl("apply", "--validate=false", "-f", manifests + "/samples/")
            #expect(samples.status == 0, "the samples apply: \(samples.errors)")

            let service = scratch.url.appendingPathComponent("churn.yaml").path
            let versions = ["v1", "v2"].map { "    - {version: \($0), package: {sha256: \"\(digests[$0] ?? "")\", url: \"http://127.0.0.1:\(filePort)/churn-pods-\($0).zip\"}}" }
            try """
            apiVersion: apideployer.dev/v1alpha1
            kind: PublishedService
            metadata: {name: churn-pods}
            spec:
              versions:
            \(versions.joined(separator: "\n"))
            ---
            apiVersion: apideployer.dev/v1alpha1
            kind: ServiceDeployment
            metadata: {name: churn-dev}
            spec:
              service: churn-pods
              infrastructure: dev-cluster
              version: v1
              hooks:
                preDeploy: [{name: count, exec: {command: ["/bin/sh", "-c", "echo $(cat) >> \(marker.path)"]}}]
            """.write(toFile: service, atomically: true, encoding: .utf8)
            #expect(try await cluster.kubectl("apply", "--validate=false", "-f", service).status == 0)

            // Two controllers: one leads through the Lease and reconciles.
            let controllers = [
                try await KubernetesControllerTests.startController("controller-a", kubeconfig: kubeconfig, scratch: scratch),
                try await KubernetesControllerTests.startController("controller-b", kubeconfig: kubeconfig, scratch: scratch),
            ]
            defer { for controller in controllers { controller.process.signal(SIGKILL) } }
            let ready = try await cluster.kubectl("wait", "--for=condition=Ready", "servicedeployment/churn-dev", "--timeout=120s")
            let shown = try await cluster.kubectl("get", "sdep", "churn-dev", "-o", "yaml").output
            try #require(ready.status == 0, "kubectl wait returns once v1 serves: \(ready.errors) \(shown)")
            let holder = try await cluster.kubectl("get", "lease", "apideployer-controller", "-n", "default", "-o", "jsonpath={.spec.holderIdentity}").output
            let leader = try #require(controllers.first { $0.identity == holder })
            let follower = try #require(controllers.first { $0.identity != holder })
            #expect(try await KubernetesControllerTests.reconciles(leader, in: scratch) > 0)
            #expect(try await KubernetesControllerTests.reconciles(follower, in: scratch) == 0, "only the leader reconciles")
            let name = try await cluster.kubectl(
                "get", "deployments", "-n", "scoring-pods", "-l", "apideployer.dev/service=churn-pods", "-o", "jsonpath={.items[0].metadata.name}").output
            try #require(!name.isEmpty)
            for _ in 0..<10 {
                let answer = try await cluster.predict(name)
                #expect(answer.status == 200 && answer.generation == "v1", "the pods serve v1: \(answer)")
            }
            let rolledOut = try await cluster.kubectl("rollout", "status", "deployment/\(name)", "-n", "scoring-pods", "--timeout=30s")
            #expect(rolledOut.status == 0 && rolledOut.output.contains("successfully rolled out"), "\(rolledOut.output) \(rolledOut.errors)")
            let owned = await fake.objects("services.", namespace: "scoring-pods")
            #expect(owned.count == 1 && owned.first?["metadata"]?["ownerReferences"]?.arrayValue?.first?["name"]?.stringValue == name)

            // The infrastructure's image changes to one that is never pulled: the pods follow, the
            // new ones never become ready, the deadline passes.
            #expect(try await cluster.kubectl("patch", "infrastructure", "dev-cluster", "--type=merge", "-p", #"{"spec":{"kubernetes":{"image":"\#(Self.missingImage)"}}}"#).status == 0)
            let pulling = await fake.object("pods.", namespace: "scoring-pods") { pod in
                pod["status"]?["containerStatuses"]?.arrayValue?.first?["state"]?["waiting"]?["reason"]?.stringValue == "ImagePullBackOff"
            }
            #expect(pulling != nil, "a pod of the new template cannot pull its image")
            clock.advance(301)
            await fake.reevaluateWorkloads()
            let stalled = try await cluster.kubectl("wait", "--for=condition=Stalled", "servicedeployment/churn-dev", "--timeout=120s")
            #expect(stalled.status == 0, "\(stalled.errors)")
            let reason = try await cluster.kubectl("get", "sdep", "churn-dev", "-o", #"jsonpath={.status.conditions[?(@.type=="Stalled")].message}"#).output
            #expect(reason.contains("progress deadline") && reason.contains("ImagePullBackOff"), "the reason names the deadline and the pods: \(reason)")
            for _ in 0..<10 {
                let answer = try await cluster.predict(name)
                #expect(answer.status == 200 && answer.generation == "v1", "v1 keeps serving: \(answer)")
            }
            let failedEvent = await fake.object("events.", namespace: "scoring") { $0["reason"] == "RolloutFailed" }
            #expect(failedEvent?["type"] == "Warning" && failedEvent?["message"]?.stringValue?.contains("ImagePullBackOff") == true)
            let described = try await cluster.kubectl("describe", "servicedeployment", "churn-dev")
            #expect(["RolloutStarted", "RolloutSucceeded", "RolloutFailed"].allSatisfy(described.output.contains), "kubectl describe shows the rollout events: \(described.output)")

            // The image fixed and the deployment retried: the pods run the fixed image, v1 serves.
            #expect(try await cluster.kubectl("patch", "infrastructure", "dev-cluster", "--type=merge", "-p", #"{"spec":{"kubernetes":{"image":"\#(Self.image)"}}}"#).status == 0)
            #expect(try await cluster.kubectl("annotate", "servicedeployment", "churn-dev", "apideployer.dev/retry=image-fixed").status == 0)
            let recovered = try await cluster.kubectl("wait", "--for=condition=Ready", "servicedeployment/churn-dev", "--timeout=120s")
            #expect(recovered.status == 0, "\(recovered.errors)")

            // v2 while queries keep coming: the leader stages it (the new pods held back), dies,
            // and the other controller finishes the rollout.
            let load = LoadLoop()
            let queries = Task { await load.run { try await cluster.predict(name) } }
            gate.close()
            #expect(try await cluster.kubectl("patch", "servicedeployment", "churn-dev", "--type=merge", "-p", #"{"spec":{"version":"v2"}}"#).status == 0)
            let staged = await fake.object("deployments.apps", namespace: "scoring-pods") { deployment in
                let container = deployment["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first
                return container?["image"]?.stringValue == Self.image && container?["env"]?.jsonString.contains(#"\"version\":\"v2\""#) == true
            }
            #expect(staged != nil, "the leader staged v2 with the fixed image")
            leader.process.signal(SIGKILL)
            _ = await leader.process.finish()
            let killed = ContinuousClock.now
            gate.open()
            let readyAgain = try await cluster.kubectl("wait", "--for=condition=Ready", "servicedeployment/churn-dev", "--timeout=180s")
            load.stop()
            let answers = await queries.value
            #expect(readyAgain.status == 0, "\(readyAgain.errors)")
            print("KubernetesClusterTests: v2 Ready \(ContinuousClock.now - killed) after the leader was killed mid-rollout (lease 15 s, retry 2 s)")
            #expect(try await cluster.kubectl("get", "lease", "apideployer-controller", "-n", "default", "-o", "jsonpath={.spec.holderIdentity}").output == follower.identity)
            let runs = try String(contentsOf: marker, encoding: .utf8).split(separator: "\n")
            #expect(runs.count == 3, "one pre-deploy hook per rollout (v1, the retry, v2; none for the drift to the new image), none twice: \(runs.count)")
            let failed = answers.filter { $0.status != 200 }
            #expect(failed.isEmpty, "\(answers.count) queries during the rollout, failed: \(failed.prefix(5))")
            #expect(answers.first?.generation == "v1" && answers.last?.generation == "v2", "the queries span the switch")
            #expect(Set(answers.compactMap(\.generation)).isSubset(of: ["v1", "v2"]))
            print("KubernetesClusterTests: \(answers.count) queries during the v2 rollout, \(failed.count) failed")
            let secondRollout = try await cluster.kubectl("rollout", "status", "deployment/\(name)", "-n", "scoring-pods", "--timeout=30s")
            #expect(secondRollout.status == 0, "\(secondRollout.errors)")

            // Deleting the custom resource removes the Deployment, its Service and its pods.
            let deleted = try await cluster.kubectl("delete", "servicedeployment", "churn-dev", "--timeout=120s")
            #expect(deleted.status == 0, "\(deleted.errors)")
            let left = try await cluster.kubectl("get", "deployments,services,pods", "-n", "scoring-pods", "-o", "name")
            #expect(left.status == 0 && left.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "left behind: \(left.output)")
        }
    }
}

/// Queries sent one after another until stopped (at most 100,000 or three minutes).
final class LoadLoop: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false

    func stop() { lock.withLock { stopped = true } }

    func run(_ query: @Sendable () async throws -> (status: Int, generation: String?)) async -> [(status: Int, generation: String?)] {
        var answers: [(status: Int, generation: String?)] = []
        let deadline = ContinuousClock.now + .seconds(180)
        while !lock.withLock({ stopped }), answers.count < 100_000, ContinuousClock.now < deadline {
            answers.append((try? await query()) ?? (0, nil))
        }
        return answers
    }
}

/// Holds pod starts while closed (the test decides when new pods may come up).
final class PodGate: @unchecked Sendable {
    private let lock = NSLock()
    private var closed = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func close() { lock.withLock { closed = true } }

    func open() {
        let released = lock.withLock {
            closed = false
            defer { waiting.removeAll() }
            return waiting
        }
        for continuation in released { continuation.resume() }
    }

    func pass() async {
        await withCheckedContinuation { continuation in
            let wait = lock.withLock {
                if closed { waiting.append(continuation) }
                return closed
            }
            if !wait { continuation.resume() }
        }
    }
}
