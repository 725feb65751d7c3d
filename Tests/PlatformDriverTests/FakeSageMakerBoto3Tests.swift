import DeployerModel
import Foundation
import PlatformTesting
import Testing

/// The real boto3 client against the project's SageMaker fake (`Peers/boto3_sagemaker.py`): the
/// fake's wire format is what botocore expects from SageMaker, S3 and SageMaker Runtime.
@Suite struct FakeSageMakerBoto3Tests {
    @Test func boto3ReadsTheFakeAsItReadsSageMaker() async throws {
        let fake = FakeSageMaker(buckets: ["model-artifacts"])
        try await fake.serve { url in
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/boto3_sagemaker.py").path
            let python = try CloudPython.interpreter()
            let output = try await Task.detached { try CloudPython.output(python, [script, url, fake.accessKeyID, fake.secret]) }.value
            let seen = try JSONValue.parse(Array(output.utf8))
            #expect(seen["object"] == "artifact")
            #expect(seen["duplicateModel"] == "ValidationException")
            #expect(seen["creating"] == ["Creating", "InService"])
            #expect(seen["modelEnvironment"]?["APIDEPLOYER_VERSION"] == "v1")
            #expect(seen["invocation"]?["result"]?["version"] == "v1" && seen["variant"] == "churn-v1")
            #expect(seen["updating"] == ["Updating", "InService"] && seen["configAfterUpdate"] == "churn-v2")
            #expect(seen["unknownEndpoint"] == "ValidationError")
            #expect(seen["deleting"] == "Deleting" && seen["gone"] == "ValidationException")
            #expect(seen["forged"] == "SignatureDoesNotMatch")
        }
    }
}
