import AsyncHTTPClient
import CloudHTTP
import DeployerDrivers
import DeployerModel
import Foundation
import PlatformTesting
import Testing

@testable import DeployerCore

/// The Snowpark driver through the deployment reconciler against the SQL API fake: create →
/// Ready once the service runs and its ingress has a host, version 2 with a 90/10 split in the
/// specification while the key-pair JWT is revoked and the API throttles, an upgrade whose
/// container fails → Stalled with the container's message while the old instances serve, delete.
@Suite struct SnowparkDriverTests {

    /// A clock the test moves (the JWTs' iat and exp come from it).
    final class TestClock: @unchecked Sendable {
        private let lock = NSLock()
        private var current = Date()
        var now: Date { lock.withLock { current } }
        func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
    }

    @Test func fullLifecycleWithStatementPollingThrottlingAndTokenRefresh() async throws {
        let fake = FakeSnowpark()
        try await fake.serve { url in
            let pauses = PauseLog()
            let clock = TestClock()
            let driver = SnowparkDriver(http: .shared, now: { clock.now }, pause: { pauses.record($0) })
            let world = try await PlatformWorld(
                type: "snowpark",
                block: [
                    "account": "myorg-myaccount", "user": "deployer", "role": "ML_DEPLOYER", "database": .string(fake.database), "schema": .string(fake.schema),
                    "warehouse": "ML_WH", "computePool": .string(fake.computePool), "imageRepository": "ml.serving.images",
                    "image": "/ml/serving/images/apideployer:0.1.0", "credentialsSecretRef": ["name": "platform-credentials"], "endpointOverride": .string(url),
                ],
                credentials: ["privateKeyPEM": fake.privateKeyPEM], driver: driver)
            #expect(try await world.probeInfrastructure()?.status == .true)

            try await world.deploy(["version": "v1"])
            let rounds = try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)
            #expect(rounds > 1, "PENDING and the provisioning ingress were waited for")
            let service = try #require(fake.serviceNames.first)
            #expect(fake.service(service)?.status == "RUNNING")
            #expect(pauses.count > 0, "202 answers were polled by handle")
            let infrastructure = try await world.resolvedInfrastructure()
            let answer = try await driver.query(service: "churn", PublicQuery(endpoint: "predict-churn", body: ["features": ["tenure": 3]]), target: fake.computePool, on: infrastructure)
            #expect(answer.status == 200 && answer.body["result"]?["version"] == "v1")

            clock.advance(600)
            fake.revokeTokens(issuedBefore: clock.now - 1)
            fake.throttle(next: 2)
            try await world.deploy(PlatformWorld.split)
            try await world.settle()
            #expect(try await world.condition("Ready")?.status == .true)
            #expect(fake.rejectedTokens == 1, "the revoked token was refused once, then replaced")
            #expect(fake.throttled == 2 && pauses.count(of: .seconds(3)) == 2, "429s were retried after their Retry-After")
            #expect(FakeSnowpark.versions(fake.service(service)?.spec ?? "").map(\.weight) == [90, 10])
            for version in ["v1", "v2"] {
                let forced = try await driver.query(
                    service: "churn", PublicQuery(endpoint: "predict-churn", body: ["features": [:]], forcedGeneration: version), target: fake.computePool,
                    on: infrastructure)
                #expect(forced.status == 200 && forced.body["result"]?["version"]?.stringValue == version)
            }

            fake.edit { $0.failingVersions = ["v3"] }
            try await world.deploy(["version": "v3"])
            try await world.settle()
            let stalled = try await world.condition("Stalled")
            #expect(stalled?.status == .true && stalled?.reason == "TargetFailed")
            #expect(stalled?.message.contains("Readiness probe failed") == true)
            let served = try await driver.query(service: "churn", PublicQuery(endpoint: "predict-churn", body: ["features": [:]]), target: fake.computePool, on: infrastructure)
            #expect(["v1", "v2"].contains(served.body["result"]?["version"]?.stringValue ?? ""), "the previous instances keep serving")
            let alters = fake.statements.filter { $0.hasPrefix("ALTER") }.count
            for _ in 0..<3 { await world.reconcile() }
            #expect(fake.statements.filter { $0.hasPrefix("ALTER") }.count == alters, "not upgraded again until the spec changes")

            fake.edit { $0.failingVersions = [] }
            try await world.deploy(["version": "v2"])
            try await world.settle()
            let ready = try await world.condition("Ready")
            #expect(ready?.status == .true, "\(ready?.message ?? "")")
            #expect(FakeSnowpark.versions(fake.service(service)?.spec ?? "").map(\.version) == ["v2"], "v1 and v3 left the specification")

            try await world.deleteAndSettle()
            #expect(fake.serviceNames.isEmpty)
            let keyLines = fake.privateKeyPEM.split(separator: "\n").dropFirst().prefix(3).map(String.init)
            world.expectNoneOf(keyLines + fake.issuedIngressTokens)
        }
    }
}
