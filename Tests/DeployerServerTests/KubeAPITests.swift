import DeployerCore
import DeployerModel
import DeployerServer
import DeployerTesting
import Testing

@Suite struct KubeAPITests {
    let base = APITestHarness.base

    @Test func requestsWithoutAValidTokenAreUnauthorized() async throws {
        let harness = try await APITestHarness()
        #expect(await harness.send("GET", base, token: nil).status == 401)
        #expect(await harness.send("GET", base, token: "wrong").status == 401)
        #expect(await harness.send("GET", "/version", token: nil).status == 200)
        #expect(await harness.send("GET", "/healthz", token: nil).status == 200)
    }

    @Test func discoveryIsAggregatedOnlyWhenAsked() async throws {
        let harness = try await APITestHarness()
        let aggregated = await harness.send("GET", "/apis", accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")
        #expect(aggregated.header("Content-Type") == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        let resources = try harness.json(aggregated)["items"]?.arrayValue?.first?["versions"]?.arrayValue?.first?["resources"]?.arrayValue ?? []
        #expect(resources.compactMap { $0["resource"]?.stringValue }.sorted() == ["infrastructures", "leases", "publishedservices", "secrets", "servicedeployments", "stages"])
        let legacy = try harness.json(await harness.send("GET", "/apis"))
        #expect(legacy["kind"] == "APIGroupList")
        let version = try harness.json(await harness.send("GET", "/version"))
        #expect(version["minor"] == "32")
    }

    @Test func theOpenAPIDocumentAdvertisesServerSideFieldValidation() async throws {
        let harness = try await APITestHarness()
        let index = try harness.json(await harness.send("GET", "/openapi/v3"))
        let url = try #require(index["paths"]?["apis/apideployer.dev/v1alpha1"]?["serverRelativeURL"]?.stringValue)
        let (path, query) = APIRequest.splitTarget(url)
        let document = try harness.json(await harness.send("GET", path, query: query))
        let patch = document["paths"]?["/apis/apideployer.dev/v1alpha1/namespaces/{namespace}/servicedeployments/{name}"]?["patch"]
        #expect(patch?["x-kubernetes-group-version-kind"]?["kind"] == "ServiceDeployment")
        #expect(patch?["parameters"]?.arrayValue?.contains { $0["name"] == "fieldValidation" } == true)
        #expect(await harness.send("GET", "/openapi/v2").status == 404)
    }

    @Test func invalidObjectsGet422WithOneCausePerFieldAndNothingIsStored() async throws {
        let harness = try await APITestHarness()
        var object = SampleObjects.deployment("bad")
        object["spec"]?["bogus"] = 1
        object["spec"]?["version"] = 2
        object["spec"]?["generations"] = ["strategy": "Sticky", "entries": [["version": "v1", "weight": 100]]]
        let response = await harness.send("POST", base, body: object)
        #expect(response.status == 422)
        let status = try harness.json(response)
        #expect(status["reason"] == "Invalid")
        let fields = Set(status["details"]?["causes"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? [])
        #expect(fields == ["spec.bogus", "spec.version", "spec.generations.strategy"])
        #expect(await harness.send("GET", base + "/bad").status == 404)
    }

    @Test func unknownFieldsAreDroppedWithAWarningUnderWarn() async throws {
        let harness = try await APITestHarness()
        var object = SampleObjects.deployment("lenient")
        object["spec"]?["bogus"] = 1
        let response = await harness.send("POST", base, query: ["fieldValidation": "Warn"], body: object)
        #expect(response.status == 201)
        #expect(response.header("Warning")?.contains("unknown field \\\"spec.bogus\\\"") == true)
        #expect(try harness.json(response)["spec"]?["bogus"] == nil)
    }

    @Test func putNeedsAResourceVersionAndStaleOnesConflict() async throws {
        let harness = try await APITestHarness()
        let created = try harness.json(await harness.send("POST", base, body: SampleObjects.deployment("a")))
        var withoutVersion = created
        withoutVersion["metadata"]?["resourceVersion"] = nil
        #expect(await harness.send("PUT", base + "/a", body: withoutVersion).status == 422)
        var changed = created
        changed["spec"]?["version"] = "v2"
        #expect(await harness.send("PUT", base + "/a", body: changed).status == 200)
        let conflict = await harness.send("PUT", base + "/a", body: changed)
        #expect(conflict.status == 409)
        #expect(try harness.json(conflict)["message"]?.stringValue?.contains("the object has been modified") == true)
    }

    @Test func mergeAndJSONPatchesApply() async throws {
        let harness = try await APITestHarness()
        _ = await harness.send("POST", base, body: SampleObjects.deployment("a"))
        let merged = await harness.send("PATCH", base + "/a", body: ["spec": ["version": "v2"]], contentType: "application/merge-patch+json")
        #expect(try harness.json(merged)["spec"]?["version"] == "v2")
        #expect(try harness.json(merged)["metadata"]?["generation"] == 2)
        let patched = await harness.send(
            "PATCH", base + "/a", body: [["op": "test", "path": "/spec/version", "value": "v2"], ["op": "replace", "path": "/spec/version", "value": "v3"]],
            contentType: "application/json-patch+json")
        #expect(try harness.json(patched)["spec"]?["version"] == "v3")
        let failedTest = await harness.send(
            "PATCH", base + "/a", body: [["op": "test", "path": "/spec/version", "value": "v1"]], contentType: "application/json-patch+json")
        #expect(failedTest.status == 422)
        let strategic = await harness.send("PATCH", base + "/a", body: ["spec": [:]], contentType: "application/strategic-merge-patch+json")
        #expect(strategic.status == 415)
    }

    @Test func serverSideApplyCreatesThenChangesNothingWhenRepeated() async throws {
        let harness = try await APITestHarness()
        let query = ["fieldManager": "kubectl", "force": "false"]
        let first = await harness.send("PATCH", base + "/a", query: query, body: SampleObjects.deployment("a"), contentType: "application/apply-patch+yaml")
        #expect(first.status == 201)
        let second = await harness.send("PATCH", base + "/a", query: query, body: SampleObjects.deployment("a"), contentType: "application/apply-patch+yaml")
        #expect(second.status == 200)
        #expect(try harness.json(first)["metadata"]?["resourceVersion"] == harness.json(second)["metadata"]?["resourceVersion"])
        var labelled = SampleObjects.deployment("a")
        labelled["metadata"]?["labels"] = ["team": "risk"]
        _ = await harness.send("PATCH", base + "/a", query: query, body: labelled, contentType: "application/apply-patch+yaml")
        let removed = await harness.send("PATCH", base + "/a", query: query, body: SampleObjects.deployment("a"), contentType: "application/apply-patch+yaml")
        #expect(try harness.json(removed)["metadata"]?["labels"] == nil, "a field the manager stopped applying is removed")
        let missingManager = await harness.send("PATCH", base + "/a", body: SampleObjects.deployment("a"), contentType: "application/apply-patch+yaml")
        #expect(missingManager.status == 422)
    }

    @Test func statusIsOnlyWrittenThroughTheSubresource() async throws {
        let harness = try await APITestHarness()
        _ = await harness.send("POST", base, body: SampleObjects.deployment("a"))
        let status: JSONValue = ["status": ["observedGeneration": 1, "conditions": [SampleObjects.readyCondition(generation: 1)]], "spec": ["version": "v9"]]
        let main = try harness.json(await harness.send("PATCH", base + "/a", body: ["status": ["observedGeneration": 1]], contentType: "application/merge-patch+json"))
        #expect(main["status"] == nil)
        let written = try harness.json(await harness.send("PATCH", base + "/a/status", body: status, contentType: "application/merge-patch+json"))
        #expect(written["status"]?["observedGeneration"] == 1)
        #expect(written["spec"]?["version"] == "v1")
        #expect(written["metadata"]?["generation"] == 1)
    }

    @Test func tablesCarryThePrinterColumns() async throws {
        let harness = try await APITestHarness()
        _ = await harness.send("POST", base, body: SampleObjects.deployment("a"))
        _ = await harness.send(
            "PATCH", base + "/a/status", body: ["status": ["conditions": [SampleObjects.readyCondition(generation: 1)]]],
            contentType: "application/merge-patch+json")
        let response = await harness.send("GET", base, accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
        #expect(response.header("Content-Type") == "application/json;as=Table;v=v1;g=meta.k8s.io")
        let table = try harness.json(response)
        let names = table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names.prefix(6) == ["Name", "Service", "Infrastructure", "Versions", "Ready", "Reason"])
        let cells = table["rows"]?.arrayValue?.first?["cells"]?.arrayValue ?? []
        #expect(cells.prefix(6) == ["a", "churn", "dev-static", "", "True", "RolloutComplete"])
    }

    @Test func deletesAnswerWithAStatusOrTheFinalizingObject() async throws {
        let harness = try await APITestHarness()
        var object = SampleObjects.deployment("held")
        object["metadata"]?["finalizers"] = ["apideployer.dev/cleanup"]
        _ = await harness.send("POST", base, body: object)
        let finalizing = try harness.json(await harness.send("DELETE", base + "/held"))
        #expect(finalizing["metadata"]?["deletionTimestamp"] != nil)
        _ = await harness.send("POST", base, body: SampleObjects.deployment("free"))
        let deleted = try harness.json(await harness.send("DELETE", base + "/free", body: ["propagationPolicy": "Background"]))
        #expect(deleted["kind"] == "Status")
        #expect(deleted["status"] == "Success")
    }

    @Test func unknownPathsAndMethodsGetStatusErrors() async throws {
        let harness = try await APITestHarness()
        let missing = await harness.send("GET", "/apis/apideployer.dev/v1alpha1/namespaces/default/widgets")
        #expect(missing.status == 404)
        #expect(try harness.json(missing)["kind"] == "Status")
        #expect(await harness.send("POST", base + "/a").status == 405)
        let protobuf = await harness.send("POST", base, body: SampleObjects.deployment("p"), contentType: "application/vnd.kubernetes.protobuf")
        #expect(protobuf.status == 415)
        let garbage = await harness.api.handle(
            APIRequest(method: "POST", path: base, headers: ["Authorization": "Bearer \(harness.adminToken)"], body: Array("{nope".utf8)))
        #expect(garbage.status == 400)
    }

    @Test func aWatchStreamsNewlineDelimitedEventsAndReportsExpiry() async throws {
        let harness = try await APITestHarness()
        let created = try harness.json(await harness.send("POST", base, body: SampleObjects.deployment("a")))
        let version = try #require(created["metadata"]?["resourceVersion"]?.stringValue)
        let response = await harness.send("GET", base, query: ["watch": "true", "resourceVersion": version, "timeoutSeconds": "30"])
        guard case .stream(let chunks) = response.body else {
            Issue.record("not a stream")
            return
        }
        _ = await harness.send("PATCH", base + "/a", body: ["spec": ["version": "v2"]], contentType: "application/merge-patch+json")
        for await chunk in chunks {
            #expect(chunk.last == UInt8(ascii: "\n"))
            let event = try JSONValue.parse(chunk.dropLast())
            #expect(event["type"] == "MODIFIED")
            #expect(event["object"]?["spec"]?["version"] == "v2")
            break
        }
        await harness.store.compactHistory()
        let expired = await harness.send("GET", base, query: ["watch": "1", "resourceVersion": "1"])
        guard case .stream(let errorChunks) = expired.body else {
            Issue.record("not a stream")
            return
        }
        for await chunk in errorChunks {
            let event = try JSONValue.parse(chunk.dropLast())
            #expect(event["type"] == "ERROR")
            #expect(event["object"]?["code"] == 410)
            break
        }
    }
}

@Suite struct WatchBookmarkTests {
    @Test func aFilteredWatchReceivesBookmarksBehindItsEvents() async throws {
        let harness = try await APITestHarness()
        let base = APITestHarness.base
        _ = await harness.send("POST", base, body: SampleObjects.deployment("watched"))
        let response = await harness.send(
            "GET", base, query: ["watch": "true", "resourceVersion": "1", "allowWatchBookmarks": "true", "fieldSelector": "metadata.name=watched"])
        guard case .stream(let chunks) = response.body else {
            Issue.record("not a stream")
            return
        }
        _ = await harness.send("PATCH", base + "/watched", body: ["spec": ["version": "v2"]], contentType: "application/merge-patch+json")
        for index in 0..<3 { _ = await harness.send("POST", base, body: SampleObjects.deployment("other\(index)")) }
        await harness.store.sendBookmarks()
        var types: [String] = []
        for await chunk in chunks {
            let event = try JSONValue.parse(chunk.dropLast())
            types.append(event["type"]?.stringValue ?? "")
            if event["type"] == "BOOKMARK" {
                #expect(event["object"]?["metadata"]?["resourceVersion"] == "5")
                #expect(event["object"]?["kind"] == "ServiceDeployment")
                break
            }
        }
        #expect(types == ["MODIFIED", "BOOKMARK"])
    }
}
