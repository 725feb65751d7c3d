import DeployerModel
import Foundation
import Testing

/// The public format: every shipped example validates, and the typed views decode it.
@Suite struct SpecExamplesTests {
    /// The shared examples use `<sha256>` placeholders; a digest stands in for them.
    static func load(_ folder: URL) throws -> [(String, JSONValue)] {
        try RepositoryPaths.yamlFiles(in: folder).flatMap { file in
            var text = try String(contentsOf: file, encoding: .utf8)
            text = text.replacingOccurrences(
                of: #""<sha256[^"]*>""#, with: "\"" + String(repeating: "ab", count: 32) + "\"", options: .regularExpression)
            return try JSONValue.parseYAMLDocuments(text).map { (file.lastPathComponent, $0) }
        }
    }

    @Test func sharedSpecExamplesValidate() throws {
        let documents = try Self.load(RepositoryPaths.specExamples)
        let objects = documents.filter { ResourceKind.byKind($0.1["kind"]?.stringValue ?? "") != nil }
        #expect(objects.count >= 9)
        for (file, document) in objects {
            let kind = try #require(ResourceKind.byKind(document["kind"]?.stringValue ?? ""))
            var object = document
            object["status"] = nil
            let result = kind.validate(object)
            #expect(result.errors.isEmpty, "\(file) \(document["metadata"]?["name"] ?? ""): \(result.errors)")
        }
    }

    /// The samples shipped with the manifests validate as the API would validate them.
    @Test func manifestSamplesValidate() throws {
        let documents = try Self.load(RepositoryPaths.manifestSamples)
        #expect(documents.count >= 6)
        for (file, document) in documents {
            let kind = try #require(ResourceKind.byKind(document["kind"]?.stringValue ?? ""), "\(file)")
            #expect(kind.validate(document).errors.isEmpty, "\(file) \(document["metadata"]?["name"] ?? ""): \(kind.validate(document).errors)")
        }
    }

    @Test func quickstartValidatesAndDecodesIntoTypedViews() throws {
        for (file, document) in try Self.load(RepositoryPaths.quickstart) {
            let kind = try #require(ResourceKind.byKind(document["kind"]?.stringValue ?? ""), "\(file)")
            let result = kind.validate(document)
            #expect(result.errors.isEmpty, "\(file): \(result.errors)")
            switch kind.kind {
            case "Infrastructure":
                let infrastructure = try result.object.decode(Infrastructure.self)
                guard case .static(let target) = infrastructure.spec.target else {
                    Issue.record("expected a static target")
                    continue
                }
                #expect(target.nodes.map(\.name) == ["node-a", "node-b"])
                #expect(infrastructure.spec.resyncPeriod == "5m")
            case "ServiceDeployment":
                let deployment = try result.object.decode(ServiceDeployment.self)
                #expect(deployment.spec.version == "v1")
                #expect(deployment.spec.enabled)
            case "PublishedService":
                #expect(try result.object.decode(PublishedService.self).spec.versions.map(\.version) == ["v1", "v2"])
            default:
                break
            }
        }
    }

    @Test func typedInfrastructuresRoundTripThroughTheSchema() throws {
        for (_, document) in try Self.load(RepositoryPaths.specExamples) where document["kind"] == "Infrastructure" {
            let validated = ResourceKind.infrastructure.validate(document).object
            let typed = try validated.decode(Infrastructure.self)
            var encoded = try JSONValue(encoding: typed)
            encoded["apiVersion"] = .string(ResourceKind.apiVersion)
            encoded["kind"] = "Infrastructure"
            let again = ResourceKind.infrastructure.validate(encoded)
            #expect(again.errors.isEmpty, "\(again.errors)")
            #expect(again.object["spec"] == validated["spec"])
        }
    }
}
