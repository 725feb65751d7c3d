import DeployerCore
import DeployerModel
import DeployerServer
import DeployerTesting
import Foundation
import Testing

/// Every role × verb × kind through the API, on the pattern users rely on: everyone may deploy
/// to Development, only CI to Production, people keep View there.
///
/// The expectations are written out per role (what it sees, edits, deletes and creates), not
/// computed by the rules under test; the test maps them onto HTTP answers: an object the role
/// may not see is 404 for every verb and absent from lists and watches; one it sees but may not
/// change is 403.
@Suite struct PermissionTests {
    /// What one role may do, by `plural/name`.
    struct Expected {
        let groups: [String]
        let sees: Set<String>
        let edits: Set<String>
        let deletes: Set<String>
        let creates: Set<String>
    }

    static let everyObject: [String] = [
        "stages/development", "stages/production", "infrastructures/dev", "infrastructures/prod", "publishedservices/churn",
        "publishedservices/fraud", "servicedeployments/churn-dev", "servicedeployments/churn-prod", "servicedeployments/fraud-dev",
        "servicedeployments/fraud-prod", "secrets/node-keys",
    ]

    /// Objects each role tries to create (dry run): `servicedeployments/new-SERVICE-INFRA` deploys
    /// that service there; `publishedservices/own-GROUP` grants GROUP admin.
    static let candidates: [String] = [
        "stages/staging", "infrastructures/test", "publishedservices/own-data-scientists", "publishedservices/own-platform-admins",
        "servicedeployments/new-churn-dev", "servicedeployments/new-churn-prod", "servicedeployments/new-fraud-dev",
        "servicedeployments/new-fraud-prod", "secrets/more-keys",
    ]

    static let seenByEveryone: Set<String> = ["stages/development", "stages/production", "infrastructures/dev", "infrastructures/prod"]

    static let roles: [String: Expected] = [
        "root": Expected(
            groups: ["system:masters"], sees: Set(everyObject), edits: Set(everyObject), deletes: Set(everyObject), creates: Set(candidates)),
        "ci": Expected(
            groups: ["ci"],
            sees: seenByEveryone.union([
                "publishedservices/churn", "publishedservices/fraud", "servicedeployments/churn-dev", "servicedeployments/churn-prod",
                "servicedeployments/fraud-dev", "servicedeployments/fraud-prod",
            ]),
            edits: ["servicedeployments/churn-dev", "servicedeployments/churn-prod", "servicedeployments/fraud-dev", "servicedeployments/fraud-prod"],
            deletes: ["servicedeployments/churn-dev", "servicedeployments/churn-prod", "servicedeployments/fraud-dev", "servicedeployments/fraud-prod"],
            creates: [
                "servicedeployments/new-churn-dev", "servicedeployments/new-churn-prod", "servicedeployments/new-fraud-dev",
                "servicedeployments/new-fraud-prod",
            ]),
        "alice": Expected(
            groups: ["data-scientists"],
            sees: seenByEveryone.union([
                "publishedservices/churn", "publishedservices/fraud", "servicedeployments/churn-dev", "servicedeployments/churn-prod",
                "servicedeployments/fraud-dev", "servicedeployments/fraud-prod",
            ]),
            edits: ["publishedservices/churn", "servicedeployments/churn-dev"],
            deletes: ["servicedeployments/churn-dev"],
            creates: ["publishedservices/own-data-scientists", "servicedeployments/new-churn-dev"]),
        "fred": Expected(
            groups: ["fraud-team"],
            sees: seenByEveryone.union(["publishedservices/fraud", "servicedeployments/fraud-dev", "servicedeployments/fraud-prod"]),
            edits: ["publishedservices/fraud", "servicedeployments/fraud-dev"],
            deletes: ["publishedservices/fraud", "servicedeployments/fraud-dev"],
            creates: ["servicedeployments/new-fraud-dev"]),
        "paula": Expected(
            groups: ["platform-admins"], sees: seenByEveryone, edits: ["infrastructures/prod"], deletes: [],
            creates: ["publishedservices/own-platform-admins"]),
        "nobody": Expected(groups: [], sees: seenByEveryone, edits: [], deletes: [], creates: []),
    ]

