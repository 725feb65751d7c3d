import AsyncHTTPClient
import CloudHTTP
import DeployerDrivers
import DeployerModel
import Foundation
import PlatformTesting
import Testing

@testable import DeployerCore

/// The Azure ML driver through the deployment reconciler against the ARM fake: create → Ready,
/// version 2 with a 90/10 split while tokens expire and ARM throttles, a deployment that fails
/// → Stalled with Azure's reason and no retry loop, back to one version, delete.
@Suite struct AzureMLDriverTests {

    @Test func fullLifecycleWithLongRunningOperationsThrottlingAndTokenRefresh() async throws {
        let fake = FakeAzureML()
        try await fake.serve { url in
            let pauses = PauseLog()
            let driver = AzureMLDriver(http: .shared, pause: { pauses.record($0) })
            let world = try await PlatformWorld(
                type: "azureml",
                block: [
                    "tenantId": .string(fake.tenant), "subscriptionId": .string(fake.subscription), "resourceGroup": .string(fake.resourceGroup),
                    "workspace": .string(fake.workspace), "credentialsSecretRef": ["name": "platform-credentials"], "image": "myregistry.azurecr.io/apideployer:0.1.0",
                    "instanceType": "Standard_DS3_v2", "instanceCount": 2, "endpointOverride": .string(url), "tokenEndpointOverride": .string(url),
                ],
                credentials: ["clientId": fake.clientID, "clientSecret": fake.clientSecret], driver: driver)
            #expect(try await world.probeInfrastructure()?.status == .true)

            try await world.deploy(["version": "v1"])
            try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)
            let endpoint = try #require(fake.endpointNames.first)
            #expect(fake.traffic(endpoint)?.objectValue?.values.map(\.intValue) == [100])
            #expect(pauses.count > 0, "operations were polled after their Retry-After")
            #expect(fake.tokensIssued == 1, "one token served every call so far")

            fake.expireTokens(after: 6)
            fake.throttle(next: 2)
            try await world.deploy(PlatformWorld.split)
            try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)
            #expect(fake.tokensIssued > 2, "expired tokens were replaced mid-rollout")
            #expect(fake.throttled == 2 && pauses.count(of: .seconds(3)) == 2, "429s were retried after their Retry-After")
            #expect(try await world.status()?.activeGenerations?.map(\.weight) == [90, 10])
            #expect(Set(fake.traffic(endpoint)?.objectValue?.values.compactMap(\.intValue) ?? []) == [90, 10])
            let infrastructure = try await world.resolvedInfrastructure()
            for version in ["v1", "v2"] {
                let answer = try await driver.query(
                    service: "churn", PublicQuery(endpoint: "predict-churn", body: ["features": [:]], forcedGeneration: version), target: fake.workspace,
                    on: infrastructure)
                #expect(answer.status == 200 && answer.body["result"]?["version"]?.stringValue == version)
            }

            fake.expireTokens(after: nil)
            fake.edit { $0.failingVersions = ["v3"] }
            try await world.deploy(["version": "v3"])
            try await world.settle()
            let stalled = try await world.condition("Stalled")
            #expect(stalled?.status == .true && stalled?.reason == "ImportFailed")
            #expect(stalled?.message.contains("Liveness probe failed") == true)
            #expect(Set(fake.traffic(endpoint)?.objectValue?.values.compactMap(\.intValue) ?? []) == [90, 10], "v1 and v2 keep their traffic")
            let puts = fake.requests.filter { $0.hasPrefix("PUT") }.count
            for _ in 0..<3 { await world.reconcile() }
            #expect(fake.requests.filter { $0.hasPrefix("PUT") }.count == puts, "the failed version is not deployed again until the spec changes")

            try await world.deploy(["version": "v2"])
            try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)
            #expect(fake.deploymentNames(endpoint).count == 1, "v1's deployment and v3's failed one are gone")

            try await world.deleteAndSettle()
            #expect(fake.endpointNames.isEmpty && fake.environmentCount == 0)
            world.expectNoneOf([fake.clientSecret] + fake.credentialsHandedOut)
        }
    }
}
