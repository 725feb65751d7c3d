import DeployerCore
import DeployerModel
import DeployerTesting
import Foundation
import Testing

/// The validating admission webhook (`POST /admission/v1/review`): AdmissionReview v1 requests
/// judged by the permission rules with the request's user and groups, answered with the same
/// uid — over the permission world (prod: ci deploys; dev: everyone deploys).
@Suite struct AdmissionWebhookTests {
    static func review(
        _ operation: String, name: String, infrastructure: String, before: String? = nil, user: String, groups: [String], subResource: String? = nil
    ) -> JSONValue {
        func deployment(_ infrastructure: String) -> JSONValue {
            [
                "apiVersion": .string(ResourceKind.apiVersion), "kind": "ServiceDeployment", "metadata": ["name": .string(name), "namespace": "default"],
                "spec": ["service": "churn", "infrastructure": .string(infrastructure), "version": "v1"],
            ]
        }
        var request: JSONValue = [
            "uid": .string("uid-\(operation)-\(user)"), "kind": ["group": "apideployer.dev", "version": "v1alpha1", "kind": "ServiceDeployment"],
            "resource": ["group": "apideployer.dev", "version": "v1alpha1", "resource": "servicedeployments"], "name": .string(name), "namespace": "default",
            "operation": .string(operation), "userInfo": ["username": .string(user), "groups": .array(groups.map(JSONValue.string))],
            "object": operation == "DELETE" ? .null : deployment(infrastructure), "dryRun": false,
        ]
        if let before { request["oldObject"] = deployment(before) }
        if let subResource { request["subResource"] = .string(subResource) }
        return ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request]
    }

    func answer(_ harness: APITestHarness, _ review: JSONValue) async throws -> JSONValue {
        let response = await harness.send("POST", AdmissionReviewer.path, body: review, token: nil)
        #expect(response.status == 200, "the webhook answers without the deployer's credentials")
        let body = try harness.json(response)
        #expect(body["kind"] == "AdmissionReview" && body["apiVersion"] == "admission.k8s.io/v1")
        #expect(body["response"]?["uid"] == review["request"]?["uid"])
        return body["response"] ?? .null
    }

    @Test func aProductionDeploymentIsRefusedWithoutDeployThereAndAdmittedForTheCIIdentity() async throws {
        let harness = try await PermissionTests.populated()
        let scientist = ["data-scientists", "system:authenticated"]

        let refused = try await answer(harness, Self.review("CREATE", name: "churn-prod-2", infrastructure: "prod", user: "alice", groups: scientist))
        #expect(refused["allowed"] == false && refused["status"]?["code"] == 403)
        #expect(refused["status"]?["message"]?.stringValue?.contains("infrastructure \"prod\"") == true, "\(refused)")

        let ci = try await answer(harness, Self.review("CREATE", name: "churn-prod-2", infrastructure: "prod", user: "system:serviceaccount:ci:deployer", groups: ["ci", "system:serviceaccounts"]))
        #expect(ci["allowed"] == true && ci["status"] == nil)

        let argo = ["system:serviceaccounts", "system:serviceaccounts:argocd", "system:authenticated"]
        let gitops = try await answer(harness, Self.review("CREATE", name: "churn-prod-2", infrastructure: "prod", user: "system:serviceaccount:argocd:argocd-application-controller", groups: argo))
        #expect(gitops["allowed"] == false, "a GitOps service account deploys only where its group is named")

        #expect(try await answer(harness, Self.review("CREATE", name: "churn-dev-2", infrastructure: "dev", user: "alice", groups: scientist))["allowed"] == true)
        let moved = try await answer(harness, Self.review("UPDATE", name: "churn-dev", infrastructure: "prod", before: "dev", user: "alice", groups: scientist))
        #expect(moved["allowed"] == false, "moving a deployment needs Deploy on the new infrastructure too")
        let removed = try await answer(harness, Self.review("DELETE", name: "churn-prod", infrastructure: "prod", before: "prod", user: "alice", groups: scientist))
        #expect(removed["allowed"] == false)
        let status = try await answer(harness, Self.review("UPDATE", name: "churn-prod", infrastructure: "prod", before: "prod", user: "alice", groups: scientist, subResource: "status"))
        #expect(status["allowed"] == false, "status belongs to the controller")
        let controller = try await answer(harness, Self.review("UPDATE", name: "churn-prod", infrastructure: "prod", before: "prod", user: "system:serviceaccount:apideployer-system:apideployer", groups: ["system:masters"], subResource: "status"))
        #expect(controller["allowed"] == true)
    }

    @Test func aReviewThatIsNotOneIsRefusedAsABadRequest() async throws {
        let harness = try await PermissionTests.populated()
        let stranger: JSONValue = ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": ["uid": "x", "kind": ["group": "apps", "kind": "Deployment"], "operation": "CREATE"]]
        let answer = try await answer(harness, stranger)
        #expect(answer["allowed"] == false && answer["status"]?["code"] == 400)
        #expect(await harness.send("POST", AdmissionReviewer.path, body: nil, token: nil).status == 400)
    }
}
