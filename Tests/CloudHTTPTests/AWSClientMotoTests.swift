import AsyncHTTPClient
import DeployerModel
import Foundation
import PlatformTesting
import Testing

@testable import CloudHTTP

/// The AWS client's signed calls against moto's server on loopback with signature checking on:
/// S3 objects and the SageMaker model, endpoint configuration and endpoint lifecycle; a wrong
/// secret is refused.
@Suite struct AWSClientMotoTests {
    @Test func s3AndSageMakerCallsAreAcceptedWithSignatureCheckingOn() async throws {
        try await MotoServer.with { moto in
            let client = moto.client()
            try await client.createBucket("models")
            let artifact = Array("model bytes \(UUID())".utf8)
            try await client.putObject(bucket: "models", key: "churn/v1/model.tar.gz", body: artifact)
            #expect(try await client.getObject(bucket: "models", key: "churn/v1/model.tar.gz") == artifact)
            let missing = await #expect(throws: AWSError.self) { _ = try await client.getObject(bucket: "models", key: "nope") }
            #expect(missing?.code == "NoSuchKey" && missing?.status == 404)

            let sagemaker = { (operation: String, body: JSONValue) in
                try await client.json(service: "sagemaker", target: "SageMaker.\(operation)", body)
            }
            _ = try await sagemaker("CreateModel", [
                "ModelName": "churn-v1", "ExecutionRoleArn": "arn:aws:iam::123456789012:role/deployer",
                "PrimaryContainer": ["Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api-node:1", "ModelDataUrl": "s3://models/churn/v1/model.tar.gz"],
            ])
            #expect(try await sagemaker("DescribeModel", ["ModelName": "churn-v1"])["ModelName"] == "churn-v1")
            _ = try await sagemaker("CreateEndpointConfig", [
                "EndpointConfigName": "churn-v1",
                "ProductionVariants": [["VariantName": "v1", "ModelName": "churn-v1", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1, "InitialVariantWeight": 1]],
            ])
            _ = try await sagemaker("CreateEndpoint", ["EndpointName": "churn", "EndpointConfigName": "churn-v1"])
            #expect(try await sagemaker("DescribeEndpoint", ["EndpointName": "churn"])["EndpointStatus"] == "InService")
            _ = try await sagemaker("DeleteEndpoint", ["EndpointName": "churn"])
            _ = try await sagemaker("DeleteEndpointConfig", ["EndpointConfigName": "churn-v1"])
            _ = try await sagemaker("DeleteModel", ["ModelName": "churn-v1"])
            let gone = await #expect(throws: AWSError.self) { _ = try await sagemaker("DescribeModel", ["ModelName": "churn-v1"]) }
            #expect(gone?.code == "ValidationException" && gone?.isRetryable == false)

            let forged = moto.client(secret: "not-the-secret")
            let refused = await #expect(throws: AWSError.self) { _ = try await forged.json(service: "sagemaker", target: "SageMaker.ListModels", [:]) }
            #expect(refused?.code == "SignatureDoesNotMatch" && refused?.status == 403)
            #expect(refused?.description.contains(moto.secret) == false)
        }
    }
}
