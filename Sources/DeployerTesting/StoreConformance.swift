import DeployerCore
import DeployerModel

/// A failed conformance expectation.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public let description: String
}

/// The behaviour every `ResourceStore` must have, as named checks that any store's tests run.
public enum StoreConformance {
    /// One named check.
    public struct Check: Sendable, CustomStringConvertible {
        public let name: String
        public let run: @Sendable (any ResourceStore) async throws -> Void
        public var description: String { name }
    }

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(description: message()) }
    }

    static func expectError(_ code: Int, _ reason: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as APIError {
            try expect(error.code == code && error.reason == reason, "expected \(code) \(reason), got \(error.code) \(error.reason): \(error.message)")
            return
        }
        throw ConformanceFailure(description: "expected \(code) \(reason), but the call succeeded")
    }

    static let deployments = ResourceKind.serviceDeployment

    static func key(_ name: String) -> ObjectKey { ObjectKey(deployments, namespace: "default", name: name) }

    /// Every check.
    public static let all: [Check] = [
        Check(name: "create sets uid, generation 1 and a resource version, and drops status") { store in
            var object = SampleObjects.deployment("a")
            object["status"] = ["observedGeneration": 7]
            let created = try await store.create(object, kind: deployments, dryRun: false).document
            let metadata = created["metadata"]!
            try expect(!(metadata["uid"]?.stringValue ?? "").isEmpty, "uid missing")
            try expect(metadata["generation"] == 1, "generation is \(String(describing: metadata["generation"]))")
            try expect(metadata["resourceVersion"]?.stringValue != nil, "resourceVersion missing")
            try expect(metadata["creationTimestamp"]?.stringValue?.hasSuffix("Z") == true, "creationTimestamp missing")
            try expect(created["status"] == nil, "status was kept on create")
            try expect(created["spec"]?["enabled"] == true, "default spec.enabled not applied")
        },
        Check(name: "create with a taken name is AlreadyExists") { store in
            _ = try await store.create(SampleObjects.deployment("a"), kind: deployments, dryRun: false)
            try await expectError(409, "AlreadyExists") {
                _ = try await store.create(SampleObjects.deployment("a"), kind: deployments, dryRun: false)
            }
        },
        Check(name: "invalid objects are refused with one cause per field and not stored") { store in
            var object = SampleObjects.deployment("bad")
            object["spec"]?["bogus"] = 1
            object["spec"]?["enabled"] = "yes"
            object["spec"]?["service"] = nil
            do {
                _ = try await store.create(object, kind: deployments, dryRun: false)
                throw ConformanceFailure(description: "invalid object accepted")
            } catch let error as APIError {
                try expect(error.code == 422, "code \(error.code)")
                let fields = Set(error.causes.map(\.field))
                try expect(fields == ["spec.bogus", "spec.enabled", "spec.service"], "causes \(fields)")
            }
            try await expectError(404, "NotFound") { _ = try await store.get(key("bad")) }
        },
        Check(name: "update with a stale resourceVersion is Conflict") { store in
            let created = try await store.create(SampleObjects.deployment("a"), kind: deployments, dryRun: false).document
            var first = created
            first["spec"]?["version"] = "v2"
            _ = try await store.update(first, kind: deployments)
            var stale = created
            stale["spec"]?["version"] = "v3"
            try await expectError(409, "Conflict") { _ = try await store.update(stale, kind: deployments) }
        },
        Check(name: "generation bumps by one on spec changes only; identical writes change nothing") { store in
            let created = try await store.create(SampleObjects.deployment("a"), kind: deployments, dryRun: false)
            var labelled = created.document
            labelled["metadata"]?["labels"] = ["team": "risk"]
            let afterLabels = try await store.update(labelled, kind: deployments)
            try expect(afterLabels.document["metadata"]?["generation"] == 1, "labels bumped generation")
            let same = try await store.update(afterLabels.document, kind: deployments)
            try expect(same.resourceVersion == afterLabels.resourceVersion, "no-op write changed the resource version")
            var changed = same.document
            changed["spec"]?["version"] = "v2"
            let afterSpec = try await store.update(changed, kind: deployments)
            try expect(afterSpec.document["metadata"]?["generation"] == 2, "spec change did not bump generation to 2")
        },
        Check(name: "status is written only through the status path") { store in
            let created = try await store.create(SampleObjects.deployment("a"), kind: deployments, dryRun: false)
            var withStatus = created.document
            withStatus["status"] = ["observedGeneration": 1, "conditions": [SampleObjects.readyCondition(generation: 1)]]
            withStatus["spec"]?["version"] = "v9"
            let statusWritten = try await store.update(withStatus, kind: deployments, subresource: .status).document
            try expect(statusWritten["spec"]?["version"] == "v1", "status write changed spec")
            try expect(statusWritten["metadata"]?["generation"] == 1, "status write bumped generation")
            try expect(statusWritten["status"]?["observedGeneration"] == 1, "status not written")
            var mainWrite = statusWritten
            mainWrite["status"] = ["observedGeneration": 5]
            mainWrite["spec"]?["version"] = "v2"
            let mainWritten = try await store.update(mainWrite, kind: deployments).document
            try expect(mainWritten["status"]?["observedGeneration"] == 1, "main write changed status")
            try expect(mainWritten["spec"]?["version"] == "v2", "main write lost spec")
        },
        Check(name: "finalizers hold deletion until they are removed") { store in
            var object = SampleObjects.deployment("a")
            object["metadata"]?["finalizers"] = ["apideployer.dev/cleanup"]
            _ = try await store.create(object, kind: deployments, dryRun: false)
            guard case .finalizing(let marked) = try await store.delete(key("a"), preconditions: DeletePreconditions(), dryRun: false)
            else { throw ConformanceFailure(description: "object with a finalizer was deleted at once") }
            let document = marked.document
            try expect(document["metadata"]?["deletionTimestamp"] != nil, "deletionTimestamp not set")
            try expect(document["metadata"]?["generation"] == 2, "deletion did not bump generation")
            var addFinalizer = document
            addFinalizer["metadata"]?["finalizers"] = ["apideployer.dev/cleanup", "other.dev/x"]
            try await expectError(422, "Invalid") { _ = try await store.update(addFinalizer, kind: deployments) }
            var release = document
            release["metadata"]?["finalizers"] = []
            _ = try await store.update(release, kind: deployments)
            try await expectError(404, "NotFound") { _ = try await store.get(key("a")) }
        },
        Check(name: "delete preconditions are enforced") { store in
            _ = try await store.create(SampleObjects.deployment("a"), kind: deployments, dryRun: false)
            try await expectError(409, "Conflict") {
                _ = try await store.delete(key("a"), preconditions: DeletePreconditions(uid: "other"), dryRun: false)
            }
            guard case .deleted = try await store.delete(key("a"), preconditions: DeletePreconditions(), dryRun: false) else {
                throw ConformanceFailure(description: "plain delete did not delete")
            }
        },
        Check(name: "dry runs validate and store nothing") { store in
            _ = try await store.create(SampleObjects.deployment("a"), kind: deployments, dryRun: true)
            try await expectError(404, "NotFound") { _ = try await store.get(key("a")) }
        },
        Check(name: "label selectors filter lists") { store in
            _ = try await store.create(SampleObjects.deployment("a", labels: ["env": "dev"]), kind: deployments, dryRun: false)
            _ = try await store.create(SampleObjects.deployment("b", labels: ["env": "prod"]), kind: deployments, dryRun: false)
            _ = try await store.create(SampleObjects.deployment("c"), kind: deployments, dryRun: false)
            let selectors: [(String, [String])] = [
                ("env=dev", ["a"]), ("env!=dev", ["b", "c"]), ("env in (dev,prod)", ["a", "b"]), ("env", ["a", "b"]), ("!env", ["c"]),
            ]
            for (text, expected) in selectors {
                let result = try await store.list(deployments, ListQuery(labelSelector: try LabelSelector(parsing: text)))
                let names = result.items.map(\.key.name)
                try expect(names == expected, "selector \(text) gave \(names)")
            }
        },
        Check(name: "lists page with continue tokens over one snapshot") { store in
            for index in 0..<7 {
                _ = try await store.create(SampleObjects.deployment("d\(index)"), kind: deployments, dryRun: false)
            }
            var names: [String] = []
            var token: String?
            var versions = Set<UInt64>()
            repeat {
                let page = try await store.list(deployments, ListQuery(limit: 3, continueToken: token))
                names += page.items.map(\.key.name)
                versions.insert(page.resourceVersion)
                token = page.continueToken
                if token != nil {
                    _ = try await store.create(SampleObjects.deployment("late\(names.count)"), kind: deployments, dryRun: false)
                }
            } while token != nil
            try expect(names == (0..<7).map { "d\($0)" }, "pages gave \(names)")
            try expect(versions.count == 1, "pages had different resource versions")
        },
        Check(name: "a watch from a resource version sees every later change once, in order") { store in
            let start = try await store.create(SampleObjects.deployment("a"), kind: deployments, dryRun: false).resourceVersion
            let stream = try await store.watch(deployments, ListQuery(), from: .after(start), bookmarks: false)
            var expected: [(WatchEventType, String)] = []
            for index in 0..<20 {
                let name = "w\(index % 4)"
                if index < 4 {
                    _ = try await store.create(SampleObjects.deployment(name), kind: deployments, dryRun: false)
                    expected.append((.added, name))
                } else {
                    let current = try await store.get(key(name)).document
                    var changed = current
                    changed["spec"]?["version"] = .string("v\(index)")
                    _ = try await store.update(changed, kind: deployments)
                    expected.append((.modified, name))
                }
            }
            _ = try await store.delete(key("w0"), preconditions: DeletePreconditions(), dryRun: false)
            expected.append((.deleted, "w0"))
            var seen: [(WatchEventType, String, UInt64)] = []
            for await item in stream {
                guard case .event(let event) = item else { throw ConformanceFailure(description: "unexpected expiry") }
                seen.append((event.type, event.object.key.name, event.resourceVersion))
                if seen.count == expected.count { break }
            }
            try expect(seen.map(\.0) == expected.map(\.0) && seen.map(\.1) == expected.map(\.1), "events \(seen)")
            try expect(seen.map(\.2) == seen.map(\.2).sorted() && Set(seen.map(\.2)).count == seen.count, "versions out of order")
        },
        Check(name: "a watch from the current state starts with ADDED for each object") { store in
            _ = try await store.create(SampleObjects.deployment("a"), kind: deployments, dryRun: false)
            _ = try await store.create(SampleObjects.deployment("b"), kind: deployments, dryRun: false)
            let query = ListQuery(fieldSelector: try FieldSelector(parsing: "metadata.name=b"))
            let stream = try await store.watch(deployments, query, from: .currentState, bookmarks: false)
            for await item in stream {
                guard case .event(let event) = item else { throw ConformanceFailure(description: "unexpected expiry") }
                try expect(event.type == .added && event.object.key.name == "b", "first event \(event.type) \(event.object.key.name)")
                break
            }
        },
    ]
}
