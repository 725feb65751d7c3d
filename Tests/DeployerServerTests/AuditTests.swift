import DeployerCore
import DeployerModel
import DeployerServer
import DeployerTesting
import Testing

/// Every write through the API is one audit event: who, verb, kind, name, generation, and
/// whether it was allowed; reads are not audited.
@Suite struct AuditTests {
    let base = APITestHarness.base

    @Test func writesAreAuditedWithWhoWhatAndTheOutcome() async throws {
        let harness = try await APITestHarness()
        _ = await harness.send("POST", base, body: SampleObjects.deployment("churn-dev"))
        _ = await harness.send("GET", base + "/churn-dev")
        _ = await harness.send("POST", base, body: SampleObjects.deployment("churn-dev"))
        _ = await harness.send("DELETE", base + "/churn-dev", token: "not-a-token")
        _ = await harness.send("POST", base, query: ["dryRun": "All"], body: SampleObjects.deployment("tryout"))
        let events = harness.audit.events
        #expect(events.count == 4, "the read is not audited")
        #expect(events.allSatisfy { $0["msgType"] == "api-write" && $0["timestamp"]?.stringValue?.hasSuffix("Z") == true })

        let created = events[0]
        #expect(created["user"] == "admin" && created["groups"] == ["system:masters"] && created["verb"] == "create")
        #expect(created["kind"] == "ServiceDeployment" && created["namespace"] == "default" && created["name"] == "churn-dev")
        #expect(created["generation"] == 1 && created["decision"] == "allowed" && created["status"] == 201)

        let conflict = events[1]
        #expect(conflict["decision"] == "allowed" && conflict["status"] == 409 && conflict["name"] == "churn-dev")
        #expect(conflict["message"]?.stringValue?.contains("already exists") == true)

        let denied = events[2]
        #expect(denied["decision"] == "denied" && denied["status"] == 401 && denied["user"] == .null)
        #expect(denied["verb"] == "delete" && denied["name"] == "churn-dev")

        #expect(events[3]["dryRun"] == true && events[3]["name"] == "tryout")
    }
}