    @Test func everyRoleVerbAndKindGetsExactlyWhatTheRulesGrant() async throws {
        let harness = try await Self.populated()
        var failures: [String] = []
        for (role, expected) in Self.roles.sorted(by: { $0.key < $1.key }) {
            let token = try harness.token(for: role, groups: expected.groups)
            for object in Self.everyObject {
                let (plural, name) = Self.split(object)
                let path = Self.path(plural, name)
                let sees = expected.sees.contains(object)
                let hidden = { (allowed: Bool) in allowed ? 200 : (sees ? 403 : 404) }
                let get = await harness.send("GET", path, token: token).status
                let put = try await harness.replace(path, token: token, adminView: harness.json(await harness.send("GET", path)))
                let patch = await harness.send(
                    "PATCH", path, query: ["dryRun": "All"], body: ["metadata": ["labels": ["touched": "yes"]]],
                    contentType: "application/merge-patch+json", token: token
                ).status
                let delete = await harness.send("DELETE", path, query: ["dryRun": "All"], token: token).status
                let outcomes = [
                    ("get", get, sees ? 200 : 404), ("update", put, hidden(expected.edits.contains(object))),
                    ("patch", patch, hidden(expected.edits.contains(object))), ("delete", delete, hidden(expected.deletes.contains(object))),
                ]
                for (verb, got, want) in outcomes where got != want { failures.append("\(role) \(verb) \(object): \(got), expected \(want)") }
            }
            for plural in Set(Self.everyObject.map { Self.split($0).0 }) {
                let listed = try await harness.listNames(plural, token: token)
                let watched = try await harness.watchNames(plural, token: token)
                let want = Set(expected.sees.filter { $0.hasPrefix(plural + "/") }.map { Self.split($0).1 })
                if listed != want { failures.append("\(role) list \(plural): \(listed.sorted()), expected \(want.sorted())") }
                if watched != want { failures.append("\(role) watch \(plural): \(watched.sorted()), expected \(want.sorted())") }
            }
            for candidate in Self.candidates {
                let (plural, name) = Self.split(candidate)
                let status = await harness.send(
                    "POST", Self.path(plural, nil), query: ["dryRun": "All"], body: Self.newObject(plural, name), token: token
                ).status
                let want = expected.creates.contains(candidate) ? 201 : 403
                if status != want { failures.append("\(role) create \(candidate): \(status), expected \(want)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func serviceWritersChangeVersionsButOnlyAdminsTheRest() async throws {
        let harness = try await Self.populated()
        let alice = try harness.token(for: "alice", groups: ["data-scientists"])
        let path = Self.path("publishedservices", "churn")
        let versions = await harness.send(
            "PATCH", path, body: ["spec": ["versions": [["version": "v9", "package": ["sha256": .string(String(repeating: "b", count: 64))]]]]],
            contentType: "application/merge-patch+json", token: alice)
        #expect(versions.status == 200)
        let rename = await harness.send(
            "PATCH", path, body: ["spec": ["displayName": "mine now"]], contentType: "application/merge-patch+json", token: alice)
        #expect(rename.status == 403)
        #expect(try harness.json(rename)["message"]?.stringValue?.contains("needs admin") == true)
        let grab = await harness.send(
            "PATCH", path, body: ["spec": ["permissions": [["group": "data-scientists", "admin": true]]]],
            contentType: "application/merge-patch+json", token: alice)
        #expect(grab.status == 403, "a writer cannot make itself admin")
        let moveToProd = await harness.send(
            "PATCH", Self.path("servicedeployments", "churn-dev"), body: ["spec": ["infrastructure": "prod"]],
            contentType: "application/merge-patch+json", token: alice)
        #expect(moveToProd.status == 403, "Deploy is needed on the new infrastructure too")
        let status = await harness.send(
            "PATCH", Self.path("servicedeployments", "churn-dev") + "/status", body: ["status": ["observedGeneration": 7]],
            contentType: "application/merge-patch+json", token: alice)
        #expect(status.status == 403, "only the controller writes status")
    }

    @Test func whatCarriesTheControllersPowersStaysWithGlobalAdmins() async throws {
        let harness = try await Self.populated()
        let paula = try harness.token(for: "paula", groups: ["platform-admins"])
        let ci = try harness.token(for: "ci", groups: ["ci"])
        let fred = try harness.token(for: "fred", groups: ["fraud-team"])
        let patch = { (path: String, body: JSONValue, token: String) async in
            await harness.send("PATCH", path, body: body, contentType: "application/merge-patch+json", token: token).status
        }
        let prod = Self.path("infrastructures", "prod")
        let node: JSONValue = ["name": "a", "url": "http://203.0.113.9:1", "adminKeySecretRef": ["name": "node-keys", "key": "a"]]
        #expect(await patch(prod, ["spec": ["static": ["nodes": [node]]]], paula) == 403, "the node key would go to another URL")
        #expect(await patch(prod, ["spec": ["resyncPeriod": "1m"]], paula) == 200)
        let exec: JSONValue = ["spec": ["hooks": ["preDeploy": [["name": "x", "exec": ["command": ["/bin/true"], "timeoutSeconds": 5]]]]]]
        let http: JSONValue = ["spec": ["hooks": ["postDeploy": [["name": "notify", "http": ["url": "https://hooks.example.com/x", "timeoutSeconds": 5]]]]]]
        #expect(await patch(prod, exec, paula) == 403)
        #expect(await patch(prod, http, paula) == 200)
        let deployment = Self.path("servicedeployments", "churn-prod")
        #expect(await patch(deployment, exec, ci) == 403, "exec hooks run on the controller's machine")
        #expect(await patch(deployment, http, ci) == 200)
        let fraud = Self.path("publishedservices", "fraud")
        let keys: JSONValue = ["spec": ["auth": ["mode": "apiKeys", "apiKeys": [["secretRef": ["name": "node-keys", "key": "a"]]]]]]
        #expect(await patch(fraud, keys, fred) == 200, "API keys reach the nodes only as digests")
        let jwks: JSONValue = ["spec": ["auth": ["mode": "jwt", "apiKeys": .null, "jwt": ["issuer": "https://idp", "audience": "a", "jwksSecretRef": ["name": "node-keys", "key": "a"]]]]]
        let refused = await harness.send("PATCH", fraud, body: jwks, contentType: "application/merge-patch+json", token: fred)
        #expect(refused.status == 403)
        #expect(try harness.json(refused)["message"]?.stringValue?.contains("jwksSecretRef") == true)
        #expect(await patch(fraud, jwks, harness.adminToken) == 200, "global admins may")
    }

    @Test func aWatchShowsObjectsLeavingAndEnteringTheCallersView() async throws {
        let harness = try await Self.populated()
        let alice = try harness.token(for: "alice", groups: ["data-scientists"])
        let response = await harness.send(
            "GET", Self.path("publishedservices", nil), query: ["watch": "true", "resourceVersion": "0", "allowWatchBookmarks": "true"],
            token: alice)
        guard case .stream(let chunks) = response.body else {
            Issue.record("not a stream")
            return
        }
        let fraud = Self.path("publishedservices", "fraud")
        let hide: JSONValue = ["spec": ["permissions": [["group": "fraud-team", "admin": true]]]]
        let show: JSONValue = ["spec": ["permissions": [["group": "fraud-team", "admin": true], ["group": "data-scientists", "read": true]]]]
        _ = await harness.send("PATCH", fraud, body: hide, contentType: "application/merge-patch+json")
        _ = await harness.send("PATCH", fraud, body: show, contentType: "application/merge-patch+json")
        await harness.store.sendBookmarks()
        var seen: [String] = []
        for await chunk in chunks {
            let event = try JSONValue.parse(chunk.dropLast())
            if event["type"] == "BOOKMARK" { break }
            seen.append("\(event["type"]?.stringValue ?? "") \(event["object"]?["metadata"]?["name"]?.stringValue ?? "")")
        }
        #expect(seen.sorted() == ["ADDED churn", "ADDED fraud", "ADDED fraud", "DELETED fraud"].sorted())
        #expect(seen.suffix(2) == ["DELETED fraud", "ADDED fraud"])
    }

    @Test func deniedRequestsAreAuditedReadsToo() async throws {
        let harness = try await Self.populated()
        let nobody = try harness.token(for: "nobody", groups: [])
        _ = await harness.send("GET", Self.path("publishedservices", "fraud"), token: nobody)
        _ = await harness.send("DELETE", Self.path("infrastructures", "dev"), token: nobody)
        _ = await harness.send("GET", Self.path("infrastructures", "dev"), token: nobody)
        let denied = harness.audit.events.filter { $0["decision"] == "denied" }
        #expect(denied.count == 2, "the allowed read is not audited")
        #expect(denied.first?["msgType"] == "api-read" && denied.first?["status"] == 404 && denied.first?["user"] == "nobody")
        #expect(denied.last?["msgType"] == "api-write" && denied.last?["status"] == 403 && denied.last?["verb"] == "delete")
    }

    @Test func globalAdminsMayImpersonateOthersNobodyElse() async throws {
        let harness = try await Self.populated()
        let services = Self.path("publishedservices", nil)
        let asAlice = try harness.json(
            await harness.api.handle(
                APIRequest(
                    method: "GET", path: services,
                    headers: ["Authorization": "Bearer \(harness.adminToken)", "Impersonate-User": "alice", "Impersonate-Group": "data-scientists"])))
        #expect(Set((asAlice["items"]?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue }) == ["churn", "fraud"])
        let asFred = await harness.api.handle(
            APIRequest(
                method: "DELETE", path: Self.path("publishedservices", "churn"),
                headers: ["Authorization": "Bearer \(harness.adminToken)", "Impersonate-User": "fred", "Impersonate-Group": "fraud-team"]))
        #expect(asFred.status == 404, "fred cannot see churn")
        #expect(harness.audit.events.last?["user"] == "fred" && harness.audit.events.last?["impersonator"] == "admin")
        let alice = try harness.token(for: "alice", groups: ["data-scientists"])
        let escalation = await harness.api.handle(
            APIRequest(method: "GET", path: services, headers: ["Authorization": "Bearer \(alice)", "Impersonate-User": "admin"]))
        #expect(escalation.status == 403)
        #expect(harness.audit.events.last?["user"] == "alice" && harness.audit.events.last?["decision"] == "denied")
    }

    // MARK: - Fixtures

    /// A harness holding `SampleObjects.permissionWorld`.
    static func populated() async throws -> APITestHarness {
        let harness = try await APITestHarness()
        for document in try JSONValue.parseYAMLDocuments(SampleObjects.permissionWorld) {
            let kind = try #require(ResourceKind.lookup(document["kind"]?.stringValue ?? ""))
            let created = await harness.send("POST", path(kind.plural, nil), body: document)
            #expect(created.status == 201, "\(String(decoding: created.bodyBytes, as: UTF8.self))")
        }
        return harness
    }

    static func newObject(_ plural: String, _ name: String) -> JSONValue {
        let metadata: JSONValue = ["name": .string(name)]
        let apiVersion = JSONValue.string(ResourceKind.apiVersion)
        switch plural {
        case "stages":
            return ["apiVersion": apiVersion, "kind": "Stage", "metadata": metadata, "spec": ["displayName": "Staging", "order": 20]]
        case "infrastructures":
            return [
                "apiVersion": apiVersion, "kind": "Infrastructure", "metadata": metadata,
                "spec": [
                    "stage": "development", "type": "static",
                    "static": ["nodes": [["name": "a", "url": "http://127.0.0.1:3", "adminKeySecretRef": ["name": "node-keys", "key": "a"]]]],
                ],
            ]
        case "publishedservices":
            return [
                "apiVersion": apiVersion, "kind": "PublishedService", "metadata": metadata,
                "spec": [
                    "versions": [["version": "v1", "package": ["sha256": .string(String(repeating: "c", count: 64))]]],
                    "permissions": [["group": .string(String(name.dropFirst("own-".count))), "admin": true]],
                ],
            ]
        case "servicedeployments":
            let parts = name.split(separator: "-").suffix(2).map(String.init)
            return [
                "apiVersion": apiVersion, "kind": "ServiceDeployment", "metadata": metadata,
                "spec": ["service": .string(parts[0]), "infrastructure": .string(parts[1]), "version": "v1"],
            ]
        default:
            return ["apiVersion": apiVersion, "kind": "Secret", "metadata": metadata, "stringData": ["k": "v"]]
        }
    }

    static func path(_ plural: String, _ name: String?) -> String {
        "/apis/apideployer.dev/v1alpha1/namespaces/default/\(plural)" + (name.map { "/" + $0 } ?? "")
    }

    static func split(_ object: String) -> (String, String) {
        let parts = object.split(separator: "/", maxSplits: 1).map(String.init)
        return (parts[0], parts[1])
    }
}

extension APITestHarness {
    /// A token of a new user with these groups.
    func token(for user: String, groups: [String]) throws -> String {
        try identities.createUser(user, groups: groups)
        return try identities.createToken(user: user, groups: [], expires: nil, description: nil).secret
    }

    /// A dry-run PUT of the object (as an admin read it) with one more label.
    func replace(_ path: String, token: String, adminView: JSONValue) async throws -> Int {
        var object = adminView
        object["metadata"]?["labels"] = ["touched": "yes"]
        return await send("PUT", path, query: ["dryRun": "All"], body: object, token: token).status
    }

    func listNames(_ plural: String, token: String) async throws -> Set<String> {
        let list = try json(await send("GET", PermissionTests.path(plural, nil), token: token))
        return Set((list["items"]?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue })
    }

    /// The objects a fresh watch starts with (its ADDED events up to the first bookmark).
    func watchNames(_ plural: String, token: String) async throws -> Set<String> {
        let response = await send(
            "GET", PermissionTests.path(plural, nil), query: ["watch": "true", "resourceVersion": "0", "allowWatchBookmarks": "true"],
            token: token)
        guard case .stream(let chunks) = response.body else { throw APIError.internalError("not a stream") }
        await store.sendBookmarks()
        var names: Set<String> = []
        for await chunk in chunks {
            let event = try JSONValue.parse(chunk.dropLast())
            if event["type"] == "BOOKMARK" { break }
            if let name = event["object"]?["metadata"]?["name"]?.stringValue { names.insert(name) }
        }
        return names
    }
}
