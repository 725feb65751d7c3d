import AsyncHTTPClient
import CloudHTTP
@testable import DeployerCore
import DeployerDrivers
import DeployerModel
import Foundation
import PlatformTesting
import Testing

/// The SageMaker driver through the deployment reconciler: the whole lifecycle against the
/// project's fake (intermediate states, UpdateEndpoint, rolled-back updates, throttling), and
/// create/describe/delete with the S3 upload against moto with signature checking on.
@Suite struct SageMakerDriverTests {

    static func block(_ url: String) -> JSONValue {
        [
            "region": "us-east-1", "credentialsSecretRef": ["name": "platform-credentials"],
            "executionRoleArn": "arn:aws:iam::123456789012:role/sagemaker-exec", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/apideployer:0.1.0",
            "artifactBucket": "model-artifacts", "instanceType": "ml.m5.large", "instanceCount": 1, "endpointOverride": .string(url),
        ]
    }

    static func world(_ fake: FakeSageMaker, _ url: String, pauses: PauseLog = PauseLog()) async throws -> PlatformWorld {
        let driver = SageMakerDriver(http: .shared, packages: TestPackages(), pause: { pauses.record($0) })
        return try await PlatformWorld(
            type: "sagemaker", block: block(url), credentials: ["accessKeyId": fake.accessKeyID, "secretAccessKey": fake.secret], driver: driver)
    }

    @Test func deploysUpdatesWithASplitStallsOnARolledBackUpdateAndDeletesEverything() async throws {
        let fake = FakeSageMaker(buckets: ["model-artifacts"])
        try await fake.serve { url in
            let pauses = PauseLog()
            let world = try await Self.world(fake, url, pauses: pauses)
            #expect(try await world.probeInfrastructure()?.status == .true)

            try await world.deploy(["version": "v1"])
            let rounds = try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)
            #expect(rounds > 1, "Creating was waited for over more than one reconcile")
            let endpoint = try #require(fake.endpointNames.first)
            #expect(fake.endpoint(endpoint)?.status == "InService")
            #expect(fake.objectKeys.count == 1 && fake.modelNames.count == 1)

            fake.throttle(next: 2)
            try await world.deploy(PlatformWorld.split)
            try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)
            #expect(pauses.count >= 2, "throttled calls were retried after a pause")
            #expect(fake.count("UpdateEndpoint") == 1)
            let infrastructure = try await world.resolvedInfrastructure()
            for version in ["v1", "v2"] {
                let answer = try await world.driver.query(
                    service: "churn", PublicQuery(endpoint: "predict-churn", body: ["features": [:]], forcedGeneration: version), target: "us-east-1",
                    on: infrastructure)
                #expect(answer.status == 200 && answer.body["result"]?["version"]?.stringValue == version)
            }
            #expect(try await world.status()?.activeGenerations?.map(\.weight) == [90, 10])

            fake.edit { $0.failingVersions = ["v3"] }
            try await world.deploy(["version": "v3"])
            try await world.settle()
            let stalled = try await world.condition("Stalled")
            #expect(stalled?.status == .true && stalled?.reason == "TargetFailed")
            #expect(stalled?.message.contains("did not pass the ping health check") == true)
            #expect(fake.endpoint(endpoint)?.status == "InService", "SageMaker rolled the update back; v1/v2 keep serving")
            let updates = fake.count("UpdateEndpoint")
            for _ in 0..<3 { await world.reconcile() }
            #expect(fake.count("UpdateEndpoint") == updates, "a failed configuration is not retried until the spec changes")

            try await world.deploy(["version": "v2"])
            try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)

            try await world.deleteAndSettle()
            #expect(fake.endpointNames.isEmpty && fake.modelNames.isEmpty && fake.configNames.isEmpty && fake.objectKeys.isEmpty)
            world.expectNoneOf([fake.secret])
        }
    }

    @Test func aFirstEndpointThatFailsStallsAndIsCreatedAgainForANewSpec() async throws {
        let fake = FakeSageMaker(buckets: ["model-artifacts"])
        fake.edit { $0.failingVersions = ["v1"] }
        try await fake.serve { url in
            let world = try await Self.world(fake, url)
            try await world.deploy(["version": "v1"])
            try await world.settle()
            #expect(try await world.condition("Stalled")?.reason == "TargetFailed")
            #expect(fake.endpoint(fake.endpointNames[0])?.status == "Failed")
            let creates = fake.count("CreateEndpoint")
            for _ in 0..<3 { await world.reconcile() }
            #expect(fake.count("CreateEndpoint") == creates)

            try await world.deploy(["version": "v2"])
            try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)
            #expect(fake.count("DeleteEndpoint") == 1 && fake.count("CreateEndpoint") == creates + 1, "the failed endpoint was replaced")
        }
    }

    @Test func aHashSplitAndANodeOnlySettingAreRefusedWithAReason() async throws {
        let fake = FakeSageMaker(buckets: ["model-artifacts"])
        try await fake.serve { url in
            let world = try await Self.world(fake, url)
            var hash = PlatformWorld.split
            hash["generations"]?["strategy"] = "Hash"
            try await world.deploy(hash)
            try await world.settle()
            let stalled = try await world.condition("Stalled")
            #expect(stalled?.reason == "ActivationRefused" && stalled?.message.contains("hash split") == true)
            #expect(fake.endpointNames.isEmpty)

            try await world.deploy(["version": "v1", "endpointTuning": ["predict-churn": ["ceil": 4]]])
            try await world.settle()
            #expect(try await world.condition("Stalled")?.reason == "TuningRefused")
        }
    }

    @Test func createDescribeAndDeleteRunAgainstMotoWithSignaturesChecked() async throws {
        try await MotoServer.with { moto in
            try await moto.client().createBucket("model-artifacts")
            let driver = SageMakerDriver(http: .shared, packages: TestPackages())
            let world = try await PlatformWorld(
                type: "sagemaker", block: Self.block(moto.url), credentials: ["accessKeyId": moto.accessKeyID, "secretAccessKey": moto.secret],
                driver: driver)
            #expect(try await world.probeInfrastructure()?.status == .true)
            try await world.deploy(["version": "v1"])
            try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)
            let target = try #require(try await world.status()?.targets?.first)
            #expect(target.healthy && target.generations == ["v1"])
            let client = moto.client()
            let endpoints = try await client.json(service: "sagemaker", target: "SageMaker.ListEndpoints", [:])["Endpoints"]?.arrayValue ?? []
            #expect(endpoints.count == 1)

            try await world.deleteAndSettle()
            #expect(try await client.json(service: "sagemaker", target: "SageMaker.ListEndpoints", [:])["Endpoints"]?.arrayValue?.isEmpty == true)
            #expect(try await client.json(service: "sagemaker", target: "SageMaker.ListModels", [:])["Models"]?.arrayValue?.isEmpty == true)
            world.expectNoneOf([moto.secret])

            let forged = try await PlatformWorld(
                type: "sagemaker", block: Self.block(moto.url), credentials: ["accessKeyId": moto.accessKeyID, "secretAccessKey": "wrong-secret-value"],
                driver: driver)
            let ready = try await forged.probeInfrastructure()
            #expect(ready?.status == .false && ready?.message.contains("SignatureDoesNotMatch") == true)
        }
    }
}
