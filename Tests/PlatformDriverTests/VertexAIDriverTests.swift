import AsyncHTTPClient
import CloudHTTP
import DeployerDrivers
import DeployerModel
import Foundation
import PlatformTesting
import Testing

@testable import DeployerCore

/// The Vertex AI driver through the deployment reconciler against the Vertex fake: create →
/// Ready, version 2 with a 90/10 split while tokens expire and quota throttles, a model that
/// never becomes ready → Stalled with Vertex's reason and no retry loop, delete.
@Suite struct VertexAIDriverTests {

    @Test func fullLifecycleWithOperationsThrottlingAndTokenRefresh() async throws {
        let fake = FakeVertexAI()
        try await fake.serve { url in
            let pauses = PauseLog()
            let driver = VertexAIDriver(http: .shared, packages: TestPackages(), pause: { pauses.record($0) })
            let world = try await PlatformWorld(
                type: "vertexai",
                block: [
                    "project": .string(fake.project), "location": .string(fake.location), "credentialsSecretRef": ["name": "platform-credentials"],
                    "image": "europe-docker.pkg.dev/my-project/apideployer/apideployer:0.1.0", "artifactBucket": "gs://model-artifacts",
                    "machineType": "n1-standard-4", "minReplicas": 1, "maxReplicas": 2, "endpointOverride": .string(url),
                ],
                credentials: ["serviceAccountJSON": fake.serviceAccountJSON], driver: driver)
            #expect(try await world.probeInfrastructure()?.status == .true)

            try await world.deploy(["version": "v1"])
            try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)
            let endpoint = try #require(fake.endpointNames.first)
            #expect(fake.trafficSplit(endpoint) == [100] && fake.objectNames.count == 1)
            #expect(pauses.count > 0, "operations were polled")
            let infrastructure = try await world.resolvedInfrastructure()
            let answer = try await driver.query(service: "churn", PublicQuery(endpoint: "predict-churn", body: ["features": ["tenure": 3]]), target: fake.location, on: infrastructure)
            #expect(answer.status == 200 && answer.body["result"]?["version"] == "v1")

            fake.expireTokens(after: 5)
            fake.throttle(next: 2)
            try await world.deploy(PlatformWorld.split)
            try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)
            #expect(fake.tokensIssued > 2, "expired tokens were replaced mid-rollout")
            #expect(fake.throttled == 2 && pauses.count(of: .seconds(3)) == 2, "429s were retried after their Retry-After")
            #expect(fake.trafficSplit(endpoint) == [10, 90] && fake.deployedCount(endpoint) == 2)

            fake.expireTokens(after: nil)
            fake.edit { $0.failingVersions = ["v3"] }
            try await world.deploy(["version": "v3"])
            try await world.settle()
            let stalled = try await world.condition("Stalled")
            #expect(stalled?.status == .true && stalled?.reason == "ImportFailed")
            #expect(stalled?.message.contains("Model server never became ready") == true)
            #expect(fake.trafficSplit(endpoint) == [10, 90], "v1 and v2 keep their traffic")
            let deploys = fake.requests.filter { $0.hasSuffix(":deployModel") }.count
            for _ in 0..<3 { await world.reconcile() }
            #expect(fake.requests.filter { $0.hasSuffix(":deployModel") }.count == deploys, "not deployed again until the spec changes")

            try await world.deploy(["version": "v2", "testQueries": [["endpoint": "predict-churn", "query": ["features": [:]]]]])
            try await world.settle()
            let refused = try await world.condition("Stalled")
            #expect(refused?.reason == "TestQueryFailed" && refused?.message.contains("cannot send a query to one version") == true)

            try await world.deploy(["version": "v2"])
            try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)
            #expect(fake.trafficSplit(endpoint) == [100] && fake.deployedCount(endpoint) == 1)
            #expect(fake.modelNames.count == 1 && fake.objectNames.count == 1, "v1's and v3's models and packages were deleted")

            try await world.deleteAndSettle()
            #expect(fake.endpointNames.isEmpty && fake.modelNames.isEmpty && fake.objectNames.isEmpty)
            let privateKey = try #require(try JSONValue.parse(Array(fake.serviceAccountJSON.utf8))["private_key"]?.stringValue)
            let keyBody = privateKey.split(separator: "\n").dropFirst().prefix(3).joined()
            world.expectNoneOf([keyBody] + fake.issuedTokens)
        }
    }

    /// A deployModel that outlasts the driver's polling (as when the controller restarts) is
    /// waited for through the endpoint's operations, not started a second time.
    @Test func aDeploymentStillRunningIsWaitedForNotStartedTwice() async throws {
        let fake = FakeVertexAI()
        fake.edit { $0.deployPolls = 70 }
        try await fake.serve { url in
            let driver = VertexAIDriver(http: .shared, packages: TestPackages(), pause: { _ in })
            let world = try await PlatformWorld(
                type: "vertexai",
                block: [
                    "project": .string(fake.project), "location": .string(fake.location), "credentialsSecretRef": ["name": "platform-credentials"],
                    "image": "europe-docker.pkg.dev/my-project/apideployer/apideployer:0.1.0", "artifactBucket": "gs://model-artifacts",
                    "machineType": "n1-standard-4", "endpointOverride": .string(url),
                ],
                credentials: ["serviceAccountJSON": fake.serviceAccountJSON], driver: driver)
            try await world.deploy(["version": "v1"])
            try await world.settle(limit: 60)
            #expect(try await world.condition("Ready")?.status == .true)
            #expect(fake.requests.filter { $0.hasSuffix(":deployModel") }.count == 1, "deployed once")
            #expect(fake.deployedCount(try #require(fake.endpointNames.first)) == 1)
        }
    }
}
