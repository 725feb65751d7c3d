import DeployerModel
import Testing

/// Bad specs are refused with one cause per bad field, each naming its path.
@Suite struct ValidationTests {
    let base: JSONValue = [
        "apiVersion": "apideployer.dev/v1alpha1", "kind": "Infrastructure", "metadata": ["name": "dev-static"],
        "spec": [
            "stage": "development", "type": "static",
            "static": [
                "nodes": [
                    ["name": "node-a", "url": "http://127.0.0.1:12000", "adminKeySecretRef": ["name": "keys", "key": "a"]],
                    ["name": "node-b", "url": "http://127.0.0.1:12001", "adminKeySecretRef": ["name": "keys", "key": "b"]],
                ]
            ],
        ],
    ]

    func errors(_ object: JSONValue) -> [String: FieldError.Reason] {
        Dictionary(ResourceKind.infrastructure.validate(object).errors.map { ($0.field, $0.reason) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func theBaseIsValid() {
        #expect(errors(base).isEmpty)
    }

    @Test func everyKindOfMistakeIsNamedByItsPath() {
        var object = base
        object["spec"]?["static"]?["nodes"] = [
            ["name": "node-a", "url": "http://127.0.0.1:12000", "adminKeySecretRef": ["name": "keys", "key": "a"], "colour": "red"],
            ["name": "node-b", "url": 12001, "adminKeySecretRef": ["name": "keys"]],
        ]
        object["spec"]?["type"] = "static"
        object["spec"]?["resyncPeriod"] = "soon"
        object["spec"]?["logging"] = ["routingKey": "x", "logQueries": "yes"]
        let found = errors(object)
        #expect(found["spec.static.nodes[0].colour"] == .forbidden)
        #expect(found["spec.static.nodes[1].url"] == .typeInvalid)
        #expect(found["spec.static.nodes[1].adminKeySecretRef.key"] == .required)
        #expect(found["spec.resyncPeriod"] == .invalid)
        #expect(found["spec.logging.logQueries"] == .typeInvalid)
        #expect(found.count == 5)
    }

    @Test func aBadEnumListsTheSupportedValues() throws {
        var object = base
        object["spec"]?["type"] = "mainframe"
        let error = try #require(ResourceKind.infrastructure.validate(object).errors.first)
        #expect(error.field == "spec.type")
        #expect(error.reason == .notSupported)
        #expect(error.message.contains("\"sagemaker\""))
    }

    @Test func twoTypedBlocksAtOnceAreRefused() {
        var object = base
        object["spec"]?["sagemaker"] = [
            "region": "eu-west-1", "credentialsSecretRef": ["name": "aws"], "executionRoleArn": "arn", "image": "img",
            "artifactBucket": "b", "instanceType": "ml.m5.large",
        ]
        #expect(errors(object) == ["spec.sagemaker": .forbidden])
    }

    @Test func theBlockNamedByTypeMustBePresent() {
        var object = base
        object["spec"]?["type"] = "kubernetes"
        let found = errors(object)
        #expect(found["spec.kubernetes"] == .required)
        #expect(found["spec.static"] == .forbidden)
    }

    @Test func deploymentsNeedExactlyOneWayToChooseVersions() {
        let deployment: JSONValue = [
            "apiVersion": "apideployer.dev/v1alpha1", "kind": "ServiceDeployment", "metadata": ["name": "d"],
            "spec": ["service": "churn", "infrastructure": "dev"],
        ]
        #expect(ResourceKind.serviceDeployment.validate(deployment).errors.map(\.field) == ["spec.version"])
        var split = deployment
        split["spec"]?["generations"] = ["strategy": "Hash", "entries": [["version": "v1", "weight": 90], ["version": "v2", "weight": 20]]]
        let splitErrors = ResourceKind.serviceDeployment.validate(split).errors
        #expect(splitErrors.map(\.field) == ["spec.generations.entries"])
        #expect(splitErrors.first?.detail == "weights must add up to 100")
    }

    @Test func namesFollowKubernetesRules() {
        var object = base
        object["metadata"]?["name"] = "Dev_Static"
        object["metadata"]?["labels"] = ["team": "risk analytics"]
        let found = errors(object)
        #expect(found["metadata.name"] == .invalid)
        #expect(found["metadata.labels[\"team\"]"] == .invalid)
    }

    @Test func eventTopicsAndRoutingKeysAreSafeFolderNames() {
        for good in ["apinode-query", "churn_dev.v2", "A", String(repeating: "k", count: 128)] { #expect(NameRules.isEventName(good), "\(good)") }
        for bad in ["", ".", "..", "a/b", "a b", "é", String(repeating: "k", count: 129)] { #expect(!NameRules.isEventName(bad), "\(bad)") }
    }

    @Test func defaultsAreApplied() {
        let result = ResourceKind.infrastructure.validate(base)
        #expect(result.object["spec"]?["resyncPeriod"] == "5m")
    }

    @Test func nonStrictPoliciesDropUnknownFieldsWithWarnings() {
        var object = base
        object["spec"]?["extra"] = true
        let result = ResourceKind.infrastructure.validate(object, unknownFields: .warn)
        #expect(result.errors.isEmpty)
        #expect(result.object["spec"]?["extra"] == nil)
        #expect(result.warnings == ["unknown field \"spec.extra\""])
    }
}
