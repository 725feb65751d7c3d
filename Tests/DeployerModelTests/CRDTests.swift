import DeployerModel
import Foundation
import Testing

/// The committed CRDs are exactly what the code generates (`apideployer gen crds`).
@Suite struct CRDTests {
    @Test(arguments: ResourceKind.all.map(\.kind))
    func committedCRDMatchesTheGeneratedOne(kindName: String) throws {
        let kind = try #require(ResourceKind.byKind(kindName))
        let file = RepositoryPaths.crds.appendingPathComponent(CRDGenerator.fileName(for: kind))
        let committed = try JSONValue.parseYAMLDocuments(try String(contentsOf: file, encoding: .utf8))
        let isCurrent = committed == [CRDGenerator.crd(for: kind)]
        #expect(isCurrent, "manifests/crds/\(file.lastPathComponent) is stale: run `apideployer gen crds`")
    }

    /// The chart ships the same CRDs, byte for byte (`apideployer gen crds` writes both).
    @Test func theChartsCRDsAreTheGeneratedOnes() throws {
        let manifests = try RepositoryPaths.yamlFiles(in: RepositoryPaths.crds)
        let chart = try RepositoryPaths.yamlFiles(in: RepositoryPaths.chartCRDs)
        #expect(manifests.map(\.lastPathComponent) == chart.map(\.lastPathComponent))
        for (generated, shipped) in zip(manifests, chart) {
            #expect(try Data(contentsOf: generated) == Data(contentsOf: shipped), "\(shipped.lastPathComponent) drifted; run apideployer gen crds")
        }
    }

    @Test func crdsHaveStatusPrinterColumnsAndTheCategory() throws {
        let crd = CRDGenerator.crd(for: .serviceDeployment)
        let version = try #require(crd["spec"]?["versions"]?.arrayValue?.first)
        #expect(version["subresources"]?["status"] == [:])
        #expect(crd["spec"]?["names"]?["categories"] == ["apideployer"])
        #expect(crd["spec"]?["names"]?["shortNames"] == ["sdep"])
        let columns = version["additionalPrinterColumns"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(columns.contains("Ready"))
        #expect(version["schema"]?["openAPIV3Schema"]?["properties"]?["status"]?["properties"]?["conditions"]?["x-kubernetes-list-type"] == "map")
    }
}
